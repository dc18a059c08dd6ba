// 证据核验 — evidence verification (#/evidence).
//
// Upload (choose or drop) an evidence bundle (docs/formats/evidence-bundle.md); the server
// checks it (POST /api/v1/evidence/verify) and the page shows verified / NOT verified in
// big letters, every check, the checkpoints the bundle rests on and their co-signatures.
// Below, the organization's current ledger checkpoint (GET /api/v1/ledger/checkpoint)
// with the keys that signed it. Works for the regulator, who sees digests only: nothing
// here needs a fact's payload.
//
// evidenceResult(answer) and verifyEvidenceText(text) are exported so other views (the
// permit page's "verify evidence") draw the same card.

import { api, t, addStrings, route, h, fmtTime, session, lang } from '../core.js';

addStrings({
  zh: {
    'evidence.title': '证据核验',
    'evidence.upload.title': '核验证据包',
    'evidence.upload.hint': '选择或拖入从本系统导出的证据包（.json）。服务器将核对签名、默克尔包含证明和每条事实。',
    'evidence.upload.choose': '选择证据包文件',
    'evidence.upload.drop': '或将文件拖放到此处',
    'evidence.upload.verify': '核验',
    'evidence.upload.none': '请先选择证据包文件。',
    'evidence.upload.file': '文件：{name}（{size}）',
    'evidence.upload.too_big': '文件过大（{size}），证据包最大 256 MiB。',
    'evidence.upload.not_json': '该文件不是 JSON 格式的证据包。',
    'evidence.checking': '正在核验…',
    'evidence.result.ok': '核验通过',
    'evidence.result.failed': '核验未通过',
    'evidence.result.ok_hint': '证据包中的每条记录都包含在经签名的账本检查点中，未被篡改。',
    'evidence.result.failed_hint': '证据包不能证明其内容未被篡改，请勿采信。',
    'evidence.result.subject': '对象',
    'evidence.result.origin': '账本',
    'evidence.result.facts': '事实条数',
    'evidence.result.file': '文件',
    'evidence.result.checks': '核验项目',
    'evidence.result.checkpoints': '检查点',
    'evidence.result.cosignatures': '联署签名',
    'evidence.result.no_cosignatures': '无联署签名',
    'evidence.result.facts_list': '事实记录',
    'evidence.check.pass': '通过',
    'evidence.check.fail': '未通过',
    'evidence.check.skip': '未检查',
    'evidence.col.size': '树大小',
    'evidence.col.root': '根哈希',
    'evidence.col.time': '时间',
    'evidence.col.signer': '签名方',
    'evidence.col.who': '签名方',
    'evidence.col.verified': '验证',
    'evidence.col.seq': '序号',
    'evidence.col.kind': '类型',
    'evidence.col.at': '时间',
    'evidence.col.actor': '操作人',
    'evidence.col.leaf': '叶哈希',
    'evidence.col.result': '包含证明',
    'evidence.sig.verified': '已验证',
    'evidence.sig.unverified': '未验证',
    'evidence.sig.unknown': '未知密钥',
    'evidence.ledger.title': '当前账本检查点',
    'evidence.ledger.hint': '本单位证据账本的最新签名检查点；监管部门联署后即可防止事后改写。',
    'evidence.ledger.origin': '账本',
    'evidence.ledger.size': '记录条数',
    'evidence.ledger.root': '根哈希',
    'evidence.ledger.hash': '哈希算法',
    'evidence.ledger.time': '签名时间',
    'evidence.ledger.key': '验证公钥',
    'evidence.ledger.signers': '签名与联署',
    'evidence.ledger.own': '本单位签名',
    'evidence.ledger.cosigner': '联署',
    'evidence.ledger.refresh': '刷新',
    'evidence.ledger.forbidden': '当前角色（{role}）无权查看证据账本（限安全管理人员、监督人员、监管部门和管理员）。仍可上传证据包进行核验。',
    'evidence.forbidden': '当前角色（{role}）无权使用服务器核验证据包（限安全管理人员、监督人员、监管部门和管理员）。可使用命令行 workguard evidence verify 离线核验。',
    'evidence.unavailable': '此服务器版本不提供在线证据核验。可使用命令行 workguard evidence verify 离线核验。',
    'evidence.error': '核验请求失败：{msg}',
    'evidence.ledger.error': '读取账本检查点失败：{msg}',
    'evidence.checkname.format': '文件格式',
    'evidence.checkname.origin': '账本来源',
    'evidence.checkname.signature': '检查点签名',
    'evidence.checkname.checkpoint': '检查点',
    'evidence.checkname.checkpoint_signature': '检查点签名',
    'evidence.checkname.cosignatures': '联署签名',
    'evidence.checkname.facts': '事实记录',
    'evidence.checkname.entries': '事实记录',
    'evidence.checkname.sequence': '序号递增',
    'evidence.checkname.subject': '对象一致',
    'evidence.checkname.inclusion': '默克尔包含证明',
    'evidence.checkname.bundle': '证据包',
  },
  en: {
    'evidence.title': 'Evidence',
    'evidence.upload.title': 'Verify an evidence bundle',
    'evidence.upload.hint': 'Choose or drop an evidence bundle (.json) exported by this system. The server checks the signatures, the Merkle inclusion proofs and every fact.',
    'evidence.upload.choose': 'Choose bundle file',
    'evidence.upload.drop': 'or drop the file here',
    'evidence.upload.verify': 'Verify',
    'evidence.upload.none': 'Choose an evidence bundle file first.',
    'evidence.upload.file': 'File: {name} ({size})',
    'evidence.upload.too_big': 'The file is too large ({size}); a bundle is at most 256 MiB.',
    'evidence.upload.not_json': 'This file is not a JSON evidence bundle.',
    'evidence.checking': 'Verifying…',
    'evidence.result.ok': 'VERIFIED',
    'evidence.result.failed': 'NOT VERIFIED',
    'evidence.result.ok_hint': 'Every record in the bundle is included in a signed ledger checkpoint and has not been altered.',
    'evidence.result.failed_hint': 'The bundle does not prove its content unaltered; do not rely on it.',
    'evidence.result.subject': 'Subject',
    'evidence.result.origin': 'Ledger',
    'evidence.result.facts': 'Facts',
    'evidence.result.file': 'File',
    'evidence.result.checks': 'Checks',
    'evidence.result.checkpoints': 'Checkpoints',
    'evidence.result.cosignatures': 'Co-signatures',
    'evidence.result.no_cosignatures': 'No co-signatures',
    'evidence.result.facts_list': 'Facts',
    'evidence.check.pass': 'pass',
    'evidence.check.fail': 'FAIL',
    'evidence.check.skip': 'not checked',
    'evidence.col.size': 'Tree size',
    'evidence.col.root': 'Root',
    'evidence.col.time': 'Time',
    'evidence.col.signer': 'Signer',
    'evidence.col.who': 'Signer',
    'evidence.col.verified': 'Verified',
    'evidence.col.seq': 'Seq',
    'evidence.col.kind': 'Kind',
    'evidence.col.at': 'Time',
    'evidence.col.actor': 'Actor',
    'evidence.col.leaf': 'Leaf hash',
    'evidence.col.result': 'Inclusion',
    'evidence.sig.verified': 'verified',
    'evidence.sig.unverified': 'NOT verified',
    'evidence.sig.unknown': 'unknown key',
    'evidence.ledger.title': 'Current ledger checkpoint',
    'evidence.ledger.hint': 'The latest signed checkpoint of the organization\'s evidence ledger; once co-signed by the regulator it cannot be rewritten unnoticed.',
    'evidence.ledger.origin': 'Ledger',
    'evidence.ledger.size': 'Entries',
    'evidence.ledger.root': 'Root',
    'evidence.ledger.hash': 'Hash',
    'evidence.ledger.time': 'Signed at',
    'evidence.ledger.key': 'Verifier key',
    'evidence.ledger.signers': 'Signatures and co-signatures',
    'evidence.ledger.own': 'organization',
    'evidence.ledger.cosigner': 'co-signer',
    'evidence.ledger.refresh': 'Refresh',
    'evidence.ledger.forbidden': 'Your role ({role}) may not read the evidence ledger (safety managers, supervisors, the regulator and admins may). You can still verify a bundle.',
    'evidence.forbidden': 'Your role ({role}) may not verify bundles on the server (safety managers, supervisors, the regulator and admins may). Use `workguard evidence verify` offline.',
    'evidence.unavailable': 'This server version does not verify bundles online. Use `workguard evidence verify` offline.',
    'evidence.error': 'Verification request failed: {msg}',
    'evidence.ledger.error': 'Could not read the ledger checkpoint: {msg}',
    'evidence.checkname.format': 'File format',
    'evidence.checkname.origin': 'Ledger origin',
    'evidence.checkname.signature': 'Checkpoint signature',
    'evidence.checkname.checkpoint': 'Checkpoint',
    'evidence.checkname.checkpoint_signature': 'Checkpoint signature',
    'evidence.checkname.cosignatures': 'Co-signatures',
    'evidence.checkname.facts': 'Fact entries',
    'evidence.checkname.entries': 'Fact entries',
    'evidence.checkname.sequence': 'Increasing sequence',
    'evidence.checkname.subject': 'Same subject',
    'evidence.checkname.inclusion': 'Merkle inclusion proofs',
    'evidence.checkname.bundle': 'Bundle',
  },
});

const MAX_BUNDLE = 256 * 1024 * 1024;

function roleName() {
  const r = (session.user && session.user.role) || '?';
  const s = t('role.' + r);
  return s === 'role.' + r ? r : s;
}

function fmtSize(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

// Checkpoint times come as unix seconds, RFC 3339 text or epoch ms/µs.
function fmtWhen(v) {
  if (v === null || v === undefined || v === '') return '—';
  if (typeof v === 'number' && v < 1e11) return fmtTime(v * 1000);
  if (typeof v === 'string' && /^\d{9,10}$/.test(v)) return fmtTime(Number(v) * 1000);
  return fmtTime(v);
}

function first(o, ...keys) {
  if (!o) return undefined;
  for (const k of keys) if (o[k] !== undefined && o[k] !== null) return o[k];
  return undefined;
}

function boolOf(v) {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') return ['ok', 'pass', 'passed', 'verified', 'valid', 'true'].includes(v.toLowerCase());
  return undefined;
}

// The `time <unix seconds>` extension line of a checkpoint note, if any.
function noteTime(note) {
  if (typeof note !== 'string') return undefined;
  const m = /\ntime (\d+)\n/.exec(note);
  return m ? Number(m[1]) : undefined;
}

// Signature lines of a signed note: "— <name> <base64>".
function noteSigners(note) {
  if (typeof note !== 'string') return [];
  return note.split('\n').filter((l) => l.startsWith('\u2014 ')).map((l) => l.split(' ')[1]).filter(Boolean);
}

// Normalizes the verification answer; tolerant of member names so the page keeps
// working while the route settles (see the report).
function normalize(res) {
  const r = res || {};
  const ok = boolOf(first(r, 'ok', 'verified', 'valid')) === true;
  let checks = first(r, 'checks', 'results') || [];
  if (!Array.isArray(checks)) {
    checks = Object.entries(checks).map(([name, v]) => (typeof v === 'object' ? { name, ...v } : { name, ok: v }));
  }
  checks = checks.map((c) => ({
    name: String(first(c, 'name', 'check', 'id', 'code') || ''),
    label: first(c, lang() === 'en' ? 'label_en' : 'label_zh', 'label', 'title'),
    ok: boolOf(first(c, 'ok', 'passed', 'result', 'status')),
    detail: first(c, 'detail', 'message', 'error', 'reason') || '',
  }));
  const errText = typeof r.error === 'string' ? r.error : (r.error && r.error.message) || '';
  if (!checks.length && errText) checks = [{ name: 'bundle', ok: false, detail: errText }];
  // Co-signatures come per checkpoint or in one list naming the checkpoint's size.
  const topCos = Array.isArray(r.cosignatures) ? r.cosignatures : [];
  let cps = first(r, 'checkpoints') || [];
  if (!Array.isArray(cps)) cps = [cps];
  if (!cps.length && r.checkpoint) cps = [typeof r.checkpoint === 'object' ? r.checkpoint : { note: r.checkpoint }];
  cps = cps.map((cp) => {
    const note = typeof cp.checkpoint === 'string' ? cp.checkpoint : cp.note;
    let cos = first(cp, 'cosignatures', 'signatures', 'signers') || [];
    if (!Array.isArray(cos)) cos = [];
    const size = first(cp, 'tree_size', 'size');
    for (const s of topCos) {
      const at = first(s, 'checkpoint_size', 'size');
      if (at === undefined || size === undefined || String(at) === String(size)) cos.push(s);
    }
    cos = cos.map((s) => (typeof s === 'string' ? { who: s, verified: undefined }
      : { who: String(first(s, 'who', 'name', 'key_name', 'signer') || '?'),
        verified: boolOf(first(s, 'verified', 'ok', 'valid')), status: first(s, 'status'),
        keyId: first(s, 'key_id'),
        role: first(s, 'role', 'kind'), time: first(s, 'time', 'timestamp'), detail: first(s, 'detail', 'message') }));
    if (!cos.length && note) cos = noteSigners(note).map((who) => ({ who, verified: undefined }));
    return {
      size,
      keyId: first(cp, 'key_id'),
      root: first(cp, 'root', 'root_hash'),
      time: first(cp, 'time', 'timestamp', 'signed_at') ?? noteTime(note),
      signer: first(cp, 'signer', 'signed_by', 'key_name'),
      ok: boolOf(first(cp, 'signature_ok', 'ok', 'verified')),
      origin: first(cp, 'origin'),
      cosignatures: cos,
    };
  });
  let facts = first(r, 'facts');
  const factCount = first(r, 'fact_count', 'facts_count') ?? (Array.isArray(facts) ? facts.length : undefined);
  if (!Array.isArray(facts)) facts = [];
  return {
    ok, checks, checkpoints: cps, facts, factCount,
    subject: first(r, 'subject'), origin: first(r, 'origin'),
    detail: first(r, 'detail', 'message') || errText,
    hash: first(r, 'hash'),
  };
}

// A check's readable name: the server's label, a known name, or the code itself.
function checkName(name) {
  const key = 'evidence.checkname.' + name;
  const s = t(key);
  return s === key ? name : s;
}

function verifiedCell(v, status) {
  if (status === 'unknown_key') return h('span', { class: 'ev-badge unknown', text: t('evidence.sig.unknown') });
  if (v === true) return h('span', { class: 'ev-badge ok', text: t('evidence.sig.verified') });
  if (v === false) return h('span', { class: 'ev-badge bad', text: t('evidence.sig.unverified') });
  return h('span', { class: 'ev-badge unknown', text: '—' });
}

function short(hex) {
  const s = String(hex || '');
  return s.length > 20 ? `${s.slice(0, 12)}…${s.slice(-8)}` : s;
}

// The result card (data-testid evidence-result, data-ok="1|0").
export function evidenceResult(answer, { fileName } = {}) {
  const r = normalize(answer);
  const kv = (label, value, cls) => (value === undefined || value === null || value === '' ? null
    : h('div', { class: 'kv' }, h('dt', { text: label }), h('dd', { class: cls || '', text: String(value) })));
  return h('article', { class: `ev-result ${r.ok ? 'ok' : 'bad'}`, 'data-testid': 'evidence-result', 'data-ok': r.ok ? '1' : '0', role: 'status' },
    h('div', { class: 'ev-verdict' },
      h('div', { class: 'ev-verdict-big', text: r.ok ? t('evidence.result.ok') : t('evidence.result.failed') }),
      h('div', { class: 'ev-verdict-hint', text: r.ok ? t('evidence.result.ok_hint') : t('evidence.result.failed_hint') }),
      !r.ok && r.detail && !r.checks.some((c) => c.ok === false) ? h('div', { class: 'ev-verdict-detail mono', text: r.detail }) : null),
    h('dl', { class: 'ev-meta' },
      kv(t('evidence.result.file'), fileName),
      kv(t('evidence.result.subject'), r.subject, 'mono'),
      kv(t('evidence.result.origin'), r.origin, 'mono'),
      kv(t('evidence.result.facts'), r.factCount)),
    r.checks.length ? h('section', { class: 'ev-section' },
      h('h3', { text: t('evidence.result.checks') }),
      h('ul', { class: 'ev-checks' }, r.checks.map((c) => h('li', {
        class: `ev-check ${c.ok === true ? 'ok' : c.ok === false ? 'bad' : 'skip'}`,
        'data-testid': 'evidence-check', 'data-check': c.name, 'data-ok': c.ok === true ? '1' : '0',
      },
      h('span', { class: 'ev-check-mark', 'aria-hidden': 'true', text: c.ok === true ? '✓' : c.ok === false ? '✗' : '–' }),
      h('span', { class: 'ev-check-name', text: c.label || checkName(c.name) }),
      h('span', { class: 'ev-check-state', text: c.ok === true ? t('evidence.check.pass') : c.ok === false ? t('evidence.check.fail') : t('evidence.check.skip') }),
      c.detail ? h('div', { class: 'ev-check-detail muted', text: c.detail }) : null)))) : null,
    r.checkpoints.length ? h('section', { class: 'ev-section' },
      h('h3', { text: t('evidence.result.checkpoints') }),
      r.checkpoints.map((cp) => h('div', { class: 'ev-checkpoint' },
        h('dl', { class: 'ev-cp-row', 'data-testid': 'checkpoint-row', 'data-size': cp.size === undefined ? '' : String(cp.size), 'data-ok': cp.ok === false ? '0' : '1' },
          kv(t('evidence.col.size'), cp.size, 'mono'),
          kv(t('evidence.col.root'), cp.root, 'mono hash'),
          kv(t('evidence.col.time'), cp.time === undefined ? undefined : fmtWhen(cp.time)),
          cp.signer || cp.ok !== undefined ? h('div', { class: 'kv' }, h('dt', { text: t('evidence.col.signer') }),
            h('dd', {}, cp.signer ? h('span', { class: 'mono', text: Array.isArray(cp.signer) ? cp.signer.join(', ') : String(cp.signer) }) : null,
              cp.keyId ? h('span', { class: 'muted small', text: ` (${cp.keyId}) ` }) : ' ',
              cp.ok !== undefined ? verifiedCell(cp.ok) : null)) : null),
        h('h4', { text: t('evidence.result.cosignatures') }),
        cp.cosignatures.length ? h('ul', { class: 'ev-cosigs' }, cp.cosignatures.map((s) => h('li', {
          class: 'ev-cosig', 'data-testid': 'cosignature-row', 'data-verified': s.verified === true ? '1' : s.verified === false ? '0' : '',
        },
        h('span', { class: 'mono ev-cosig-who', text: s.who }),
        s.role ? h('span', { class: 'muted small', text: String(s.role) }) : null,
        s.time !== undefined ? h('span', { class: 'muted small', text: fmtWhen(s.time) }) : null,
        verifiedCell(s.verified, s.status),
        s.detail ? h('span', { class: 'muted small', text: String(s.detail) }) : null)))
          : h('p', { class: 'muted small', text: t('evidence.result.no_cosignatures') })))) : null,
    r.facts.length ? h('section', { class: 'ev-section' },
      h('h3', { text: t('evidence.result.facts_list') }),
      h('div', { class: 'table-wrap' }, h('table', { class: 'ev-facts' },
        h('thead', {}, h('tr', {}, ['seq', 'kind', 'at', 'actor', 'result'].map((k) => h('th', { text: t('evidence.col.' + k) })))),
        h('tbody', {}, r.facts.slice(0, 500).map((f) => {
          const fact = f.fact || {};
          const fok = boolOf(first(f, 'ok'));
          return h('tr', { 'data-testid': 'evidence-fact', 'data-ok': fok === false ? '0' : '1', class: fok === false ? 'bad' : '' },
            h('td', { class: 'mono', text: String(first(f, 'seq') ?? '') }),
            h('td', {}, h('span', { class: 'mono', text: String(first(fact, 'kind', 'type') ?? first(f, 'kind') ?? '') }),
              fok === false && f.message ? h('div', { class: 'small ev-fact-msg', text: f.message }) : null),
            h('td', { text: first(fact, 'time', 'at') ? fmtWhen(first(fact, 'time', 'at')) : '' }),
            h('td', { text: String(first(fact, 'actor') ?? '') }),
            h('td', {}, fok === undefined ? (first(f, 'leaf_hash') ? h('span', { class: 'mono', text: short(f.leaf_hash) }) : null) : verifiedCell(fok)));
        }))))) : null);
}

// Sends a bundle's text to the server; resolves to the answer (also for a refused bundle
// when the server answers with a report). Throws ApiError otherwise.
export async function verifyEvidenceText(text) {
  try {
    return await api('POST', '/api/v1/evidence/verify', text, { headers: { 'Content-Type': 'application/json' } });
  } catch (e) {
    // A 4xx/422 carrying a report is still a (failed) verification.
    if (e && e.body && (e.body.ok !== undefined || e.body.checks)) return e.body;
    // A bundle the server cannot parse or refuses is a failed verification too.
    if (e && (e.status === 400 || e.status === 409 || e.status === 422)) return { ok: false, checks: [{ name: e.field || 'bundle', ok: false, detail: e.message }], detail: e.message };
    throw e;
  }
}

function render(container) {
  let disposed = false;
  let current = null; // the chosen File

  const fileInput = h('input', { type: 'file', accept: '.json,application/json', class: 'ev-file-input', 'data-testid': 'evidence-file',
    onchange: () => { if (fileInput.files && fileInput.files[0]) choose(fileInput.files[0]); } });
  const fileName = h('p', { class: 'muted small ev-file-name', 'data-testid': 'evidence-file-name' });
  const verifyBtn = h('button', { type: 'button', class: 'primary big', 'data-testid': 'evidence-verify', text: t('evidence.upload.verify'),
    onclick: () => verify() });
  const drop = h('div', { class: 'ev-drop', 'data-testid': 'evidence-drop', tabindex: '0' },
    h('label', { class: 'btn big ev-choose' }, t('evidence.upload.choose'), fileInput),
    h('span', { class: 'muted', text: t('evidence.upload.drop') }),
    fileName);
  const resultBox = h('div', { class: 'ev-result-box', 'aria-live': 'polite' });
  const ledgerBox = h('section', { class: 'card panel ev-ledger', 'data-testid': 'ledger-checkpoint' });

  drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    const f = e.dataTransfer && e.dataTransfer.files && e.dataTransfer.files[0];
    if (f) choose(f);
  });

  container.replaceChildren(h('div', { class: 'view-evidence' },
    h('h1', { text: t('evidence.title') }),
    h('div', { class: 'ev-grid' },
      h('section', { class: 'card panel ev-upload' },
        h('h2', { text: t('evidence.upload.title') }),
        h('p', { class: 'muted', text: t('evidence.upload.hint') }),
        drop,
        h('div', { class: 'ev-actions' }, verifyBtn),
        resultBox),
      ledgerBox)));

  function choose(file) {
    current = file;
    fileName.textContent = t('evidence.upload.file', { name: file.name, size: fmtSize(file.size) });
    verify();
  }

  function message(text, kind) {
    resultBox.replaceChildren(h('div', { class: `notice ${kind || 'info'}`, 'data-testid': 'evidence-message', text }));
  }

  let seq = 0;
  async function verify() {
    if (!current) { message(t('evidence.upload.none'), 'warn'); fileInput.click(); return; }
    const file = current;
    const mine = ++seq;
    if (file.size > MAX_BUNDLE) { message(t('evidence.upload.too_big', { size: fmtSize(file.size) }), 'error'); return; }
    verifyBtn.disabled = true;
    resultBox.replaceChildren(h('div', { class: 'ev-busy', text: t('evidence.checking') }));
    try {
      const text = await file.text();
      const head = text.trimStart()[0];
      if (head !== '{') {
        resultBox.replaceChildren(evidenceResult({ ok: false, checks: [{ name: 'format', ok: false, detail: t('evidence.upload.not_json') }], detail: t('evidence.upload.not_json') }, { fileName: file.name }));
        return;
      }
      const answer = await verifyEvidenceText(text);
      if (disposed || mine !== seq) return;
      resultBox.replaceChildren(evidenceResult(answer, { fileName: file.name }));
    } catch (e) {
      if (disposed || mine !== seq) return;
      if (e.status === 403) message(t('evidence.forbidden', { role: roleName() }), 'error');
      else if (e.status === 404 || e.status === 405) message(t('evidence.unavailable'), 'error');
      else message(t('evidence.error', { msg: e.message || String(e) }), 'error');
    } finally {
      if (mine === seq) verifyBtn.disabled = false;
    }
  }

  async function loadLedger() {
    const refresh = h('button', { type: 'button', class: 'small', text: t('evidence.ledger.refresh'), onclick: () => loadLedger() });
    const head = h('div', { class: 'panel-head' }, h('h2', { text: t('evidence.ledger.title') }), refresh);
    ledgerBox.replaceChildren(head, h('p', { class: 'muted', text: t('common.loading') }));
    let cp;
    try {
      cp = await api('GET', '/api/v1/ledger/checkpoint');
    } catch (e) {
      if (disposed) return;
      ledgerBox.replaceChildren(head, h('p', {
        class: `notice ${e.status === 403 ? 'info' : 'error'}`, 'data-testid': 'ledger-message',
        text: e.status === 403 ? t('evidence.ledger.forbidden', { role: roleName() }) : t('evidence.ledger.error', { msg: e.message }),
      }));
      return;
    }
    if (disposed) return;
    const kv = (label, value, cls) => h('div', { class: 'kv' }, h('dt', { text: label }), h('dd', { class: cls || '', text: value === undefined || value === null ? '—' : String(value) }));
    const time = cp.time ?? noteTime(cp.checkpoint);
    const own = String(cp.origin || '');
    let signers = Array.isArray(cp.cosignatures) && cp.cosignatures.length ? cp.cosignatures : (cp.signed_by || noteSigners(cp.checkpoint));
    signers = signers.map((s) => (typeof s === 'string' ? { who: s } : { who: first(s, 'who', 'name', 'key_name') || '?', verified: boolOf(first(s, 'verified', 'ok')) }));
    ledgerBox.setAttribute('data-size', String(cp.size ?? ''));
    ledgerBox.replaceChildren(head,
      h('p', { class: 'muted small', text: t('evidence.ledger.hint') }),
      h('dl', { class: 'ev-ledger-kv' },
        kv(t('evidence.ledger.origin'), cp.origin, 'mono'),
        kv(t('evidence.ledger.size'), cp.size, 'mono ev-ledger-size'),
        kv(t('evidence.ledger.root'), cp.root, 'mono hash'),
        kv(t('evidence.ledger.hash'), cp.hash ? String(cp.hash).toUpperCase() : undefined),
        time !== undefined ? kv(t('evidence.ledger.time'), fmtWhen(time)) : null,
        cp.verifier_key ? kv(t('evidence.ledger.key'), cp.verifier_key, 'mono hash small') : null),
      h('h3', { text: t('evidence.ledger.signers') }),
      h('ul', { class: 'ev-cosigs' }, signers.map((s) => h('li', { class: 'ev-cosig', 'data-testid': 'ledger-signer' },
        h('span', { class: 'mono ev-cosig-who', text: s.who }),
        h('span', { class: 'muted small', text: own && String(s.who).startsWith(own) ? t('evidence.ledger.own') : t('evidence.ledger.cosigner') }),
        s.verified !== undefined ? verifiedCell(s.verified) : null))));
  }

  loadLedger();
  return () => { disposed = true; };
}

route('#/evidence', render, { title: 'evidence.title', nav: 'evidence' });
