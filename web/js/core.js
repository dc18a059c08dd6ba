// core.js — shared services for every view: HTTP API, session, i18n, router, DOM
// builder, live stream (fetch-based SSE), formatting, toasts, and the shell (header,
// navigation, login page). Views import only from here (contract: web/README.md).

// ---------------------------------------------------------------------------
// DOM builder
// ---------------------------------------------------------------------------

// h('button', {class: 'big', 'data-testid': 'x', onclick: fn, text: '...'}, ...children)
// Attributes: `text` sets textContent, `class` (string or array), `style` (string or
// object), on* functions become listeners, booleans toggle the attribute, null/undefined/
// false are skipped, `dataset` an object. Never parses HTML.
export function h(tag, attrs, ...children) {
  const svg = tag.startsWith('svg:');
  const el = svg
    ? document.createElementNS('http://www.w3.org/2000/svg', tag.slice(4))
    : document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'text') {
        el.textContent = String(v);
      } else if (k === 'class') {
        const cls = Array.isArray(v) ? v.filter(Boolean).join(' ') : String(v);
        if (cls) el.setAttribute('class', cls);
      } else if (k === 'style' && typeof v === 'object') {
        for (const [sk, sv] of Object.entries(v)) {
          if (sv === null || sv === undefined) continue;
          if (sk.startsWith('--')) el.style.setProperty(sk, String(sv));
          else el.style[sk] = String(sv);
        }
      } else if (k === 'dataset' && typeof v === 'object') {
        for (const [dk, dv] of Object.entries(v)) if (dv !== null && dv !== undefined) el.dataset[dk] = String(dv);
      } else if (k.startsWith('on') && typeof v === 'function') {
        el.addEventListener(k.slice(2).toLowerCase(), v);
      } else if (k === 'value' && 'value' in el && !svg) {
        el.value = String(v);
      } else if (k === 'checked' && !svg) {
        el.checked = Boolean(v);
      } else if (v === true) {
        el.setAttribute(k, '');
      } else {
        el.setAttribute(k, String(v));
      }
    }
  }
  appendChildren(el, children);
  return el;
}

function appendChildren(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false || c === true) continue;
    if (Array.isArray(c)) appendChildren(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

// Removes every child of el.
export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

// ---------------------------------------------------------------------------
// i18n
// ---------------------------------------------------------------------------

const LANG_KEY = 'wg.lang';
const strings = { zh: {}, en: {} };
let currentLang = (() => {
  try {
    const v = localStorage.getItem(LANG_KEY);
    return v === 'en' || v === 'zh' ? v : 'zh';
  } catch {
    return 'zh';
  }
})();
const langListeners = new Set();

export function addStrings(dict) {
  for (const [code, table] of Object.entries(dict || {})) {
    if (!strings[code]) strings[code] = {};
    Object.assign(strings[code], table);
  }
}

// t('key', {n: 3}) -> the string of the current language with {n} replaced; falls back
// to Chinese, then to the key itself (tests look for raw keys on the page).
export function t(key, vars) {
  let s = strings[currentLang]?.[key];
  if (s === undefined) s = strings.zh[key];
  if (s === undefined) return key;
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
  return s;
}

export function lang() {
  return currentLang;
}

export function setLang(code) {
  if (code !== 'zh' && code !== 'en') return;
  currentLang = code;
  try {
    localStorage.setItem(LANG_KEY, code);
  } catch {
    /* private mode: keep in memory */
  }
  document.documentElement.lang = code === 'zh' ? 'zh-CN' : 'en';
  for (const fn of langListeners) fn(code);
  renderShell();
  rerender();
}

// onLang(fn) -> unsubscribe; called after the language changed (before views re-render).
export function onLang(fn) {
  langListeners.add(fn);
  return () => langListeners.delete(fn);
}

addStrings({
  zh: {
    'app.name': '特殊作业安全管控',
    'app.short': 'WorkGuard',
    'nav.board': '风险看板',
    'nav.alarms': '报警台',
    'nav.permits': '作业票',
    'nav.certs': '证书核验',
    'nav.evidence': '证据核验',
    'nav.main': '主导航',
    'lang.switch': 'English',
    'lang.switch.label': '切换语言为英文',
    'user.logout': '退出登录',
    'user.menu': '当前用户',
    'stream.open': '实时连接正常',
    'stream.reconnecting': '实时连接中断，正在重连…',
    'stream.closed': '实时连接未开启',
    'stream.connecting': '正在连接实时数据…',
    'login.title': '登录',
    'login.subtitle': '特殊作业安全管控平台',
    'login.username': '用户名',
    'login.password': '密码',
    'login.submit': '登录',
    'login.busy': '正在登录…',
    'login.err.username': '请输入用户名',
    'login.err.password': '请输入密码',
    'login.err.credentials': '用户名或密码错误，或账号已停用',
    'login.err.busy': '服务器繁忙，请稍后再试',
    'login.err.network': '无法连接服务器，请检查网络',
    'login.err.other': '登录失败：{msg}',
    'login.expired': '登录已过期，请重新登录',
    'router.notfound': '页面不存在',
    'router.notfound.hint': '地址 {path} 没有对应的页面。',
    'router.forbidden': '无权访问此页面',
    'router.forbidden.hint': '您的角色（{role}）不能使用“{page}”。需要以下角色之一：{roles}。',
    'router.error': '页面加载失败',
    'router.error.hint': '{msg}',
    'router.home': '返回风险看板',
    'common.loading': '加载中…',
    'common.retry': '重试',
    'common.close': '关闭',
    'common.none': '无',
    'common.error': '出错了：{msg}',
    'age.now': '刚刚',
    'age.s': '{n} 秒前',
    'age.m': '{n} 分钟前',
    'age.h': '{n} 小时前',
    'age.d': '{n} 天前',
    'level.red': '红色',
    'level.yellow': '黄色',
    'level.blue': '蓝色',
    'level.none': '正常',
    'role.admin': '管理员',
    'role.safety_manager': '安全管理员',
    'role.team_leader': '班组长',
    'role.guardian': '监护人',
    'role.approver': '审批人',
    'role.supervisor': '监督人',
    'role.regulator': '监管方',
    'role.worker': '作业人员',
    'role.gateway': '网关',
    'error.network': '网络错误，无法连接服务器',
    'error.session': '登录已失效，请重新登录',
  },
  en: {
    'app.name': 'Special Operations Safety',
    'app.short': 'WorkGuard',
    'nav.board': 'Risk board',
    'nav.alarms': 'Alarms',
    'nav.permits': 'Permits',
    'nav.certs': 'Certificates',
    'nav.evidence': 'Evidence',
    'nav.main': 'Main navigation',
    'lang.switch': '中文',
    'lang.switch.label': 'Switch language to Chinese',
    'user.logout': 'Log out',
    'user.menu': 'Signed in user',
    'stream.open': 'Live connection OK',
    'stream.reconnecting': 'Live connection lost, reconnecting…',
    'stream.closed': 'Live connection closed',
    'stream.connecting': 'Connecting to live data…',
    'login.title': 'Sign in',
    'login.subtitle': 'Special operations safety platform',
    'login.username': 'Username',
    'login.password': 'Password',
    'login.submit': 'Sign in',
    'login.busy': 'Signing in…',
    'login.err.username': 'Enter your username',
    'login.err.password': 'Enter your password',
    'login.err.credentials': 'Wrong username or password, or the account is disabled',
    'login.err.busy': 'The server is busy, try again shortly',
    'login.err.network': 'Cannot reach the server, check the network',
    'login.err.other': 'Sign-in failed: {msg}',
    'login.expired': 'Your session expired, sign in again',
    'router.notfound': 'Page not found',
    'router.notfound.hint': 'There is no page at {path}.',
    'router.forbidden': 'No access to this page',
    'router.forbidden.hint': 'Your role ({role}) cannot use "{page}". It needs one of: {roles}.',
    'router.error': 'The page failed to load',
    'router.error.hint': '{msg}',
    'router.home': 'Back to the risk board',
    'common.loading': 'Loading…',
    'common.retry': 'Retry',
    'common.close': 'Close',
    'common.none': 'None',
    'common.error': 'Error: {msg}',
    'age.now': 'just now',
    'age.s': '{n} s ago',
    'age.m': '{n} min ago',
    'age.h': '{n} h ago',
    'age.d': '{n} d ago',
    'level.red': 'Red',
    'level.yellow': 'Yellow',
    'level.blue': 'Blue',
    'level.none': 'Normal',
    'role.admin': 'Administrator',
    'role.safety_manager': 'Safety manager',
    'role.team_leader': 'Team leader',
    'role.guardian': 'Guardian',
    'role.approver': 'Approver',
    'role.supervisor': 'Supervisor',
    'role.regulator': 'Regulator',
    'role.worker': 'Worker',
    'role.gateway': 'Gateway',
    'error.network': 'Network error, cannot reach the server',
    'error.session': 'Your session expired, sign in again',
  },
});

// ---------------------------------------------------------------------------
// Session
// ---------------------------------------------------------------------------

const SESSION_KEY = 'wg.session';

function loadSession() {
  try {
    const raw = sessionStorage.getItem(SESSION_KEY);
    if (!raw) return null;
    const s = JSON.parse(raw);
    if (!s || typeof s.token !== 'string' || !s.user) return null;
    if (s.expires_at && Date.parse(s.expires_at) <= Date.now()) return null;
    return s;
  } catch {
    return null;
  }
}

let current = loadSession();

// session.token, session.user ({id, username, display_name, role, org_id}),
// session.expires_at, session.active (a non-expired session is held).
export const session = {
  get token() {
    return current ? current.token : null;
  },
  get user() {
    return current ? current.user : null;
  },
  get expires_at() {
    return current ? current.expires_at : null;
  },
  get active() {
    if (!current) return false;
    if (current.expires_at && Date.parse(current.expires_at) <= Date.now()) return false;
    return true;
  },
};

function storeSession(s) {
  current = s;
  try {
    if (s) sessionStorage.setItem(SESSION_KEY, JSON.stringify(s));
    else sessionStorage.removeItem(SESSION_KEY);
  } catch {
    /* storage unavailable: keep in memory only */
  }
}

export async function login(username, password) {
  const res = await api('POST', '/api/v1/auth/login', { username, password }, { noAuth: true });
  const u = res.user || {};
  const user = {
    id: u.id,
    username: u.username,
    display_name: u.display_name || u.username,
    role: u.role,
    org_id: u.org_id,
  };
  storeSession({ token: res.token, expires_at: res.expires_at, user });
  startStream();
  renderShell();
  return user;
}

export async function logout(reason) {
  const token = session.token;
  storeSession(null);
  stopStream();
  if (token) {
    // Best effort: the token is dropped locally whether or not the server answers.
    fetch('/api/v1/auth/logout', { method: 'POST', headers: { Authorization: `Bearer ${token}` } }).catch(() => {});
  }
  renderShell();
  if (reason) pendingLoginNotice = reason;
  if (location.hash !== '#/login') go('#/login');
  else rerender();
}

let pendingLoginNotice = null;

export function hasRole(...roles) {
  const r = session.user?.role;
  return Boolean(r) && roles.flat().includes(r);
}

// ---------------------------------------------------------------------------
// HTTP API
// ---------------------------------------------------------------------------

export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message || code || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = code || '';
    this.field = field || '';
  }
}

// api(method, path, body, {raw, headers}) -> parsed JSON (null for 204; text for non-JSON
// replies); raw: true returns the Response itself (after the status check). Throws
// ApiError {status, code, message, field}; status 0 is a network failure. A 401 on an
// authenticated call ends the session (goes to #/login).
export async function api(method, path, body, { raw = false, headers = {}, noAuth = false, signal } = {}) {
  const hdrs = { ...headers };
  let payload;
  if (body !== undefined && body !== null) {
    if (typeof body === 'string' || body instanceof Blob || body instanceof FormData ||
        body instanceof ArrayBuffer || ArrayBuffer.isView(body) || body instanceof URLSearchParams) {
      payload = body;
    } else {
      payload = JSON.stringify(body);
      if (!Object.keys(hdrs).some((k) => k.toLowerCase() === 'content-type')) hdrs['Content-Type'] = 'application/json';
    }
  }
  if (!noAuth && session.token) hdrs.Authorization = `Bearer ${session.token}`;
  let res;
  try {
    res = await fetch(path, { method, headers: hdrs, body: payload, signal });
  } catch (e) {
    if (e && e.name === 'AbortError') throw e;
    throw new ApiError(0, 'NETWORK', t('error.network'), '');
  }
  if (!res.ok) {
    let code = '';
    let message = '';
    let field = '';
    let data = null;
    try {
      data = await res.json();
      if (data && data.error) {
        code = data.error.code || '';
        message = data.error.message || '';
        field = data.error.field || '';
      }
    } catch {
      /* not JSON */
    }
    const err = new ApiError(res.status, code, message || `HTTP ${res.status}`, field);
    err.body = data;
    if (res.status === 401 && !noAuth && session.token) {
      logout(t('error.session'));
    }
    throw err;
  }
  if (raw) return res;
  if (res.status === 204) return null;
  const ct = res.headers.get('Content-Type') || '';
  if (ct.includes('json')) return res.json();
  return res.text();
}

// ---------------------------------------------------------------------------
// Formatting (Asia/Shanghai wall time: UTC+8, no daylight saving)
// ---------------------------------------------------------------------------

// -> epoch milliseconds, or NaN. Numbers: > 1e14 micros, > 1e11 millis, else seconds.
export function toMillis(ts) {
  if (ts === null || ts === undefined || ts === '') return NaN;
  if (ts instanceof Date) return ts.getTime();
  if (typeof ts === 'number') {
    if (Math.abs(ts) > 1e14) return ts / 1000;
    if (Math.abs(ts) > 1e11) return ts;
    return ts * 1000;
  }
  if (typeof ts === 'string' && /^\d+$/.test(ts)) return toMillis(Number(ts));
  return Date.parse(ts);
}

const pad = (n, w = 2) => String(n).padStart(w, '0');

// 'MM-DD HH:mm:ss' in Asia/Shanghai; '—' for a missing or bad time.
export function fmtTime(ts) {
  const ms = toMillis(ts);
  if (!Number.isFinite(ms)) return '—';
  const d = new Date(ms + 8 * 3600e3);
  return `${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

// 'YYYY-MM-DD HH:mm:ss' in Asia/Shanghai.
export function fmtDateTime(ts) {
  const ms = toMillis(ts);
  if (!Number.isFinite(ms)) return '—';
  const d = new Date(ms + 8 * 3600e3);
  return `${d.getUTCFullYear()}-${fmtTime(ms)}`;
}

export function fmtAge(ts) {
  const ms = toMillis(ts);
  if (!Number.isFinite(ms)) return '—';
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 5) return t('age.now');
  if (s < 60) return t('age.s', { n: s });
  if (s < 3600) return t('age.m', { n: Math.floor(s / 60) });
  if (s < 86400) return t('age.h', { n: Math.floor(s / 3600) });
  return t('age.d', { n: Math.floor(s / 86400) });
}

// '02:45' until ts, '-00:10' when overdue; hours shown as 'H:MM:SS' past an hour.
export function fmtCountdown(ts) {
  const ms = toMillis(ts);
  if (!Number.isFinite(ms)) return '—';
  const diff = Math.round((ms - Date.now()) / 1000);
  const sign = diff < 0 ? '-' : '';
  const a = Math.abs(diff);
  const hh = Math.floor(a / 3600);
  const mm = Math.floor((a % 3600) / 60);
  const ss = a % 60;
  return hh > 0 ? `${sign}${hh}:${pad(mm)}:${pad(ss)}` : `${sign}${pad(mm)}:${pad(ss)}`;
}

// 'red' | 'yellow' | 'blue' | anything else -> 'lvl-red' ... 'lvl-none'.
export function levelClass(level) {
  const l = normLevel(level);
  return `lvl-${l}`;
}

// 'red' | 'yellow' | 'blue' | 'none' for any level spelling the API uses.
export function normLevel(level) {
  const l = String(level || '').toLowerCase();
  if (l === 'red' || l === 'yellow' || l === 'blue') return l;
  return 'none';
}

const LEVEL_RANK = { none: 0, blue: 1, yellow: 2, red: 3 };
// The worse of two levels.
export function worseLevel(a, b) {
  return LEVEL_RANK[normLevel(a)] >= LEVEL_RANK[normLevel(b)] ? normLevel(a) : normLevel(b);
}

// ---------------------------------------------------------------------------
// Toasts
// ---------------------------------------------------------------------------

export function toast(message, kind = 'info') {
  let box = document.getElementById('toasts');
  if (!box) {
    box = h('div', { id: 'toasts', class: 'toasts', 'aria-live': 'polite', role: 'status' });
    document.body.appendChild(box);
  }
  const k = ['info', 'ok', 'warn', 'error'].includes(kind) ? kind : 'info';
  const el = h('div', { class: ['toast', `toast-${k}`], 'data-testid': 'toast', 'data-kind': k, role: k === 'error' ? 'alert' : null },
    h('span', { class: 'toast-msg', text: message }),
    h('button', { class: 'toast-close', type: 'button', 'aria-label': t('common.close'), text: '×', onclick: () => el.remove() }));
  box.appendChild(el);
  while (box.children.length > 5) box.firstChild.remove();
  setTimeout(() => el.remove(), k === 'error' ? 10000 : 5000);
  return el;
}

// ---------------------------------------------------------------------------
// Live stream: fetch-based Server-Sent Events reader
// ---------------------------------------------------------------------------

const handlers = new Map(); // type -> Set(fn); '*' gets every event
const statusHandlers = new Set();
let streamState = 'closed';
let streamCtl = null; // AbortController of the open fetch
let streamGen = 0;
let retryTimer = null;
let backoffMs = 1000;
const WATCHDOG_MS = 45000; // the server sends a heartbeat every 15 s

export function on(type, fn) {
  if (!handlers.has(type)) handlers.set(type, new Set());
  handlers.get(type).add(fn);
  return () => handlers.get(type)?.delete(fn);
}

export function onStatus(fn) {
  statusHandlers.add(fn);
  try {
    fn(streamState);
  } catch (e) {
    console.error(e);
  }
  return () => statusHandlers.delete(fn);
}

export function streamStatus() {
  return streamState;
}

function setStreamState(s) {
  if (s === streamState) return;
  streamState = s;
  for (const fn of statusHandlers) {
    try {
      fn(s);
    } catch (e) {
      console.error(e);
    }
  }
}

function dispatch(type, dataText, id) {
  let data = dataText;
  try {
    data = JSON.parse(dataText);
  } catch {
    /* keep text */
  }
  const meta = { id, type };
  for (const key of [type, '*']) {
    const set = handlers.get(key);
    if (!set) continue;
    for (const fn of [...set]) {
      try {
        fn(data, meta);
      } catch (e) {
        console.error('stream handler', type, e);
      }
    }
  }
}

function startStream() {
  stopStream(true);
  if (!session.active) {
    setStreamState('closed');
    return;
  }
  const gen = ++streamGen;
  runStream(gen);
}

function stopStream(quiet) {
  streamGen++;
  if (retryTimer) clearTimeout(retryTimer);
  retryTimer = null;
  if (streamCtl) streamCtl.abort();
  streamCtl = null;
  if (!quiet) setStreamState('closed');
}

async function runStream(gen) {
  const ctl = new AbortController();
  streamCtl = ctl;
  let watchdog = null;
  const kick = () => {
    if (watchdog) clearTimeout(watchdog);
    watchdog = setTimeout(() => ctl.abort(), WATCHDOG_MS);
  };
  let gotData = false;
  try {
    kick();
    const res = await fetch('/api/v1/stream', {
      headers: { Authorization: `Bearer ${session.token}`, Accept: 'text/event-stream' },
      signal: ctl.signal,
      cache: 'no-store',
    });
    if (gen !== streamGen) return;
    if (res.status === 401) {
      clearTimeout(watchdog);
      logout(t('error.session'));
      return;
    }
    if (!res.ok || !res.body) throw new Error(`stream HTTP ${res.status}`);
    setStreamState('open');
    const reader = res.body.getReader();
    const dec = new TextDecoder();
    let buf = '';
    let evType = '';
    let evData = [];
    let evId = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (gen !== streamGen) {
        reader.cancel().catch(() => {});
        return;
      }
      if (done) break;
      kick();
      if (!gotData) {
        gotData = true;
        backoffMs = 1000;
      }
      buf += dec.decode(value, { stream: true });
      // Walk the buffer with an index (a chunk may hold thousands of events: slicing the
      // rest of the buffer per line would be quadratic).
      let pos = 0;
      let cr = buf.indexOf('\r'); // cached: servers rarely send '\r' at all
      for (;;) {
        let nl = buf.indexOf('\n', pos);
        if (cr >= 0 && cr < pos) cr = buf.indexOf('\r', pos);
        if (cr >= 0 && (nl < 0 || cr < nl)) nl = cr;
        if (nl < 0) break;
        // A '\r' that ends the chunk may be the first half of '\r\n': wait for more.
        if (buf[nl] === '\r' && nl + 1 === buf.length) break;
        const line = buf.slice(pos, nl);
        pos = nl + (buf[nl] === '\r' && buf[nl + 1] === '\n' ? 2 : 1);
        if (line === '') {
          if (evData.length) dispatch(evType || 'message', evData.join('\n'), evId);
          evType = '';
          evData = [];
          continue;
        }
        if (line[0] === ':') continue;
        const c = line.indexOf(':');
        const field = c < 0 ? line : line.slice(0, c);
        let val = c < 0 ? '' : line.slice(c + 1);
        if (val[0] === ' ') val = val.slice(1);
        if (field === 'event') evType = val;
        else if (field === 'data') evData.push(val);
        else if (field === 'id') evId = val;
      }
      buf = pos ? buf.slice(pos) : buf;
      // A stream of 2,000 points at 1 Hz must not keep a growing buffer.
      if (buf.length > 1 << 20) buf = '';
    }
  } catch (e) {
    if (gen !== streamGen) return;
  } finally {
    if (watchdog) clearTimeout(watchdog);
  }
  if (gen !== streamGen) return;
  setStreamState('reconnecting');
  const delay = backoffMs + Math.random() * 500;
  backoffMs = Math.min(backoffMs * 2, 30000);
  retryTimer = setTimeout(() => {
    if (gen === streamGen && session.active) runStream(gen);
  }, delay);
}

// ---------------------------------------------------------------------------
// Router
// ---------------------------------------------------------------------------

const routes = []; // {pattern, parts, render, opts}
let activeCleanup = null;
let navSeq = 0;
let started = false;

// route('#/permits/:id', render, {title: 'permits.title', nav: 'permits', roles: [...]}).
// A pattern ending in '/*' matches any deeper path (params['*'] is the rest).
// opts.roles (optional): the roles that may open the page; others see a clear message.
// opts.public: shown without a session (the login page).
export function route(pattern, render, opts = {}) {
  const path = pattern.replace(/^#/, '');
  routes.push({ pattern, parts: path.split('/').filter(Boolean), render, opts });
}

export function go(hash) {
  const target = hash.startsWith('#') ? hash : `#${hash}`;
  if (location.hash === target) rerender();
  else location.hash = target;
}

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const q = raw.indexOf('?');
  const path = q < 0 ? raw : raw.slice(0, q);
  const query = {};
  if (q >= 0) {
    for (const [k, v] of new URLSearchParams(raw.slice(q + 1))) query[k] = v;
  }
  return { path, query };
}

function matchRoute(path) {
  const segs = path.split('/').filter(Boolean).map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  });
  let best = null;
  let bestScore = -1;
  for (const r of routes) {
    const params = {};
    let ok = true;
    let score = 0;
    const wild = r.parts[r.parts.length - 1] === '*';
    const fixed = wild ? r.parts.slice(0, -1) : r.parts;
    if (wild ? segs.length < fixed.length : segs.length !== fixed.length) continue;
    for (let i = 0; i < fixed.length; i++) {
      const p = fixed[i];
      if (p.startsWith(':')) params[p.slice(1)] = segs[i];
      else if (p === segs[i]) score += 2;
      else {
        ok = false;
        break;
      }
    }
    if (!ok) continue;
    if (wild) params['*'] = segs.slice(fixed.length).join('/');
    else score += 1;
    if (score > bestScore) {
      best = { r, params };
      bestScore = score;
    }
  }
  return best;
}

function messagePage(container, titleKey, hint, testid) {
  container.appendChild(h('section', { class: 'message-page', 'data-testid': testid },
    h('h1', { text: t(titleKey) }),
    hint ? h('p', { text: hint }) : null,
    session.active ? h('a', { class: 'btn', href: '#/board', text: t('router.home') }) : null));
}

// Re-runs the current route (after a language change or login).
export function rerender() {
  if (started) navigate();
}

async function navigate() {
  const seq = ++navSeq;
  if (activeCleanup) {
    try {
      activeCleanup();
    } catch (e) {
      console.error(e);
    }
    activeCleanup = null;
  }
  const { path, query } = parseHash();
  if (!session.active && current) {
    // Expired while open.
    storeSession(null);
    stopStream();
    pendingLoginNotice = t('login.expired');
    renderShell();
  }
  if (path === '/' || path === '') {
    location.replace(session.active ? '#/board' : '#/login');
    return;
  }
  const m = matchRoute(path);
  if (!session.active && !(m && m.r.opts.public)) {
    if (path !== '/login') returnTo = location.hash;
    location.replace('#/login');
    return;
  }
  if (session.active && path === '/login') {
    location.replace('#/board');
    return;
  }
  const view = document.getElementById('view');
  if (!view) return;
  clear(view);
  const container = h('div', { class: 'view-container' });
  view.appendChild(container);
  // A new page: start at its top, and let screen readers start there too (not on the
  // first load, where the browser's own focus order applies).
  if (navSeq > 1) {
    window.scrollTo(0, 0);
    view.focus({ preventScroll: true });
  }
  document.body.dataset.route = m ? m.r.pattern : 'notfound';
  markNav(m ? m.r.opts.nav : null);
  if (!m) {
    document.title = `${t('router.notfound')} · ${t('app.short')}`;
    messagePage(container, 'router.notfound', t('router.notfound.hint', { path }), 'page-notfound');
    return;
  }
  const { r, params } = m;
  document.title = `${r.opts.title ? t(r.opts.title) : t('app.name')} · ${t('app.short')}`;
  if (r.opts.roles && !hasRole(r.opts.roles)) {
    const page = r.opts.title ? t(r.opts.title) : path;
    messagePage(container, 'router.forbidden', t('router.forbidden.hint', {
      role: t(`role.${session.user.role}`),
      page,
      roles: r.opts.roles.map((x) => t(`role.${x}`)).join('、'),
    }), 'page-forbidden');
    return;
  }
  try {
    const cleanup = await r.render(container, params, query);
    if (seq !== navSeq) {
      if (typeof cleanup === 'function') cleanup();
      return;
    }
    if (typeof cleanup === 'function') activeCleanup = cleanup;
  } catch (e) {
    if (seq !== navSeq) return;
    console.error(e);
    clear(container);
    if (e instanceof ApiError && e.status === 403) {
      messagePage(container, 'router.forbidden', e.message, 'page-forbidden');
    } else if (!(e instanceof ApiError && e.status === 401)) {
      messagePage(container, 'router.error', t('router.error.hint', { msg: e.message || String(e) }), 'page-error');
    }
  }
}

let returnTo = null;

export function start() {
  if (started) return;
  started = true;
  document.documentElement.lang = currentLang === 'zh' ? 'zh-CN' : 'en';
  renderShell();
  if (session.active) startStream();
  // The skip link must not change the hash (the router owns it): focus <main> instead.
  for (const a of document.querySelectorAll('.skip-link')) {
    a.addEventListener('click', (ev) => {
      ev.preventDefault();
      document.getElementById('view')?.focus();
    });
  }
  window.addEventListener('hashchange', navigate);
  navigate();
}

// ---------------------------------------------------------------------------
// Shell: header with navigation, language switch, user, stream status
// ---------------------------------------------------------------------------

// Line icons (24 x 24, stroked): no icon font, no glyphs a system may lack.
const ICONS = {
  board: 'M3 3h8v8H3zM13 3h8v5h-8zM13 10h8v11h-8zM3 13h8v8H3z',
  alarms: 'M12 3L2 20h20L12 3zM12 9v5M12 16.5v1',
  permits: 'M6 2h9l5 5v15H6zM14 2v6h6M9 13h8M9 17h8',
  certs: 'M12 2a6.5 6.5 0 1 1 0 13a6.5 6.5 0 1 1 0-13zM9 8.5l2 2 4-4M8.5 14.5L7 22l5-3 5 3-1.5-7.5',
  evidence: 'M12 2l8 3v6c0 5-3.5 9-8 11-4.5-2-8-6-8-11V5zM8 12l3 3 5-6',
  brand: 'M3 18h18M5 18a7 7 0 0 1 14 0M12 5v6M9 11.5a3 3 0 0 1 6 0',
};

export function icon(name, cls = 'icon') {
  return h('svg:svg', { class: cls, viewBox: '0 0 24 24', width: '24', height: '24', 'aria-hidden': 'true', focusable: 'false' },
    h('svg:path', { d: ICONS[name] || '', fill: 'none', stroke: 'currentColor', 'stroke-width': '2', 'stroke-linecap': 'round', 'stroke-linejoin': 'round' }));
}

export const NAV = [
  { key: 'board', href: '#/board' },
  { key: 'alarms', href: '#/alarms' },
  { key: 'permits', href: '#/permits' },
  { key: 'certs', href: '#/certs' },
  { key: 'evidence', href: '#/evidence' },
];

let activeNav = null;

function markNav(key) {
  activeNav = key || null;
  for (const a of document.querySelectorAll('[data-nav]')) {
    if (a.dataset.nav === activeNav) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

let shellStatusUnsub = null;

function renderShell() {
  const header = document.getElementById('app-header');
  if (!header) return;
  clear(header);
  if (shellStatusUnsub) {
    shellStatusUnsub();
    shellStatusUnsub = null;
  }
  document.body.classList.toggle('has-session', session.active);
  const brand = h('a', { class: 'brand', href: session.active ? '#/board' : '#/login' },
    icon('brand', 'icon brand-mark'),
    h('span', { class: 'brand-name', text: t('app.name') }));
  const langBtn = h('button', {
    type: 'button', class: 'lang-switch', 'data-testid': 'lang-switch',
    lang: currentLang === 'zh' ? 'en' : 'zh-CN',
    'aria-label': t('lang.switch.label'),
    text: t('lang.switch'),
    onclick: () => setLang(currentLang === 'zh' ? 'en' : 'zh'),
  });
  if (!session.active) {
    header.appendChild(h('div', { class: 'header-bar' }, brand, h('div', { class: 'header-tools' }, langBtn)));
    return;
  }
  const nav = h('nav', { class: 'main-nav', 'aria-label': t('nav.main') },
    h('ul', null, NAV.map((n) => h('li', null,
      h('a', { href: n.href, 'data-testid': `nav-${n.key}`, 'data-nav': n.key, 'aria-current': n.key === activeNav ? 'page' : null },
        icon(n.key, 'icon nav-icon'),
        h('span', { class: 'nav-label', text: t(`nav.${n.key}`) }))))));
  const status = h('span', { class: 'stream-status', 'data-testid': 'stream-status', 'data-state': streamState, role: 'status' },
    h('span', { class: 'dot', 'aria-hidden': 'true' }),
    h('span', { class: 'stream-label' }));
  shellStatusUnsub = onStatus((s) => {
    status.dataset.state = s;
    const label = t(`stream.${s}`);
    status.title = label;
    status.querySelector('.stream-label').textContent = label;
  });
  const u = session.user;
  const user = h('div', { class: 'user-menu', 'data-testid': 'user-menu', 'aria-label': t('user.menu') },
    h('span', { class: 'user-name', text: u.display_name || u.username }),
    h('span', { class: 'user-role', 'data-role': u.role, text: t(`role.${u.role}`) }),
    h('button', { type: 'button', class: 'logout', 'data-testid': 'logout', text: t('user.logout'), onclick: () => logout() }));
  header.appendChild(h('div', { class: 'header-bar' }, brand, nav, h('div', { class: 'header-tools' }, status, langBtn, user)));
}

// ---------------------------------------------------------------------------
// Login page (#/login)
// ---------------------------------------------------------------------------

route('#/login', (container) => {
  const err = h('p', { class: 'login-error', 'data-testid': 'login-error', role: 'alert', hidden: true });
  const user = h('input', { id: 'login-username', name: 'username', type: 'text', autocomplete: 'username', autocapitalize: 'none', spellcheck: 'false', required: true, 'data-testid': 'login-username' });
  const pass = h('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true, 'data-testid': 'login-password' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary big', 'data-testid': 'login-submit', text: t('login.submit') });
  const showError = (msg, input) => {
    err.textContent = msg;
    err.hidden = false;
    if (input) {
      input.setAttribute('aria-invalid', 'true');
      input.focus();
    }
  };
  if (pendingLoginNotice) {
    showError(pendingLoginNotice);
    pendingLoginNotice = null;
  }
  const form = h('form', {
    class: 'login-form', novalidate: true,
    onsubmit: async (ev) => {
      ev.preventDefault();
      err.hidden = true;
      user.removeAttribute('aria-invalid');
      pass.removeAttribute('aria-invalid');
      const name = user.value.trim();
      if (!name) return showError(t('login.err.username'), user);
      if (!pass.value) return showError(t('login.err.password'), pass);
      submit.disabled = true;
      submit.textContent = t('login.busy');
      try {
        await login(name, pass.value);
        const target = returnTo && returnTo !== '#/login' ? returnTo : '#/board';
        returnTo = null;
        go(target);
      } catch (e) {
        submit.disabled = false;
        submit.textContent = t('login.submit');
        if (e instanceof ApiError && e.status === 401) showError(t('login.err.credentials'), pass);
        else if (e instanceof ApiError && (e.status === 503 || e.status === 429)) showError(t('login.err.busy'));
        else if (e instanceof ApiError && e.status === 0) showError(t('login.err.network'));
        else if (e instanceof ApiError && e.field === 'username') showError(t('login.err.other', { msg: e.message }), user);
        else if (e instanceof ApiError && e.field === 'password') showError(t('login.err.other', { msg: e.message }), pass);
        else showError(t('login.err.other', { msg: e.message || String(e) }));
      }
    },
  },
  h('div', { class: 'field' }, h('label', { for: 'login-username', text: t('login.username') }), user),
  h('div', { class: 'field' }, h('label', { for: 'login-password', text: t('login.password') }), pass),
  err,
  submit);
  container.appendChild(h('section', { class: 'login-page' },
    h('div', { class: 'login-card' },
      h('h1', { text: t('login.title') }),
      h('p', { class: 'login-subtitle', text: t('login.subtitle') }),
      form)));
  setTimeout(() => user.focus(), 0);
}, { title: 'login.title', public: true });
