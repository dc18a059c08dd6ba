// Shared helpers of the browser tests (tests/web/e2e.mjs) and the board bench
// (scripts/board-bench): locate Chromium and playwright-core, run `workguard demo` on a
// fresh data directory, talk to its API, poll with explicit timeouts, and guard a page
// against console errors and requests leaving the origin.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const SKIP = 77; // CTest SKIP_RETURN_CODE
export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DEMO_PASSWORD = 'workguard-demo';
export const ROLES = ['admin', 'safety', 'leader', 'guardian', 'approver', 'supervisor', 'regulator'];

// Chromium and playwright-core, or null with the reason (the caller skips with 77).
export async function loadBrowserKit() {
  const exe = process.env.WG_CHROMIUM || '/usr/bin/chromium';
  if (!fs.existsSync(exe)) return { missing: `no Chromium at ${exe} (set WG_CHROMIUM)` };
  const pwDir = process.env.WG_PLAYWRIGHT ||
    path.join(REPO, 'tools', 'web', 'node_modules', 'playwright-core');
  const entry = path.join(pwDir, 'index.mjs');
  if (!fs.existsSync(entry)) return { missing: `no playwright-core at ${pwDir} (run scripts/bootstrap)` };
  const pw = await import(pathToFileURL(entry).href);
  const chromium = pw.chromium || (pw.default && pw.default.chromium);
  return {
    chromium,
    launch: (extraArgs = []) => chromium.launch({
      executablePath: exe, headless: true, args: ['--no-sandbox', ...extraArgs],
    }),
  };
}

export function findBinary() {
  if (process.env.WG_BINARY) {
    if (!fs.existsSync(process.env.WG_BINARY)) throw new Error(`WG_BINARY=${process.env.WG_BINARY} does not exist (build the workguard target)`);
    return path.resolve(process.env.WG_BINARY);
  }
  const candidates = [process.env.WG_BINARY, path.join(REPO, 'build', 'release', 'workguard'),
    path.join(REPO, 'build', 'asan', 'workguard')].filter(Boolean);
  for (const c of candidates) if (fs.existsSync(c)) return path.resolve(c);
  throw new Error(`no workguard binary (tried ${candidates.join(', ')}); set WG_BINARY`);
}

// Options of `workguard demo` this binary knows (from its --help).
export function demoOptions(binary) {
  const r = spawnSync(binary, ['demo', '--help'], { encoding: 'utf8', timeout: 20000 });
  const text = `${r.stdout || ''}${r.stderr || ''}`;
  return {
    speed: /--speed\b/.test(text),
    extraPoints: /--extra-points\b/.test(text),
    webRoot: /--web-root\b/.test(text),
  };
}

// Starts `workguard demo` on a fresh temp data dir and a free port. Resolves once the
// printed URL answers. `stop()` sends SIGTERM, then SIGKILL after 10 s, and removes the dir.
export async function startDemo({ binary, speed, extraPoints, webRoot, timeoutMs = 90000, log } = {}) {
  binary = binary || findBinary();
  const opts = demoOptions(binary);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wg-web-'));
  const args = ['demo', '--data', path.join(dir, 'data'), '--listen', '127.0.0.1:0'];
  const applied = {};
  if (speed && opts.speed) { args.push('--speed', String(speed)); applied.speed = speed; }
  if (extraPoints && opts.extraPoints) { args.push('--extra-points', String(extraPoints)); applied.extraPoints = extraPoints; }
  webRoot = webRoot || process.env.WG_WEB_ROOT;
  if (webRoot && opts.webRoot) { args.push('--web-root', webRoot); applied.webRoot = webRoot; }
  const spawnedAt = performance.now();
  const spawnedWall = Date.now();
  // Its own process group, so that a forced stop also takes its mosquitto.
  const proc = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const killGroup = () => { try { process.kill(-proc.pid, 'SIGKILL'); } catch { /* gone */ } };
  const out = [];
  const logFile = path.join(dir, 'demo.log');
  const sink = fs.createWriteStream(logFile);
  let url = null;
  let exited = null;
  let resolveUrl;
  const urlSeen = new Promise((res) => { resolveUrl = res; });
  const onData = (chunk) => {
    const s = chunk.toString('utf8');
    sink.write(s);
    out.push(s);
    if (log) log(s);
    if (!url) {
      const m = out.join('').match(/http:\/\/(127\.0\.0\.1|localhost|\[::1\]):(\d+)\/?/);
      if (m && Number(m[2]) > 0) { url = `http://${m[1]}:${m[2]}`; resolveUrl(url); }
    }
  };
  proc.stdout.on('data', onData);
  proc.stderr.on('data', onData);
  const exitP = new Promise((res) => proc.on('exit', (code, sig) => { exited = { code, sig }; res(exited); }));

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (!exited) {
      proc.kill('SIGTERM');
      const t = setTimeout(() => { if (!exited) killGroup(); }, 10000);
      await exitP;
      clearTimeout(t);
    }
    killUsing(dir); // the demo's mosquitto, should the demo have left it
    sink.end();
    const keep = process.env.WG_KEEP_DEMO_LOG;
    if (keep) { try { fs.copyFileSync(logFile, keep); } catch { /* best effort */ } }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  // Never leave the server or its data behind, whatever happens to this process (a CTest
  // timeout sends SIGTERM, Ctrl-C SIGINT).
  const abandon = () => {
    if (!exited) killGroup();
    killUsing(dir);
    try { fs.rmSync(dir, { recursive: true, force: true }); } catch { /* best effort */ }
  };
  process.once('exit', abandon);
  for (const sig of ['SIGTERM', 'SIGINT']) {
    process.once(sig, async () => {
      // The demo stops its own mosquitto (another process group) on SIGTERM: give it 5 s.
      if (!exited) {
        try { proc.kill('SIGTERM'); } catch { /* gone */ }
        await Promise.race([exitP, sleep(5000)]);
      }
      abandon();
      process.exit(128 + (sig === 'SIGTERM' ? 15 : 2));
    });
  }

  try {
    const got = await Promise.race([
      urlSeen,
      exitP.then((e) => { throw new Error(`workguard demo exited (${e.code ?? e.sig}) before printing its URL:\n${out.join('')}`); }),
      sleep(timeoutMs).then(() => { throw new Error(`workguard demo printed no URL in ${timeoutMs} ms:\n${out.join('')}`); }),
    ]);
    await waitFor(async () => {
      try { return (await fetch(`${got}/`)).ok; } catch { return false; }
    }, { timeout: 30000, message: 'the demo server answers GET /' });
    return { url: got, proc, dir, stop, output: () => out.join(''), applied, args, spawnedAt, spawnedWall };
  } catch (e) {
    await stop();
    throw e;
  }
}

// SIGKILLs the processes whose command line names `dir` (a temp dir of ours: the demo's
// mosquitto runs in its own process group, and does not answer SIGTERM).
function killUsing(dir) {
  let entries = [];
  try { entries = fs.readdirSync('/proc'); } catch { return; }
  for (const d of entries) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    let cmd = '';
    try { cmd = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8'); } catch { continue; }
    if (cmd.includes(`${dir}/`)) { try { process.kill(Number(d), 'SIGKILL'); } catch { /* gone */ } }
  }
}

export function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

// Polls `fn` until it returns a truthy value (returned) or `timeout` ms pass (throws with
// `message` and the last value / error).
export async function waitFor(fn, { timeout = 10000, interval = 200, message = 'condition' } = {}) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) { last = e; }
    if (Date.now() > end) {
      const detail = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`timed out after ${timeout} ms waiting for ${message} (last: ${detail})`);
    }
    await sleep(interval);
  }
}

export async function apiLogin(base, username, password = DEMO_PASSWORD) {
  const r = await fetch(`${base}/api/v1/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  if (!r.ok) throw new Error(`login ${username}: HTTP ${r.status} ${await r.text()}`);
  return (await r.json()).token;
}

export async function apiGet(base, token, p) {
  const r = await fetch(`${base}${p}`, { headers: { authorization: `Bearer ${token}` } });
  if (!r.ok) throw new Error(`GET ${p}: HTTP ${r.status} ${await r.text()}`);
  return r.json();
}

// Collects what must never happen on a page: console errors, uncaught exceptions and
// requests to another origin. `allow(re)` tolerates console errors matching `re` until
// `disallow()` (e.g. the 401 of a wrong password).
export function guardPage(page, base) {
  const origin = new URL(base).origin;
  const problems = [];
  let allowed = [];
  // Development aid only (never set in CTest): WG_E2E_ALLOW, a regex of console errors to
  // tolerate, e.g. while the binary lacks a route the web app already calls.
  const devAllow = process.env.WG_E2E_ALLOW ? new RegExp(process.env.WG_E2E_ALLOW) : null;
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const text = msg.text();
    if (allowed.some((re) => re.test(text))) return;
    const loc0 = msg.location();
    if (devAllow && devAllow.test(`${text} ${loc0 && loc0.url}`)) return;
    const loc = msg.location();
    problems.push(`console error: ${text}${loc && loc.url ? ` (${loc.url}:${loc.lineNumber})` : ''}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('request', (req) => {
    const u = req.url();
    if (u.startsWith('data:') || u.startsWith('blob:') || u === 'about:blank') return;
    let o;
    try { o = new URL(u).origin; } catch { o = u; }
    if (o !== origin) problems.push(`request outside the origin: ${req.method()} ${u}`);
  });
  return {
    problems,
    allow(re) { allowed.push(re); },
    disallow() { allowed = []; },
    take() { return problems.splice(0, problems.length); },
    check(step) {
      const p = problems.splice(0, problems.length);
      if (p.length) throw new Error(`${step}: ${p.length} problem(s) on the page:\n  ${p.join('\n  ')}`);
    },
  };
}

// The artifacts directory (created).
export function artifactsDir() {
  const d = process.env.WG_ARTIFACTS || path.join(REPO, 'build', 'test-artifacts', 'web');
  fs.mkdirSync(d, { recursive: true });
  return d;
}

export function hasCJK(s) { return /[\u3400-\u9fff]/.test(s || ''); }
