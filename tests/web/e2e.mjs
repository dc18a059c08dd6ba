// Browser end-to-end test of the web app (web/README.md test hooks) against a real
// `workguard demo`: logins of every role, the risk board, the scripted H2S incident
// turning its zone red, its acknowledgement (refused to the team leader by the red SOP,
// done by the safety manager), the confined-space permit suspended with verifiable
// evidence, a blocked permit application on a phone, the certificate check and the
// language switch.
//
//   WG_BINARY=build/release/workguard node tests/web/e2e.mjs
//
// Env: WG_BINARY (the workguard binary), WG_ARTIFACTS (screenshots; default
// build/test-artifacts/web), WG_CHROMIUM (default /usr/bin/chromium), WG_WEB_ROOT (serve
// web/ from a directory instead of the embedded copy), WG_DEMO_SPEED (demo script speed;
// default 1, as a new user sees it: the red H2S alarm of the demo timeline comes ~90 s
// after the start). Exits 77 (CTest: skipped) only when
// Chromium or playwright-core is absent. docs/testing-web.md.

import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  SKIP, ROLES, DEMO_PASSWORD, loadBrowserKit, findBinary, startDemo, waitFor, apiLogin,
  apiGet, guardPage, artifactsDir, hasCJK,
} from './lib.mjs';

const kit = await loadBrowserKit();
if (kit.missing) {
  console.log(`SKIP web_e2e: ${kit.missing}`);
  process.exit(SKIP);
}

const ART = artifactsDir();
// Screenshots of an earlier run would mix with this one's.
for (const f of fs.readdirSync(ART)) if (/^\d\d-.*\.png$/.test(f)) fs.rmSync(path.join(ART, f));
let shotNo = 0;
const T = { short: 10000, medium: 20000, incident: 240000 };

let demo;
let browser;
let base;
let safetyToken;
const ctx = {}; // facts found by one step and used by later ones

before(async () => {
  const binary = findBinary();
  demo = await startDemo({ binary, speed: Number(process.env.WG_DEMO_SPEED || 1) });
  base = demo.url;
  console.log(`# demo at ${base} (${demo.args.join(' ')})`);
  browser = await kit.launch();
  safetyToken = await apiLogin(base, 'safety');
});

after(async () => {
  if (board) await closeChecked(board, 'board (end)').catch((e) => console.log(`# ${e.message}`));
  if (browser) await browser.close().catch(() => {});
  if (demo) {
    fs.writeFileSync(path.join(ART, 'demo-output.txt'), demo.output());
    await demo.stop();
  }
});

// ---- helpers ---------------------------------------------------------------------

async function shot(page, name) {
  shotNo += 1;
  const file = path.join(ART, `${String(shotNo).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: false }).catch(() => {});
  return file;
}

// A fresh browser context (own storage) with its page guarded.
async function newPage(opts = {}) {
  const context = await browser.newContext({ locale: 'zh-CN', timezoneId: 'Asia/Shanghai', ...opts });
  const page = await context.newPage();
  page.setDefaultTimeout(T.short);
  const guard = guardPage(page, base);
  return { context, page, guard };
}

const tid = (page, id) => page.locator(`[data-testid="${id}"]`);

// Waits for a test hook to be visible; a missing hook fails with its name.
async function need(page, id, timeout = T.short) {
  const loc = tid(page, id).first();
  try {
    await loc.waitFor({ state: 'visible', timeout });
  } catch {
    throw new Error(`hook data-testid="${id}" not visible after ${timeout} ms (url ${page.url()})`);
  }
  return loc;
}

async function attrIs(loc, attr, want, timeout, what) {
  return waitFor(async () => {
    const v = await loc.getAttribute(attr, { timeout: 1000 });
    return (want instanceof RegExp ? want.test(v || '') : v === want) ? v || true : false;
  }, { timeout, message: what || `${attr}=${want}` });
}

async function uiLogin(page, user, password = DEMO_PASSWORD) {
  await page.goto(`${base}/#/login`);
  await (await need(page, 'login-username')).fill(user);
  await (await need(page, 'login-password')).fill(password);
  await (await need(page, 'login-submit')).click();
}

async function loggedIn(user, opts) {
  const p = await newPage(opts);
  await uiLogin(p.page, user);
  await need(p.page, 'user-menu', T.medium);
  return p;
}

async function closeChecked(p, step) {
  try {
    p.guard.check(step);
  } finally {
    await p.context.close().catch(() => {});
  }
}

// ---- (a) logins ------------------------------------------------------------------

test('a: every role logs in and sees the app shell; a wrong password is refused', async () => {
  const failures = []; // every role is tried; the failures are reported together
  for (const role of ROLES) {
    const p = await newPage();
    try {
      await uiLogin(p.page, role);
      const menu = await need(p.page, 'user-menu', T.medium);
      assert.match(await menu.innerText(), /\S/, `${role}: empty user menu`);
      await need(p.page, 'nav-board');
      await need(p.page, 'lang-switch');
      // The default route has rendered something (a view, or a clear forbidden page).
      await waitFor(async () => (await p.page.locator('#view').innerText()).trim().length > 0,
        { timeout: T.short, message: `${role}: #view renders` });
      await p.page.waitForTimeout(300); // let late console errors of the first render arrive
      await shot(p.page, `login-${role}`);
      await closeChecked(p, `login ${role}`);
    } catch (e) {
      failures.push(`${role}: ${e.message}`);
      await p.context.close().catch(() => {});
    }
  }
  const p = await newPage();
  try {
    p.guard.allow(/status of 401/);
    await uiLogin(p.page, 'safety', 'wrong-password-123');
    const err = await need(p.page, 'login-error');
    assert.ok((await err.innerText()).trim(), 'login-error is empty');
    assert.equal(await tid(p.page, 'user-menu').count(), 0, 'a wrong password must not log in');
    await shot(p.page, 'login-wrong-password');
  } catch (e) {
    failures.push(`wrong password: ${e.message}`);
  } finally {
    await closeChecked(p, 'wrong password').catch((e) => failures.push(`wrong password: ${e.message}`));
  }
  assert.deepEqual(failures, [], failures.join('\n'));
});

// ---- (b) + (c) board -------------------------------------------------------------

let board; // the safety manager's board page, kept open for (c)

test('b: the risk board renders zones and point cards', async () => {
  board = await loggedIn('safety');
  const { page } = board;
  await page.goto(`${base}/#/board`);
  const map = await need(page, 'board-map', T.medium);
  await attrIs(map, 'data-ready', '1', T.medium, 'board-map data-ready=1');
  await waitFor(async () => (await page.locator('[data-testid^="zone-"]').count()) > 0,
    { timeout: T.short, message: 'zone-<CODE> polygons on the board' });
  await waitFor(async () => (await page.locator('[data-testid^="point-card-"]').count()) > 0,
    { timeout: T.short, message: 'point-card-<ID> on the board' });
  const levels = await page.locator('[data-testid^="zone-"]').evaluateAll(
    (els) => els.map((e) => e.getAttribute('data-level')));
  for (const l of levels) assert.match(l || '', /^(red|yellow|blue|none)$/, `zone data-level ${l}`);
  await shot(page, 'board');
  board.guard.check('board');
});

test('c: the scripted H2S incident turns its zone red on the board', async () => {
  assert.ok(board, 'board page from step b');
  const { page } = board;
  // The first red alarm of the demo script (an H2S point).
  const points = (await apiGet(base, safetyToken, '/api/v1/points')).points;
  const alarm = await waitFor(async () => {
    const r = await apiGet(base, safetyToken, '/api/v1/alarms?state=active_unacked,active_acked&min_level=red&limit=100');
    // The H2S alarm (another red one, e.g. the guardian away, may follow it).
    const red = (r.alarms || []).filter((a) => a.level === 'red');
    const kindOf = (a) => (points.find((p) => p.id === a.point) || {}).kind;
    return red.find((a) => kindOf(a) === 'h2s') || null;
  }, { timeout: T.incident, interval: 1000, message: 'a red alarm in GET /api/v1/alarms (the scripted H2S surge)' });
  const pt = points.find((p) => p.id === alarm.point) || {};
  const zone = alarm.zone || pt.zone;
  const site = alarm.site || pt.site;
  assert.ok(zone, `zone of red alarm ${JSON.stringify(alarm)}`);
  ctx.alarm = alarm;
  ctx.zone = zone;
  ctx.site = site;
  console.log(`# red alarm #${alarm.id} at point ${alarm.point}, zone ${zone}, site ${site}`);
  const tab = tid(page, `site-tab-${site}`);
  if (await tab.count()) await tab.first().click();
  const z = tid(page, `zone-${zone}`).first();
  await attrIs(z, 'data-level', 'red', T.medium, `zone-${zone} data-level=red`);
  const card = tid(page, `point-card-${alarm.point}`).first();
  if (await card.count()) await attrIs(card, 'data-level', 'red', T.short, `point-card-${alarm.point} red`);
  await shot(page, `board-zone-${zone}-red`);
  board.guard.check('board red');
});

// ---- (d) acknowledge -------------------------------------------------------------

test('d: the red alarm: a guardian is refused, the team leader acknowledges it', async () => {
  assert.ok(ctx.alarm, 'red alarm from step c');
  const id = ctx.alarm.id;
  const unacked = async () => (await apiGet(base, safetyToken, `/api/v1/alarms/${id}`)).alarm.state === 'active_unacked';
  // The red SOP (data/rules/monitor/sop.json) lets the team leader on site (who stops the
  // work) or the safety manager acknowledge; a guardian opens the console, tries, and is
  // told who may.
  const note = 'e2e: 已通知现场停止作业，人员撤离，强制通风';
  const ackVia = async (page, who) => {
    await (await need(page, 'nav-alarms')).click();
    const row = await need(page, `alarm-row-${id}`, T.medium);
    assert.equal(await row.getAttribute('data-level'), 'red');
    await shot(page, `alarms-console-${who}`);
    await (await need(page, `alarm-ack-${id}`)).click();
    await (await need(page, 'ack-note')).fill(note);
    await shot(page, `alarm-ack-form-${who}`);
    await (await need(page, 'ack-submit')).click();
  };
  const gp = await loggedIn('guardian');
  try {
    gp.guard.allow(/status of 403/);
    await ackVia(gp.page, 'guardian');
    const err = await need(gp.page, 'ack-error', T.short);
    assert.ok(hasCJK(await err.innerText()), 'the refusal is explained in Chinese');
    assert.ok(await unacked(), 'a guardian cannot acknowledge a red alarm');
    await shot(gp.page, 'alarm-ack-refused-guardian');
  } finally {
    await closeChecked(gp, 'ack (guardian)');
  }
  const p = await loggedIn('leader');
  try {
    const { page } = p;
    await ackVia(page, 'leader');
    const acked = await waitFor(async () => {
      const a = (await apiGet(base, safetyToken, `/api/v1/alarms/${id}`)).alarm;
      return /_acked$/.test(a.state) ? a : null;
    }, { timeout: T.short, message: `alarm ${id} acknowledged in the API` });
    assert.match(JSON.stringify(acked), /已通知现场停止作业/, 'the ack note is stored');
    assert.match(JSON.stringify(acked), /leader/, 'the acknowledgement names the team leader');
    // The console shows it acknowledged.
    await waitFor(async () => {
      const r = tid(page, `alarm-row-${id}`).first();
      if (await r.count()) return /_acked$/.test((await r.getAttribute('data-state')) || '');
      return (await tid(page, 'ack-done').count()) > 0;
    }, { timeout: T.short, message: `alarm-row-${id} data-state *_acked (or ack-done)` });
    await shot(page, 'alarm-acked');
  } finally {
    await closeChecked(p, 'ack (leader)');
  }
});

// ---- (e) + (f) permit suspended, its evidence ------------------------------------

test('e: the confined-space permit of that zone is suspended', async () => {
  assert.ok(ctx.zone, 'zone from step c');
  const all = (await apiGet(base, safetyToken, '/api/v1/permits')).permits || [];
  ctx.zonePermit = all.find((x) => x.type === 'confined_space' && x.zone === ctx.zone) || all[0];
  const permit = await waitFor(async () => {
    const ps = (await apiGet(base, safetyToken, '/api/v1/permits')).permits || [];
    return ps.find((x) => x.type === 'confined_space' && x.zone === ctx.zone && x.state === 'suspended') || null;
  }, { timeout: T.medium, message: `a suspended confined_space permit in zone ${ctx.zone} (API)` });
  ctx.permit = permit;
  const p = await loggedIn('safety');
  try {
    const { page } = p;
    await (await need(page, 'nav-permits')).click();
    const row = await need(page, `permit-row-${permit.number}`, T.medium);
    await attrIs(row, 'data-state', 'suspended', T.short, `permit-row-${permit.number} suspended`);
    await shot(page, 'permits-list');
    await row.click();
    const st = await need(page, 'permit-state', T.medium);
    await need(page, 'permit-detail');
    const stText = `${await st.innerText()} ${(await st.getAttribute('data-state')) || ''}`;
    assert.match(stText, /suspended|暂停|中止|挂起/, `permit-state shows suspended: ${stText}`);
    await shot(page, 'permit-suspended');
  } finally {
    await closeChecked(p, 'permit suspended');
  }
});

test('f: the permit evidence exports and verifies', async () => {
  // The suspended permit of (e); without one, the zone's confined-space permit (so the
  // evidence path is still exercised).
  ctx.permit = ctx.permit || ctx.zonePermit;
  assert.ok(ctx.permit, 'permit from step e');
  const p = await loggedIn('safety');
  try {
    const { page } = p;
    await (await need(page, 'nav-permits')).click();
    await (await need(page, `permit-row-${ctx.permit.number}`, T.medium)).click();
    await need(page, 'permit-detail', T.medium);
    // Export: the package downloads.
    const exportBtn = await need(page, 'permit-evidence-export');
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: T.medium }), exportBtn.click()]);
    const pkg = path.join(ART, `evidence-${ctx.permit.number}${path.extname(download.suggestedFilename()) || '.zip'}`);
    await download.saveAs(pkg);
    assert.ok(fs.statSync(pkg).size > 0, 'the evidence package is not empty');
    // Verify in place.
    await (await need(page, 'permit-evidence-verify')).click();
    const res = await need(page, 'evidence-result', T.medium);
    await attrIs(res, 'data-ok', '1', T.medium, 'permit evidence-result data-ok=1');
    await shot(page, 'permit-evidence-verified');
    // The exported file verifies on the evidence page too; a tampered copy does not.
    await (await need(page, 'nav-evidence')).click();
    await (await tid(page, 'evidence-file').first()).setInputFiles(pkg);
    const vb = tid(page, 'evidence-verify');
    if (await vb.count() && await vb.first().isEnabled()) await vb.first().click();
    await attrIs(await need(page, 'evidence-result', T.medium), 'data-ok', '1', T.medium,
      'evidence page: exported package data-ok=1');
    await shot(page, 'evidence-page-verified');
    const bad = path.join(ART, `evidence-${ctx.permit.number}-tampered${path.extname(pkg)}`);
    fs.writeFileSync(bad, tamper(fs.readFileSync(pkg)));
    p.guard.allow(/status of 4\d\d/);
    await page.reload();
    await (await need(page, 'evidence-file', T.medium)).setInputFiles(bad);
    if (await vb.count() && await vb.first().isEnabled()) await vb.first().click();
    await attrIs(await need(page, 'evidence-result', T.medium), 'data-ok', '0', T.medium,
      'evidence page: tampered package data-ok=0');
    await shot(page, 'evidence-page-tampered');
  } finally {
    await closeChecked(p, 'evidence');
  }
});

// A copy of an evidence package that still parses but whose content changed: one letter
// or digit inside a fact's recorded `entry` (the package format, docs/formats); a file of
// another shape gets one byte flipped.
function tamper(buf) {
  const text = buf.toString('utf8');
  const at = text.indexOf('"entry"', Math.floor(text.length / 2));
  const from = at >= 0 ? at : text.indexOf('"entry"');
  if (from >= 0) {
    for (let i = from + 40; i < text.length; i++) {
      const c = text[i];
      if (/[0-9a-zA-Z]/.test(c)) {
        const r = c === '7' ? '3' : /[0-9]/.test(c) ? '7' : c === 'x' ? 'y' : 'x';
        return Buffer.from(text.slice(0, i) + r + text.slice(i + 1), 'utf8');
      }
    }
  }
  const b = Buffer.from(buf);
  b[Math.floor(b.length / 2)] ^= 0x01;
  return b;
}

// ---- (g) phone: a blocked application --------------------------------------------

test('g: on a phone, applying with an expired performer is blocked, in Chinese', async () => {
  const p = await loggedIn('leader', {
    viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2,
  });
  try {
    const { page } = p;
    await page.goto(`${base}/#/permits`);
    await (await need(page, 'new-permit', T.medium)).tap();
    // 1 type, 2 site, 3 zone (a plan zone button, else its code typed).
    await (await need(page, 'apply-type-hot_work', T.medium)).tap();
    await (await need(page, 'apply-site-workshop')).tap();
    await waitFor(async () => (await page.locator('[data-testid^="apply-zone"]').count()) > 0,
      { timeout: T.short, message: 'apply-zone-<code> buttons or the apply-zone input' });
    const zoneBtn = page.locator('[data-testid^="apply-zone-"]');
    if (await zoneBtn.count()) {
      await zoneBtn.first().tap();
    } else {
      await (await need(page, 'apply-zone')).fill('WS-2');
      await (await need(page, 'apply-next')).tap();
    }
    // 4 what: the template fills the title; keep it.
    const title = await need(page, 'apply-title', T.medium);
    if (!(await title.inputValue()).trim()) await title.fill('e2e 钢结构平台补焊');
    await shot(page, 'phone-apply-what');
    await (await need(page, 'apply-next')).tap();
    // 5 people: the welder JX-005, whose certificate is expired.
    const perf = await need(page, 'apply-performer', T.medium);
    await perf.fill('JX-005');
    const line = await need(page, 'apply-performer-result', T.medium);
    await waitFor(async () => (await line.locator('[data-testid="cert-line"]').count()) > 0,
      { timeout: T.short, message: 'cert-line under apply-performer' });
    await shot(page, 'phone-apply-people');
    await (await need(page, 'apply-next')).tap();
    // 6 time: the proposed window; 7 review: the rulebook's verdict.
    await need(page, 'apply-start', T.medium);
    await (await need(page, 'apply-next')).tap();
    const verdict = await need(page, 'apply-verdict', T.medium);
    await waitFor(async () => (await verdict.getAttribute('data-verdict')) !== null,
      { timeout: T.medium, message: 'apply-verdict data-verdict' });
    await shot(page, 'phone-apply-blocked');
    const kind = await verdict.getAttribute('data-verdict');
    const text = await verdict.innerText();
    assert.match(kind, /block/i, `apply-verdict data-verdict is blocked: ${kind} ${text}`);
    const blocks = verdict.locator('[data-testid="verdict-item"][data-ok="0"][data-severity="block"]');
    assert.ok(await blocks.count() > 0, 'at least one blocking verdict-item');
    const items = [];
    for (let i = 0; i < await blocks.count(); i++) {
      const it = blocks.nth(i);
      items.push({ rule: await it.getAttribute('data-rule'), field: await it.getAttribute('data-field'), text: await it.innerText() });
    }
    console.log(`# blocking items: ${JSON.stringify(items)}`);
    const cert = items.find((x) => /cert|qualif|licen/i.test(`${x.rule} ${x.field}`) || /证|资格/.test(x.text));
    assert.ok(cert, `a blocking item about the performer's certificate: ${JSON.stringify(items)}`);
    assert.ok(hasCJK(cert.text), `verdict text is Chinese: ${cert.text}`);
    assert.ok(/GB\s*30871/.test(cert.text) || cert.text.includes(cert.rule),
      `verdict cites GB 30871 or the rule id: ${cert.text}`);
    const submit = tid(page, 'apply-submit').first();
    assert.ok(await submit.isDisabled(), 'apply-submit is disabled while blocked');
  } finally {
    await closeChecked(p, 'phone apply');
  }
});

// ---- (h) certificates ------------------------------------------------------------

test('h: the certificate check answers for a worker (valid and expired)', async () => {
  const p = await loggedIn('safety');
  try {
    const { page } = p;
    await (await need(page, 'nav-certs')).click();
    const q = await need(page, 'cert-query', T.medium);
    await q.fill('JX-005');
    await (await need(page, 'cert-verify')).click();
    const res = await need(page, 'cert-result', T.medium);
    await attrIs(res, 'data-ok', '0', T.short, 'cert-result data-ok=0 for the expired welder JX-005');
    assert.ok(hasCJK(await res.innerText()), 'the result is in Chinese');
    await shot(page, 'cert-expired');
    await q.fill('JX-001');
    await (await need(page, 'cert-verify')).click();
    await attrIs(tid(page, 'cert-result').first(), 'data-ok', '1', T.medium, 'cert-result data-ok=1 for JX-001');
    await shot(page, 'cert-valid');
  } finally {
    await closeChecked(p, 'certs');
  }
});

// ---- (i) language ----------------------------------------------------------------

test('i: the language switch turns the navigation English', async () => {
  const p = await loggedIn('safety');
  try {
    const { page } = p;
    const nav = await need(page, 'nav-board');
    const zh = (await nav.innerText()).trim();
    assert.ok(hasCJK(zh), `nav in Chinese first: ${zh}`);
    await (await need(page, 'lang-switch')).click();
    const en = await waitFor(async () => {
      const s = (await tid(page, 'nav-board').first().innerText()).trim();
      return s !== zh && !hasCJK(s) && /[A-Za-z]/.test(s) ? s : null;
    }, { timeout: T.short, message: 'nav-board text in English' });
    console.log(`# nav-board: ${zh} -> ${en}`);
    const lang = await page.evaluate(() => localStorage.getItem('wg.lang'));
    assert.equal(lang, 'en');
    await shot(page, 'lang-en');
  } finally {
    await closeChecked(p, 'language');
  }
});
