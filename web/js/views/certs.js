// 证书核验 — certificate verification (#/certs).
//
// Three ways to ask "may this person do this operation now?":
//  1. typing a worker code, a certificate number, a certificate record id, a name or the
//     holder's resident ID (the ID is only sent in a POST body, compared against the
//     stored salted digest, and never shown or kept);
//  2. scanning the certificate's WG1 QR code with the camera (jsQR, loaded on demand),
//     or decoding a photo / image file of it; the payload goes to POST /api/v1/qr/verify;
//  3. the reminder list of certificates expiring or due for review.
// Every answer is one result card (data-testid cert-result, data-ok="1|0").

import { api, t, addStrings, route, h, fmtTime, session, hasRole, lang } from '../core.js';

addStrings({
  zh: {
    'certs.title': '证书核验',
    'certs.lookup.title': '输入核验',
    'certs.lookup.hint': '输入工号、证书编号、证书记录号、姓名或身份证号',
    'certs.lookup.placeholder': '如 JX-001',
    'certs.operation': '拟从事作业',
    'certs.verify': '核验',
    'certs.scan.title': '扫码核验',
    'certs.scan.hint': '用手机后置摄像头对准证书上的二维码，或选择二维码图片。',
    'certs.scan.start': '打开摄像头扫码',
    'certs.scan.stop': '停止扫码',
    'certs.scan.file': '选择二维码图片',
    'certs.scan.scanning': '正在识别二维码…',
    'certs.scan.no_camera': '没有找到可用的摄像头。请改为选择二维码图片。',
    'certs.scan.insecure': '浏览器只允许在 HTTPS 页面中使用摄像头。请通过 HTTPS 访问本系统，或改为选择二维码图片。',
    'certs.scan.denied': '摄像头权限被拒绝。请在浏览器设置中允许使用摄像头，或改为选择二维码图片。',
    'certs.scan.camera_error': '无法打开摄像头：{msg}',
    'certs.scan.not_found': '图片中没有识别到二维码，请换一张清晰、完整的图片。',
    'certs.scan.bad_image': '无法读取该图片文件。',
    'certs.scan.lib_error': '二维码识别组件加载失败。',
    'certs.checking': '正在核验…',
    'certs.result.may_work': '可以作业',
    'certs.result.may_not_work': '不得作业',
    'certs.result.holder': '持证人',
    'certs.result.name': '姓名',
    'certs.result.code': '工号',
    'certs.result.employer': '单位',
    'certs.result.id_last4': '身份证号',
    'certs.result.worker_status': '人员状态',
    'certs.result.certificate': '证书',
    'certs.result.number': '证书编号',
    'certs.result.kind': '类别',
    'certs.result.item': '作业项目',
    'certs.result.authority': '发证机关',
    'certs.result.state': '状态',
    'certs.result.operation': '作业',
    'certs.result.op_line': '作业：{op}',
    'certs.result.rules': '判定依据',
    'certs.result.rule': '规则',
    'certs.result.clause': '条款',
    'certs.result.dates': '日期',
    'certs.result.issue': '发证日期',
    'certs.result.expiry': '有效期至',
    'certs.result.review_due': '下次复审',
    'certs.result.as_of': '核验日期',
    'certs.result.none': '无',
    'certs.result.qr': '二维码签名',
    'certs.result.qr_valid': '签名有效',
    'certs.result.qr_invalid': '签名无效',
    'certs.result.source.query': '输入核验',
    'certs.result.source.qr': '扫码核验',
    'certs.result.checked_at': '核验时间 {time}',
    'certs.result.id_presented': '已比对所出示的身份证号',
    'certs.notfound': '未找到与“{q}”匹配的人员或证书。',
    'certs.notfound.id': '没有人员的身份证号与所输入的号码相符。',
    'certs.bad_id': '身份证号格式不正确（18 位，最后一位可为 X）。',
    'certs.empty_query': '请输入要核验的工号、证书编号或身份证号。',
    'certs.choose': '找到多个匹配人员，请选择：',
    'certs.forbidden': '当前角色（{role}）无权核验证书。证书核验向监护人、班组长、审批人、安全管理人员、监督人员、监管部门和管理员开放。',
    'certs.error': '核验失败：{msg}',
    'certs.expiring.title': '即将到期与待复审',
    'certs.expiring.window': '时间范围',
    'certs.expiring.days': '{n} 天内',
    'certs.expiring.empty': '{n} 天内没有到期或需复审的证书。',
    'certs.expiring.forbidden': '当前角色（{role}）无权查看到期提醒（限班组长、审批人、安全管理人员、监督人员和管理员）。',
    'certs.expiring.as_of': '截至 {date}',
    'certs.expiring.col.worker': '人员',
    'certs.expiring.col.cert': '证书',
    'certs.expiring.col.due': '事项',
    'certs.expiring.col.date': '到期日',
    'certs.expiring.col.left': '剩余',
    'certs.expiring.col.state': '状态',
    'certs.expiring.left': '{n} 天',
    'certs.expiring.overdue': '逾期 {n} 天',
    'certs.expiring.today': '今天',
    'certs.expiring.verify': '核验',
    'certs.due.expiry': '证书到期',
    'certs.due.renewal': '到期换证',
    'certs.due.review': '复审',
    'certs.verdict.valid': '有效',
    'certs.verdict.expiring_soon': '即将到期',
    'certs.verdict.review_due': '待复审',
    'certs.verdict.review_overdue': '复审逾期',
    'certs.verdict.not_yet_valid': '尚未生效',
    'certs.verdict.expired': '已过期',
    'certs.verdict.revoked': '已撤销',
    'certs.verdict.wrong_category': '证书类别不符',
    'certs.verdict.worker_inactive': '人员已停用',
    'certs.verdict.id_mismatch': '身份证号不符',
    'certs.verdict.unknown_worker': '人员不存在',
    'certs.verdict.bad_signature': '二维码无效',
    'certs.worker_status.active': '在岗',
    'certs.worker_status.suspended': '暂停',
    'certs.worker_status.left': '已离职',
    'certs.kind.special_operation': '特种作业操作证',
    'certs.kind.special_equipment': '特种设备作业人员证',
  },
  en: {
    'certs.title': 'Certificates',
    'certs.lookup.title': 'Verify by typing',
    'certs.lookup.hint': 'Worker code, certificate number, certificate record id, name or resident ID number',
    'certs.lookup.placeholder': 'e.g. JX-001',
    'certs.operation': 'Operation',
    'certs.verify': 'Verify',
    'certs.scan.title': 'Verify by scanning',
    'certs.scan.hint': 'Point the phone\'s rear camera at the QR code on the certificate, or choose an image of it.',
    'certs.scan.start': 'Scan with camera',
    'certs.scan.stop': 'Stop scanning',
    'certs.scan.file': 'Choose QR image',
    'certs.scan.scanning': 'Looking for a QR code…',
    'certs.scan.no_camera': 'No camera was found. Choose an image of the QR code instead.',
    'certs.scan.insecure': 'Browsers allow the camera only on HTTPS pages. Open this system over HTTPS, or choose an image of the QR code instead.',
    'certs.scan.denied': 'Camera permission was denied. Allow the camera in the browser settings, or choose an image of the QR code instead.',
    'certs.scan.camera_error': 'Could not open the camera: {msg}',
    'certs.scan.not_found': 'No QR code was found in this image; try a sharper image showing the whole code.',
    'certs.scan.bad_image': 'This image file could not be read.',
    'certs.scan.lib_error': 'The QR decoder could not be loaded.',
    'certs.checking': 'Checking…',
    'certs.result.may_work': 'MAY WORK',
    'certs.result.may_not_work': 'MAY NOT WORK',
    'certs.result.holder': 'Holder',
    'certs.result.name': 'Name',
    'certs.result.code': 'Worker code',
    'certs.result.employer': 'Employer',
    'certs.result.id_last4': 'ID number',
    'certs.result.worker_status': 'Worker status',
    'certs.result.certificate': 'Certificate',
    'certs.result.number': 'Number',
    'certs.result.kind': 'Kind',
    'certs.result.item': 'Operation item',
    'certs.result.authority': 'Issued by',
    'certs.result.state': 'State',
    'certs.result.operation': 'Operation',
    'certs.result.op_line': 'Operation: {op}',
    'certs.result.rules': 'Decided by',
    'certs.result.rule': 'Rule',
    'certs.result.clause': 'Clause',
    'certs.result.dates': 'Dates',
    'certs.result.issue': 'Issued',
    'certs.result.expiry': 'Valid until',
    'certs.result.review_due': 'Next review',
    'certs.result.as_of': 'Checked for',
    'certs.result.none': 'none',
    'certs.result.qr': 'QR signature',
    'certs.result.qr_valid': 'valid',
    'certs.result.qr_invalid': 'INVALID',
    'certs.result.source.query': 'Typed lookup',
    'certs.result.source.qr': 'QR scan',
    'certs.result.checked_at': 'Checked at {time}',
    'certs.result.id_presented': 'The presented ID number was compared',
    'certs.notfound': 'No worker or certificate matches "{q}".',
    'certs.notfound.id': 'No worker has the ID number entered.',
    'certs.bad_id': 'Not a valid resident ID number (18 characters, the last may be X).',
    'certs.empty_query': 'Enter a worker code, certificate number or ID number to verify.',
    'certs.choose': 'Several workers match; choose one:',
    'certs.forbidden': 'Your role ({role}) may not verify certificates. Verification is open to guardians, team leaders, approvers, safety managers, supervisors, the regulator and admins.',
    'certs.error': 'Verification failed: {msg}',
    'certs.expiring.title': 'Expiring and due for review',
    'certs.expiring.window': 'Window',
    'certs.expiring.days': 'within {n} days',
    'certs.expiring.empty': 'No certificate expires or is due for review within {n} days.',
    'certs.expiring.forbidden': 'Your role ({role}) may not see the expiry reminders (team leaders, approvers, safety managers, supervisors and admins may).',
    'certs.expiring.as_of': 'as of {date}',
    'certs.expiring.col.worker': 'Worker',
    'certs.expiring.col.cert': 'Certificate',
    'certs.expiring.col.due': 'Due',
    'certs.expiring.col.date': 'Date',
    'certs.expiring.col.left': 'Left',
    'certs.expiring.col.state': 'State',
    'certs.expiring.left': '{n} days',
    'certs.expiring.overdue': '{n} days overdue',
    'certs.expiring.today': 'today',
    'certs.expiring.verify': 'Verify',
    'certs.due.expiry': 'Expiry',
    'certs.due.renewal': 'Renewal',
    'certs.due.review': 'Review',
    'certs.verdict.valid': 'Valid',
    'certs.verdict.expiring_soon': 'Expiring soon',
    'certs.verdict.review_due': 'Review due',
    'certs.verdict.review_overdue': 'Review overdue',
    'certs.verdict.not_yet_valid': 'Not yet valid',
    'certs.verdict.expired': 'Expired',
    'certs.verdict.revoked': 'Revoked',
    'certs.verdict.wrong_category': 'Wrong category for the operation',
    'certs.verdict.worker_inactive': 'Worker inactive',
    'certs.verdict.id_mismatch': 'ID number does not match',
    'certs.verdict.unknown_worker': 'Unknown worker',
    'certs.verdict.bad_signature': 'Invalid QR code',
    'certs.worker_status.active': 'active',
    'certs.worker_status.suspended': 'suspended',
    'certs.worker_status.left': 'left',
    'certs.kind.special_operation': 'Special operation certificate',
    'certs.kind.special_equipment': 'Special equipment operator certificate',
  },
});

const RESIDENT_ID = /^\d{17}[\dXx]$/;
const JSQR_URL = '/assets/vendor/jsqr/jsQR.js';
const WINDOWS = [7, 30, 60, 90];

// --- helpers --------------------------------------------------------------------------


// A label the API gives in both languages ({name_zh, name_en}).
function nameOf(o) {
  if (!o) return '';
  return (lang() === 'en' ? o.name_en || o.name_zh : o.name_zh || o.name_en) || o.code || '';
}

function verdictText(v) {
  const key = 'certs.verdict.' + v;
  const s = t(key);
  return s === key ? v : s;
}

function dueText(kind) {
  const key = 'certs.due.' + kind;
  const s = t(key);
  return s === key ? kind : s;
}

function errMessage(e) {
  return (e && (e.message || e.code)) || String(e);
}

function roleName() {
  const r = (session.user && session.user.role) || '?';
  const s = t('role.' + r);
  return s === 'role.' + r ? r : s;
}

// Verdicts that still allow work but need attention (drawn amber, not green).
const WARN_VERDICTS = new Set(['expiring_soon', 'review_due']);

// jsQR is ~250 kB: load it only when a QR is to be decoded.
let jsqrPromise = null;
function loadJsQR() {
  if (window.jsQR) return Promise.resolve(window.jsQR);
  if (!jsqrPromise) {
    jsqrPromise = new Promise((resolve, reject) => {
      const s = document.createElement('script');
      s.src = JSQR_URL;
      s.async = true;
      s.onload = () => (window.jsQR ? resolve(window.jsQR) : reject(new Error('jsQR missing')));
      s.onerror = () => { jsqrPromise = null; s.remove(); reject(new Error('load failed')); };
      document.head.appendChild(s);
    });
  }
  return jsqrPromise;
}

// Decodes a QR code from a canvas; tries both polarities on still images.
function decodeCanvas(jsQR, canvas, ctx, thorough) {
  const img = ctx.getImageData(0, 0, canvas.width, canvas.height);
  const code = jsQR(img.data, img.width, img.height,
    { inversionAttempts: thorough ? 'attemptBoth' : 'dontInvert' });
  return code && code.data ? code.data : null;
}

// An image file as something drawable: createImageBitmap for raster files, an <img> on a
// blob: URL (allowed by the page's CSP img-src) for what it cannot decode, such as SVG.
async function drawable(file) {
  try {
    return await createImageBitmap(file);
  } catch (_) { /* fall through */ }
  const url = URL.createObjectURL(file);
  try {
    const img = new Image();
    img.src = url;
    await img.decode();
    const w = img.naturalWidth || 512;
    const hgt = img.naturalHeight || 512;
    return { width: w, height: hgt, source: img, close() {} };
  } catch (_) {
    throw Object.assign(new Error(t('certs.scan.bad_image')), { userFacing: true });
  } finally {
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }
}

// Draws an image file into a canvas (at most 1280 px on its long side) and decodes it.
async function decodeImageFile(file) {
  const jsQR = await loadJsQR();
  const bitmap = await drawable(file);
  const src = bitmap.source || bitmap;
  const canvas = document.createElement('canvas');
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  // Try the image at a capped size, then smaller: jsQR is faster and often more robust
  // on downscaled photos. Vector images (no bitmap) are drawn at 800 px.
  const longSide = Math.max(bitmap.width, bitmap.height);
  const sizes = bitmap.source ? [800] : longSide <= 640 ? [longSide] : [Math.min(longSide, 1280), 640];
  for (const size of sizes) {
    const scale = size / longSide;
    canvas.width = Math.max(1, Math.round(bitmap.width * scale));
    canvas.height = Math.max(1, Math.round(bitmap.height * scale));
    ctx.fillStyle = '#fff'; // transparent images: a white quiet zone
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.drawImage(src, 0, 0, canvas.width, canvas.height);
    const data = decodeCanvas(jsQR, canvas, ctx, true);
    if (data) { if (bitmap.close) bitmap.close(); return data; }
  }
  if (bitmap.close) bitmap.close();
  return null;
}

// --- the view ---------------------------------------------------------------------------

function render(container) {
  let disposed = false;
  let camera = null; // {stream, timer}
  let workers = null; // cached worker list (id order)
  let certIndex = null; // certificate number -> worker id (built on demand)
  let catalog = null;
  let operations = [];

  const mayRead = !session.user || hasRole('guardian', 'team_leader', 'approver',
    'safety_manager', 'supervisor', 'regulator', 'admin');

  // ---- layout
  const opSelect = h('select', { 'data-testid': 'cert-operation', 'aria-label': t('certs.operation') });
  const query = h('input', {
    type: 'search', 'data-testid': 'cert-query', placeholder: t('certs.lookup.placeholder'),
    autocomplete: 'off', spellcheck: 'false', 'aria-label': t('certs.lookup.hint'),
  });
  const verifyBtn = h('button', { type: 'submit', class: 'primary big', 'data-testid': 'cert-verify', text: t('certs.verify') });
  const form = h('form', { class: 'cert-lookup', onsubmit: (e) => { e.preventDefault(); lookup(query.value); } },
    h('label', { class: 'cert-field' }, h('span', { text: t('certs.lookup.hint') }), query),
    h('label', { class: 'cert-field' }, h('span', { text: t('certs.operation') }), opSelect),
    verifyBtn);

  const scanBtn = h('button', { type: 'button', class: 'big', 'data-testid': 'cert-scan', text: t('certs.scan.start'), onclick: toggleCamera });
  const fileInput = h('input', { type: 'file', accept: 'image/*', 'data-testid': 'cert-scan-file', class: 'cert-file-input', onchange: onFile });
  const fileBtn = h('label', { class: 'btn big cert-file-label' }, t('certs.scan.file'), fileInput);
  const video = h('video', { class: 'cert-video', playsinline: '', muted: '', autoplay: '' });
  const videoBox = h('div', { class: 'cert-video-box', hidden: '' }, video, h('div', { class: 'cert-video-frame' }));
  const scanMsg = h('p', { class: 'cert-scan-msg', 'data-testid': 'cert-scan-msg', role: 'status' });

  const resultBox = h('div', { class: 'cert-result-box', 'aria-live': 'polite' });

  const expiringBox = h('section', { class: 'card panel cert-expiring', 'data-testid': 'cert-expiring' });

  container.replaceChildren(
    h('div', { class: 'view-certs' },
      h('h1', { text: t('certs.title') }),
      h('div', { class: 'cert-grid' },
        h('div', { class: 'cert-col' },
          h('section', { class: 'card panel' }, h('h2', { text: t('certs.lookup.title') }), form),
          h('section', { class: 'card panel' },
            h('h2', { text: t('certs.scan.title') }),
            h('p', { class: 'muted', text: t('certs.scan.hint') }),
            h('div', { class: 'cert-scan-actions' }, scanBtn, fileBtn),
            videoBox, scanMsg)),
        h('div', { class: 'cert-col' }, resultBox)),
      expiringBox));

  if (!mayRead) {
    setResult(h('div', { class: 'notice error', 'data-testid': 'cert-forbidden', text: t('certs.forbidden', { role: roleName() }) }));
  }

  // ---- data
  function opCode() { return opSelect.value || 'hot_work'; }

  async function loadOperations() {
    try {
      const r = await api('GET', '/api/v1/operations');
      operations = r.operations || [];
    } catch (e) {
      if (e.status === 403) { showForbidden(); return; }
      operations = [{ code: 'hot_work', name_zh: '动火作业', name_en: 'Hot work' }];
    }
    if (disposed) return;
    let preferred = 'hot_work';
    try { preferred = localStorage.getItem('wg.certs.op') || preferred; } catch (_) { /* private mode */ }
    opSelect.replaceChildren(...operations.map((o) => h('option', { value: o.code, text: nameOf(o) })));
    if (operations.some((o) => o.code === preferred)) opSelect.value = preferred;
  }
  opSelect.addEventListener('change', () => {
    try { localStorage.setItem('wg.certs.op', opSelect.value); } catch (_) { /* ignore */ }
  });

  async function loadCatalog() {
    if (catalog) return catalog;
    try { catalog = await api('GET', '/api/v1/catalog'); } catch (_) { catalog = { categories: [] }; }
    return catalog;
  }

  function categoryName(kind, category, item) {
    const cats = (catalog && catalog.categories) || [];
    const c = cats.find((x) => x.code === category && (!x.kind || x.kind === kind)) || cats.find((x) => x.code === category);
    const it = c && item ? (c.items || []).find((x) => x.code === item) : null;
    return { category: c ? nameOf(c) : category || '', item: it ? nameOf(it) : item || '' };
  }

  async function loadWorkers() {
    if (workers) return workers;
    const all = [];
    let after = 0;
    for (let page = 0; page < 100; page++) {
      const r = await api('GET', `/api/v1/workers?after_id=${after}&limit=1000`);
      all.push(...(r.workers || []));
      if (r.next_after_id == null) break;
      after = r.next_after_id;
    }
    workers = all;
    return workers;
  }

  // Certificate number -> worker id. There is no search route (see report), so the
  // workers' records are read, a few at a time, until the number is found.
  async function findByNumber(number) {
    const want = number.toUpperCase();
    if (certIndex && certIndex.has(want)) return certIndex.get(want);
    certIndex = certIndex || new Map();
    const list = await loadWorkers();
    const todo = list.filter((w) => !certIndex.has('#w' + w.id));
    let found = null;
    for (let i = 0; i < todo.length && found == null; i += 8) {
      const chunk = todo.slice(i, i + 8);
      const details = await Promise.all(chunk.map((w) => api('GET', `/api/v1/workers/${w.id}`).catch(() => null)));
      for (const d of details) {
        if (!d) continue;
        certIndex.set('#w' + d.id, true);
        for (const c of d.certificates || []) {
          certIndex.set(String(c.number).toUpperCase(), d.id);
          if (String(c.number).toUpperCase() === want) found = d.id;
        }
      }
      if (disposed) return null;
    }
    return found;
  }

  // ---- lookup by typing
  async function lookup(raw) {
    const q = String(raw || '').trim();
    if (!q) { showMessage(t('certs.empty_query'), 'warn'); query.focus(); return; }
    showBusy();
    try {
      const list = await loadWorkers();
      // 1. a resident ID: compared server-side against each candidate's salted digest.
      const compact = q.replace(/\s+/g, '');
      if (/^\d{15,}[\dXx]?$/.test(compact) && compact.length >= 17) {
        if (!RESIDENT_ID.test(compact)) { showMessage(t('certs.bad_id'), 'error'); return; }
        query.value = ''; // do not leave the ID on screen
        const last4 = compact.slice(-4).toUpperCase();
        const candidates = list.filter((w) => String(w.id_last4 || '').toUpperCase() === last4);
        for (const w of candidates) {
          const v = await api('POST', `/api/v1/workers/${w.id}/verify`, { operation: opCode(), national_id: compact.toUpperCase() });
          if (v.verdict !== 'id_mismatch') { await showVerification(v, { source: 'query', idPresented: true }); return; }
        }
        showMessage(t('certs.notfound.id'), 'error');
        return;
      }
      const up = q.toUpperCase();
      // 2. a worker code.
      let w = list.find((x) => String(x.code).toUpperCase() === up);
      if (w) { await verifyWorker(w.id); return; }
      // 3. a certificate record id (digits only, short).
      if (/^\d{1,12}$/.test(q)) {
        try {
          const cert = await api('GET', `/api/v1/certificates/${q}`);
          await verifyWorker(cert.worker_id, cert); return;
        } catch (e) {
          if (e.status !== 404 && e.status !== 400) throw e;
        }
      }
      // 4. a name (exact first, then partial).
      let byName = list.filter((x) => x.name === q);
      if (!byName.length && q.length >= 2 && !/^[A-Z0-9-]+$/i.test(q)) byName = list.filter((x) => String(x.name).includes(q));
      if (byName.length === 1) { await verifyWorker(byName[0].id); return; }
      if (byName.length > 1) { showChoice(byName); return; }
      // 5. a certificate number.
      const wid = await findByNumber(q);
      if (wid != null) { await verifyWorker(wid, null, up); return; }
      showMessage(t('certs.notfound', { q }), 'error');
    } catch (e) {
      handleError(e);
    }
  }

  async function verifyWorker(workerId, cert, number) {
    const v = await api('GET', `/api/v1/workers/${workerId}/verify?operation=${encodeURIComponent(opCode())}`);
    await showVerification(v, { source: 'query', cert, number });
  }

  // ---- result card
  async function showVerification(v, { source, cert, qr, idPresented } = {}) {
    let worker = null;
    let certRec = cert || null;
    const wid = v ? v.worker_id : null;
    await loadCatalog();
    if (wid != null && v.verdict !== 'unknown_worker') {
      try { worker = await api('GET', `/api/v1/workers/${wid}`); } catch (_) { worker = null; }
    }
    const decidingId = v && v.certificate ? v.certificate.id : null;
    if (worker && decidingId != null) {
      certRec = (worker.certificates || []).find((c) => c.id === decidingId) || certRec;
    }
    if (disposed) return;
    setResult(resultCard(v, { source, worker, cert: certRec, qr, idPresented }));
    // On a phone the card is below the inputs: bring it into view.
    const top = resultBox.getBoundingClientRect().top;
    if (top > window.innerHeight * 0.6 || top < 0) resultBox.scrollIntoView({ block: 'start', behavior: 'smooth' });
  }

  function row(label, value, attrs) {
    return h('div', { class: 'kv' }, h('dt', { text: label }), h('dd', Object.assign({ text: value == null || value === '' ? '—' : String(value) }, attrs || {})));
  }

  function resultCard(v, { source, worker, cert, qr, idPresented }) {
    const ok = !!(v && v.may_work) && !(qr && !qr.signature_valid);
    const verdict = qr && !qr.signature_valid ? 'bad_signature' : (v ? v.verdict : 'unknown_worker');
    const warn = ok && WARN_VERDICTS.has(verdict);
    const op = operations.find((o) => o.code === (v && v.operation));
    const certSummary = (v && v.certificate) || {};
    const names = cert ? categoryName(cert.kind, cert.category, cert.item) : null;

    const sections = [];
    sections.push(h('div', { class: 'cert-verdict' },
      h('div', { class: 'cert-verdict-big', text: ok ? t('certs.result.may_work') : t('certs.result.may_not_work') }),
      h('div', { class: 'cert-verdict-state', 'data-testid': 'cert-verdict', 'data-verdict': verdict, text: verdictText(verdict) }),
      op ? h('div', { class: 'cert-verdict-op', text: t('certs.result.op_line', { op: nameOf(op) }) }) : null));

    if (qr) {
      sections.push(h('dl', { class: 'cert-section' },
        row(t('certs.result.qr'), qr.signature_valid ? t('certs.result.qr_valid') : t('certs.result.qr_invalid'),
          { 'data-testid': 'cert-qr-signature', 'data-ok': qr.signature_valid ? '1' : '0' }),
        !qr.signature_valid && qr.detail ? h('p', { class: 'muted small', text: qr.detail }) : null));
    }

    if (worker) {
      const st = worker.status ? t('certs.worker_status.' + worker.status) : '';
      sections.push(h('section', { class: 'cert-section' },
        h('h3', { text: t('certs.result.holder') }),
        h('dl', {},
          row(t('certs.result.name'), worker.name, { 'data-testid': 'cert-holder-name', class: 'strong' }),
          row(t('certs.result.employer'), worker.employer, { 'data-testid': 'cert-holder-employer' }),
          row(t('certs.result.code'), worker.code),
          row(t('certs.result.id_last4'), worker.id_last4 ? '**************' + worker.id_last4 : ''),
          worker.status && worker.status !== 'active' ? row(t('certs.result.worker_status'), st.startsWith('certs.') ? worker.status : st) : null),
        idPresented ? h('p', { class: 'muted small', text: t('certs.result.id_presented') }) : null));
    }

    const number = (cert && cert.number) || certSummary.number || (qr && qr.fields && qr.fields.number);
    if (number || cert) {
      const kindKey = cert ? 'certs.kind.' + cert.kind : '';
      const kindText = cert ? (t(kindKey) === kindKey ? cert.kind : t(kindKey)) : '';
      sections.push(h('section', { class: 'cert-section' },
        h('h3', { text: t('certs.result.certificate') }),
        h('dl', {},
          row(t('certs.result.number'), number, { 'data-testid': 'cert-number', class: 'mono' }),
          cert ? row(t('certs.result.kind'), [kindText, names.category].filter(Boolean).join(' · ')) : null,
          cert ? row(t('certs.result.item'), names.item) : null,
          cert ? row(t('certs.result.authority'), cert.authority) : null,
          row(t('certs.result.state'), verdictText(verdict)))));
    }

    const reasons = (v && v.reasons) || [];
    if (reasons.length) {
      sections.push(h('section', { class: 'cert-section' },
        h('h3', { text: t('certs.result.rules') }),
        h('ul', { class: 'cert-rules' }, reasons.map((r) => h('li', { class: 'cert-rule', 'data-testid': 'cert-rule', 'data-rule': r.rule },
          h('div', { class: 'cert-rule-head' },
            h('code', { class: 'cert-rule-id', text: r.rule }),
            h('span', { class: 'cert-rule-clause', text: r.clause || '' })),
          r.message ? h('div', { class: 'cert-rule-msg muted', text: r.message }) : null)))));
    }

    const expiry = certSummary.expiry_date !== undefined ? certSummary.expiry_date : cert && cert.expiry_date;
    const review = certSummary.review_due !== undefined ? certSummary.review_due : cert && cert.standing && cert.standing.review_due;
    if (v && (v.certificate || cert)) {
      sections.push(h('section', { class: 'cert-section' },
        h('h3', { text: t('certs.result.dates') }),
        h('dl', {},
          cert && cert.issue_date ? row(t('certs.result.issue'), cert.issue_date) : null,
          row(t('certs.result.expiry'), expiry || t('certs.result.none'), { 'data-testid': 'cert-expiry' }),
          row(t('certs.result.review_due'), review || t('certs.result.none'), { 'data-testid': 'cert-review-due' }),
          v.as_of ? row(t('certs.result.as_of'), v.as_of) : null)));
    }

    sections.push(h('p', { class: 'muted small cert-checked-at' },
      `${t('certs.result.source.' + source)} · ${t('certs.result.checked_at', { time: fmtTime(Date.now()) })}`));

    return h('article', {
      class: `cert-result ${ok ? (warn ? 'ok warn' : 'ok') : 'bad'}`,
      'data-testid': 'cert-result', 'data-ok': ok ? '1' : '0', 'data-verdict': verdict,
      role: 'status',
    }, sections);
  }

  // One check at a time: the button is off while a check runs.
  function setResult(...nodes) {
    verifyBtn.disabled = false;
    resultBox.replaceChildren(...nodes);
  }

  function showBusy() {
    verifyBtn.disabled = true;
    resultBox.replaceChildren(h('div', { class: 'cert-busy', 'data-testid': 'cert-busy', text: t('certs.checking') }));
  }

  function showMessage(text, kind) {
    setResult(h('div', { class: `notice ${kind || 'info'}`, 'data-testid': 'cert-message', text }));
  }

  function showForbidden() {
    setResult(h('div', { class: 'notice error', 'data-testid': 'cert-forbidden', text: t('certs.forbidden', { role: roleName() }) }));
  }

  function showChoice(list) {
    setResult(h('div', { class: 'notice info cert-choice', 'data-testid': 'cert-choice' },
      h('p', { text: t('certs.choose') }),
      h('ul', {}, list.slice(0, 20).map((w) => h('li', {},
        h('button', { type: 'button', class: 'link', onclick: () => { showBusy(); verifyWorker(w.id).catch(handleError); } },
          `${w.name} · ${w.code} · ${w.employer}`))))));
  }

  function handleError(e) {
    if (disposed) return;
    if (e && e.status === 403) { showForbidden(); return; }
    if (e && e.userFacing) { showMessage(e.message, 'error'); return; }
    if (e && e.status === 400 && e.field === 'national_id') { showMessage(t('certs.bad_id'), 'error'); return; }
    showMessage(t('certs.error', { msg: errMessage(e) }), 'error');
  }

  // ---- QR
  async function verifyPayload(payload) {
    showBusy();
    try {
      const r = await api('POST', '/api/v1/qr/verify', { payload, operation: opCode() });
      const parts = String(payload).split('|');
      const qr = { signature_valid: !!r.signature_valid, detail: r.detail,
        fields: parts.length === 15 && parts[0] === 'WG1' ? { number: parts[5] } : {} };
      await showVerification(r.verification, { source: 'qr', qr });
    } catch (e) {
      handleError(e);
    }
  }

  async function onFile() {
    const file = fileInput.files && fileInput.files[0];
    fileInput.value = '';
    if (!file) return;
    stopCamera();
    scanMsg.textContent = t('certs.scan.scanning');
    try {
      const data = await decodeImageFile(file);
      if (disposed) return;
      if (!data) { scanMsg.textContent = ''; showMessage(t('certs.scan.not_found'), 'warn'); return; }
      scanMsg.textContent = '';
      await verifyPayload(data);
    } catch (e) {
      scanMsg.textContent = '';
      if (e && e.userFacing) showMessage(e.message, 'error');
      else if (e && e.status) handleError(e);
      else showMessage(t('certs.scan.lib_error'), 'error');
    }
  }

  function toggleCamera() {
    if (camera) { stopCamera(); return; }
    startCamera();
  }

  async function startCamera() {
    scanMsg.className = 'cert-scan-msg';
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      scanMsg.className = 'cert-scan-msg error';
      scanMsg.textContent = t(window.isSecureContext === false ? 'certs.scan.insecure' : 'certs.scan.no_camera');
      scanMsg.setAttribute('data-state', 'unavailable');
      return;
    }
    let jsQR;
    try { jsQR = await loadJsQR(); } catch (_) { scanMsg.textContent = t('certs.scan.lib_error'); return; }
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false });
    } catch (e) {
      scanMsg.className = 'cert-scan-msg error';
      const name = e && e.name;
      if (name === 'NotAllowedError' || name === 'SecurityError' || name === 'PermissionDeniedError') {
        scanMsg.textContent = t('certs.scan.denied');
        scanMsg.setAttribute('data-state', 'denied');
      } else if (name === 'NotFoundError' || name === 'OverconstrainedError' || name === 'DevicesNotFoundError') {
        scanMsg.textContent = t('certs.scan.no_camera');
        scanMsg.setAttribute('data-state', 'unavailable');
      } else {
        scanMsg.textContent = t('certs.scan.camera_error', { msg: (e && (e.message || e.name)) || '?' });
        scanMsg.setAttribute('data-state', 'error');
      }
      return;
    }
    if (disposed) { stream.getTracks().forEach((tr) => tr.stop()); return; }
    video.srcObject = stream;
    video.muted = true;
    videoBox.hidden = false;
    videoBox.scrollIntoView({ block: 'center', behavior: 'smooth' });
    scanBtn.textContent = t('certs.scan.stop');
    scanMsg.textContent = t('certs.scan.scanning');
    scanMsg.setAttribute('data-state', 'scanning');
    try { await video.play(); } catch (_) { /* autoplay attribute covers it */ }
    const canvas = document.createElement('canvas');
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    let busy = false;
    const timer = setInterval(() => {
      if (busy || !camera || video.readyState < 2 || !video.videoWidth) return;
      busy = true;
      try {
        const scale = Math.min(1, 800 / Math.max(video.videoWidth, video.videoHeight));
        canvas.width = Math.round(video.videoWidth * scale);
        canvas.height = Math.round(video.videoHeight * scale);
        ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
        const data = decodeCanvas(jsQR, canvas, ctx, false);
        if (data) {
          stopCamera();
          if (navigator.vibrate) navigator.vibrate(80);
          verifyPayload(data);
        }
      } finally {
        busy = false;
      }
    }, 200);
    camera = { stream, timer };
  }

  function stopCamera() {
    if (!camera) return;
    clearInterval(camera.timer);
    camera.stream.getTracks().forEach((tr) => tr.stop());
    camera = null;
    video.srcObject = null;
    videoBox.hidden = true;
    scanBtn.textContent = t('certs.scan.start');
    scanMsg.textContent = '';
    scanMsg.removeAttribute('data-state');
  }

  // ---- expiring list
  let windowDays = 30;
  try { windowDays = Number(localStorage.getItem('wg.certs.days')) || 30; } catch (_) { /* ignore */ }
  if (!WINDOWS.includes(windowDays)) windowDays = 30;

  async function loadExpiring() {
    const sel = h('select', { 'data-testid': 'cert-expiring-days', 'aria-label': t('certs.expiring.window'),
      onchange: () => {
        windowDays = Number(sel.value);
        try { localStorage.setItem('wg.certs.days', String(windowDays)); } catch (_) { /* ignore */ }
        loadExpiring();
      } }, WINDOWS.map((n) => h('option', { value: String(n), text: t('certs.expiring.days', { n }) })));
    sel.value = String(windowDays);
    const head = h('div', { class: 'panel-head' }, h('h2', { text: t('certs.expiring.title') }),
      h('label', { class: 'inline' }, h('span', { text: t('certs.expiring.window') }), sel));
    expiringBox.replaceChildren(head, h('p', { class: 'muted', text: t('certs.checking') }));
    let r;
    try {
      r = await api('GET', `/api/v1/certificates/expiring?days=${windowDays}`);
      await loadCatalog();
    } catch (e) {
      if (disposed) return;
      if (e.status === 403) {
        sel.disabled = true;
        expiringBox.replaceChildren(head, h('p', { class: 'notice info', 'data-testid': 'cert-expiring-forbidden', text: t('certs.expiring.forbidden', { role: roleName() }) }));
      } else {
        expiringBox.replaceChildren(head, h('p', { class: 'notice error', text: t('certs.error', { msg: errMessage(e) }) }));
      }
      return;
    }
    if (disposed) return;
    const list = r.reminders || [];
    expiringBox.setAttribute('data-count', String(list.length));
    if (!list.length) {
      expiringBox.replaceChildren(head, h('p', { class: 'muted', text: t('certs.expiring.empty', { n: windowDays }) }));
      return;
    }
    const rows = list.map((m) => {
      const names = categoryName(m.kind, m.category, m.item);
      const left = m.days_left < 0 ? t('certs.expiring.overdue', { n: -m.days_left })
        : m.days_left === 0 ? t('certs.expiring.today') : t('certs.expiring.left', { n: m.days_left });
      const urgency = m.days_left < 0 ? 'overdue' : m.days_left <= 7 ? 'soon' : 'later';
      return h('tr', { class: `cert-exp-row ${urgency}`, 'data-testid': 'cert-expiring-row',
        'data-certificate': String(m.certificate_id), 'data-due-kind': m.due_kind, 'data-days-left': String(m.days_left) },
      h('td', { class: 'who' }, h('strong', { text: m.worker_name || '' }), h('span', { class: 'muted small', text: m.worker_code || '' })),
      h('td', { class: 'what' }, h('span', { class: 'mono', text: m.number }), h('span', { class: 'muted small', text: names.item || names.category })),
      h('td', { text: dueText(m.due_kind) }),
      h('td', { class: 'mono', text: m.due_date }),
      h('td', { class: `left ${urgency}`, text: left }),
      h('td', {}, h('span', { class: `chip ${m.verdict}`, text: verdictText(m.verdict) })),
      h('td', {}, h('button', { type: 'button', class: 'small', text: t('certs.expiring.verify'),
        onclick: () => { showBusy(); resultBox.scrollIntoView({ block: 'nearest' }); verifyWorker(m.worker_id).catch(handleError); } })));
    });
    expiringBox.replaceChildren(head,
      h('p', { class: 'muted small', text: t('certs.expiring.as_of', { date: r.as_of }) }),
      h('div', { class: 'table-wrap' },
        h('table', { class: 'cert-exp-table' },
          h('thead', {}, h('tr', {},
            ['worker', 'cert', 'due', 'date', 'left', 'state'].map((k) => h('th', { text: t('certs.expiring.col.' + k) })), h('th'))),
          h('tbody', {}, rows))));
  }

  if (mayRead) {
    loadOperations();
    loadCatalog();
  }
  loadExpiring();

  return () => {
    disposed = true;
    stopCamera();
  };
}

// Readers (docs/api.md#roles): a worker or gateway account gets the router's message.
route('#/certs', render, { title: 'certs.title', nav: 'certs',
  roles: ['guardian', 'team_leader', 'approver', 'safety_manager', 'supervisor', 'regulator', 'admin'] });
