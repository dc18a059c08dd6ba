// alarms.js — 报警台 alarm console: #/alarms (open alarms, live) and #/alarms/:id (detail,
// what the SOP did automatically, evidence, acknowledgement with a note).
// API: GET /api/v1/alarms, GET /api/v1/alarms/{id}, POST /api/v1/alarms/{id}/ack,
// GET /api/v1/ledger/proof?seq=N; live: stream events `alarm` ({event, alarm}).
import {
  api, t, addStrings, route, h, on, fmtTime, fmtAge, fmtCountdown, toast, levelClass,
  session, go, lang,
} from '../core.js';

addStrings({
  zh: {
    'alarms.title': '报警台',
    'alarms.detail.title': '报警详情',
    'alarms.open': '未关闭报警',
    'alarms.empty': '当前没有未关闭的报警。',
    'alarms.count': '共 {n} 条',
    'alarms.count.level': '{level} {n}',
    'alarms.col.level': '级别',
    'alarms.col.what': '报警内容',
    'alarms.col.where': '监测点 / 区域 / 装置',
    'alarms.col.rule': '规则与依据',
    'alarms.col.value': '实测值 / 阈值',
    'alarms.col.age': '持续',
    'alarms.col.deadline': '确认时限',
    'alarms.col.action': '操作',
    'alarms.value': '{value} {unit}',
    'alarms.vs': '阈值 {threshold} {unit}',
    'alarms.peak': '峰值 {peak} {unit}',
    'alarms.overdue': '已超时 {t}',
    'alarms.remaining': '剩余 {t}',
    'alarms.acked': '已确认',
    'alarms.ack': '确认报警',
    'alarms.ack.short': '确认',
    'alarms.ack.note': '确认说明（现场处置情况）',
    'alarms.ack.note.ph': '例如：已通知现场停止作业，人员已撤离，正在通风',
    'alarms.ack.submit': '确认报警',
    'alarms.ack.busy': '正在提交…',
    'alarms.ack.done': '报警 #{id} 已确认',
    'alarms.ack.cancel': '取消',
    'alarms.ack.err.forbidden': '您的角色（{role}）不能确认{level}报警。可确认的角色：{roles}。',
    'alarms.ack.err.forbidden.generic': '您的角色（{role}）无权确认此报警：{msg}',
    'alarms.ack.err.conflict': '该报警已被确认，无需重复确认。',
    'alarms.ack.err.notfound': '报警不存在或不属于本单位。',
    'alarms.ack.err.other': '确认失败：{msg}',
    'alarms.ack.who': '{by} 于 {at} 确认',
    'alarms.back': '返回报警台',
    'alarms.live': '实时更新',
    'alarms.show.cleared': '含已恢复未确认',
    'alarms.state.active_unacked': '报警中·未确认',
    'alarms.state.active_acked': '报警中·已确认',
    'alarms.state.cleared_unacked': '已恢复·未确认',
    'alarms.state.cleared_acked': '已恢复·已确认',
    'alarms.f.id': '报警编号',
    'alarms.f.state': '状态',
    'alarms.f.level': '当前级别',
    'alarms.f.raised_level': '触发级别',
    'alarms.f.message': '报警信息',
    'alarms.f.point': '监测点',
    'alarms.f.kind': '监测类型',
    'alarms.f.zone': '区域',
    'alarms.f.site': '装置 / 场所',
    'alarms.f.rule': '规则',
    'alarms.f.rule_kind': '规则类型',
    'alarms.f.clause': '依据条款',
    'alarms.f.profiles': '生效的阈值方案',
    'alarms.f.threshold': '阈值',
    'alarms.f.value': '触发值',
    'alarms.f.peak': '峰值',
    'alarms.f.raised_at': '报警时间',
    'alarms.f.reading_time': '读数时间',
    'alarms.f.ack_deadline': '确认时限',
    'alarms.f.acked': '确认',
    'alarms.f.ack_note': '确认说明',
    'alarms.f.cleared_at': '恢复时间',
    'alarms.f.escalations': '升级次数',
    'alarms.f.permits': '关联作业票',
    'alarms.actions': 'SOP 自动处置',
    'alarms.actions.none': '本级别 SOP 未触发自动处置。',
    'alarms.actions.kind': '动作',
    'alarms.actions.target': '对象',
    'alarms.actions.time': '时间',
    'alarms.actions.status': '结果',
    'alarms.actions.evidence': '证据',
    'alarms.action.notify': '通知相关人员',
    'alarms.action.suspend_permits': '暂停作业票',
    'alarms.action.suspend_permit': '暂停作业票',
    'alarms.action.stop_work': '停止作业',
    'alarms.action.power-lock': '断电闭锁',
    'alarms.action.status.done': '已完成',
    'alarms.action.power_lock': '断电闭锁',
    'alarms.action.broadcast': '现场广播',
    'alarms.action.status.sent': '已执行',
    'alarms.action.status.failed': '执行失败',
    'alarms.action.status.no_actuator': '无执行设备',
    'alarms.action.status.pending': '待执行',
    'alarms.suspended': '被暂停的作业票',
    'alarms.suspended.none': '无关联作业票。',
    'alarms.evidence': '证据',
    'alarms.evidence.link': '查看证据链证明',
    'alarms.evidence.fact': '事实 #{seq}',
    'alarms.evidence.title': '证据链证明（事实 #{seq}）',
    'alarms.evidence.none': '此报警尚无可查询的事实序号（证据日志记录了报警，但接口未返回其序号）。',
    'alarms.evidence.forbidden': '您的角色（{role}）不能查看证据日志。可查看的角色：安全管理员、监督人、监管方、管理员。',
    'alarms.evidence.err': '无法读取证明：{msg}',
    'alarms.evidence.kind': '事实类型',
    'alarms.evidence.actor': '操作者',
    'alarms.evidence.time': '记录时间',
    'alarms.evidence.leaf': '叶子哈希',
    'alarms.evidence.size': '日志大小',
    'alarms.evidence.proof': '审计路径（{n} 个哈希）',
    'alarms.evidence.checkpoint': '签名检查点',
    'alarms.evidence.payload': '事实内容',
    'alarms.forecast': '报警依据数据（预测、定位等）',
    'alarms.err.load': '无法加载报警：{msg}',
    'alarms.notfound': '报警 #{id} 不存在或不属于本单位。',
    'alarms.new': '新报警：{msg}',
  },
  en: {
    'alarms.title': 'Alarm console',
    'alarms.detail.title': 'Alarm detail',
    'alarms.open': 'Open alarms',
    'alarms.empty': 'No open alarms right now.',
    'alarms.count': '{n} in total',
    'alarms.count.level': '{level} {n}',
    'alarms.col.level': 'Level',
    'alarms.col.what': 'Alarm',
    'alarms.col.where': 'Point / zone / site',
    'alarms.col.rule': 'Rule and clause',
    'alarms.col.value': 'Value / threshold',
    'alarms.col.age': 'Age',
    'alarms.col.deadline': 'Ack deadline',
    'alarms.col.action': 'Action',
    'alarms.value': '{value} {unit}',
    'alarms.vs': 'threshold {threshold} {unit}',
    'alarms.peak': 'peak {peak} {unit}',
    'alarms.overdue': 'overdue {t}',
    'alarms.remaining': '{t} left',
    'alarms.acked': 'Acknowledged',
    'alarms.ack': 'Acknowledge',
    'alarms.ack.short': 'Ack',
    'alarms.ack.note': 'Note (what was done on site)',
    'alarms.ack.note.ph': 'e.g. work stopped, people evacuated, ventilating',
    'alarms.ack.submit': 'Acknowledge alarm',
    'alarms.ack.busy': 'Submitting…',
    'alarms.ack.done': 'Alarm #{id} acknowledged',
    'alarms.ack.cancel': 'Cancel',
    'alarms.ack.err.forbidden': 'Your role ({role}) may not acknowledge a {level} alarm. Roles that may: {roles}.',
    'alarms.ack.err.forbidden.generic': 'Your role ({role}) may not acknowledge this alarm: {msg}',
    'alarms.ack.err.conflict': 'This alarm has already been acknowledged.',
    'alarms.ack.err.notfound': 'The alarm does not exist or belongs to another organization.',
    'alarms.ack.err.other': 'Acknowledgement failed: {msg}',
    'alarms.ack.who': 'acknowledged by {by} at {at}',
    'alarms.back': 'Back to the alarm console',
    'alarms.live': 'Live',
    'alarms.show.cleared': 'Include cleared, unacknowledged',
    'alarms.state.active_unacked': 'Active · unacknowledged',
    'alarms.state.active_acked': 'Active · acknowledged',
    'alarms.state.cleared_unacked': 'Cleared · unacknowledged',
    'alarms.state.cleared_acked': 'Cleared · acknowledged',
    'alarms.f.id': 'Alarm id',
    'alarms.f.state': 'State',
    'alarms.f.level': 'Current level',
    'alarms.f.raised_level': 'Raised at level',
    'alarms.f.message': 'Message',
    'alarms.f.point': 'Monitoring point',
    'alarms.f.kind': 'Kind',
    'alarms.f.zone': 'Zone',
    'alarms.f.site': 'Site',
    'alarms.f.rule': 'Rule',
    'alarms.f.rule_kind': 'Rule kind',
    'alarms.f.clause': 'Clause',
    'alarms.f.profiles': 'Active threshold profiles',
    'alarms.f.threshold': 'Threshold',
    'alarms.f.value': 'Value',
    'alarms.f.peak': 'Peak',
    'alarms.f.raised_at': 'Raised at',
    'alarms.f.reading_time': 'Reading time',
    'alarms.f.ack_deadline': 'Acknowledge by',
    'alarms.f.acked': 'Acknowledgement',
    'alarms.f.ack_note': 'Note',
    'alarms.f.cleared_at': 'Cleared at',
    'alarms.f.escalations': 'Escalations',
    'alarms.f.permits': 'Permits',
    'alarms.actions': 'What the SOP did automatically',
    'alarms.actions.none': 'The SOP of this level took no automatic action.',
    'alarms.actions.kind': 'Action',
    'alarms.actions.target': 'Target',
    'alarms.actions.time': 'Time',
    'alarms.actions.status': 'Result',
    'alarms.actions.evidence': 'Evidence',
    'alarms.action.notify': 'Notify people',
    'alarms.action.suspend_permits': 'Suspend permits',
    'alarms.action.suspend_permit': 'Suspend the permit',
    'alarms.action.stop_work': 'Stop work',
    'alarms.action.power-lock': 'Power lock-out',
    'alarms.action.status.done': 'Done',
    'alarms.action.power_lock': 'Power lock-out',
    'alarms.action.broadcast': 'Site broadcast',
    'alarms.action.status.sent': 'Done',
    'alarms.action.status.failed': 'Failed',
    'alarms.action.status.no_actuator': 'No actuator',
    'alarms.action.status.pending': 'Pending',
    'alarms.suspended': 'Permits suspended',
    'alarms.suspended.none': 'No permits involved.',
    'alarms.evidence': 'Evidence',
    'alarms.evidence.link': 'Show the ledger proof',
    'alarms.evidence.fact': 'fact #{seq}',
    'alarms.evidence.title': 'Ledger proof (fact #{seq})',
    'alarms.evidence.none': 'No fact sequence number is available for this alarm yet (the evidence log holds it, but the API does not name its seq).',
    'alarms.evidence.forbidden': 'Your role ({role}) may not read the evidence log. Roles that may: safety manager, supervisor, regulator, administrator.',
    'alarms.evidence.err': 'Cannot read the proof: {msg}',
    'alarms.evidence.kind': 'Fact kind',
    'alarms.evidence.actor': 'Actor',
    'alarms.evidence.time': 'Recorded',
    'alarms.evidence.leaf': 'Leaf hash',
    'alarms.evidence.size': 'Log size',
    'alarms.evidence.proof': 'Audit path ({n} hashes)',
    'alarms.evidence.checkpoint': 'Signed checkpoint',
    'alarms.evidence.payload': 'Fact payload',
    'alarms.forecast': 'Evidence data (forecast, positions …)',
    'alarms.err.load': 'Cannot load alarms: {msg}',
    'alarms.notfound': 'Alarm #{id} does not exist or belongs to another organization.',
    'alarms.new': 'New alarm: {msg}',
  },
});

const OPEN_STATES = ['active_unacked', 'active_acked', 'cleared_unacked'];
const RANK = { red: 3, yellow: 2, blue: 1 };

// Shared look-ups (points by id, sites by code), loaded once per page visit.
async function loadNames() {
  const names = { points: new Map(), sites: new Map() };
  const [pts, sites] = await Promise.allSettled([api('GET', '/api/v1/points'), api('GET', '/api/v1/sites')]);
  if (pts.status === 'fulfilled') for (const p of pts.value.points || []) names.points.set(p.id, p);
  if (sites.status === 'fulfilled') for (const s of sites.value.sites || []) names.sites.set(s.code, s);
  return names;
}

function levelText(a) {
  const l = String(a.level || '').toLowerCase();
  const key = `level.${l}`;
  const s = t(key);
  return s === key ? (a.level_zh || a.level) : s;
}

function levelBadge(a) {
  return h('span', { class: ['level-badge', levelClass(a.level)], 'data-level': a.level }, levelText(a));
}

function num(v) {
  if (v === null || v === undefined || v === '') return '—';
  const n = Number(v);
  if (!Number.isFinite(n)) return String(v);
  return String(Math.round(n * 100) / 100);
}

function alarmMessage(a) {
  const zh = lang() === 'zh';
  return (zh ? a.message_zh : a.message_en) || a.message_zh || a.message_en || a.rule;
}

function roleName(r) {
  const k = `role.${r}`;
  const s = t(k);
  return s === k ? r : s;
}

// The API's acknowledgement refusal in the user's language.
export function ackErrorText(e, alarm) {
  if (!e || !e.status) return t('alarms.ack.err.other', { msg: (e && e.message) || String(e) });
  const role = roleName(session.user?.role || '');
  if (e.status === 403) {
    const m = /may not acknowledge an? (\w+) alarm \(allowed: ([^)]*)\)/.exec(e.message || '');
    if (m) {
      const roles = m[2].split(/[,\s]+/).filter(Boolean).map(roleName).join('、');
      return t('alarms.ack.err.forbidden', { role, level: t(`level.${m[1]}`), roles });
    }
    return t('alarms.ack.err.forbidden.generic', { role, msg: e.message });
  }
  if (e.status === 409) return t('alarms.ack.err.conflict');
  if (e.status === 404) return t('alarms.ack.err.notfound');
  void alarm;
  return t('alarms.ack.err.other', { msg: e.message });
}

function sortAlarms(list) {
  return list.sort((a, b) => (RANK[b.level] || 0) - (RANK[a.level] || 0) ||
    Date.parse(a.raised_at) - Date.parse(b.raised_at) || a.id - b.id);
}

// Countdown element to the acknowledgement deadline; updated by tick().
function countdownEl(a) {
  const el = h('span', { class: 'ack-countdown', 'data-testid': 'ack-countdown', 'data-deadline': a.ack_deadline || '' });
  updateCountdown(el, a);
  return el;
}

function updateCountdown(el, a) {
  const acked = a.state === 'active_acked' || a.state === 'cleared_acked';
  if (acked) {
    el.textContent = t('alarms.acked');
    el.dataset.overdue = '0';
    el.classList.remove('overdue');
    el.classList.add('done');
    return;
  }
  const ms = Date.parse(a.ack_deadline);
  if (!Number.isFinite(ms)) {
    el.textContent = '—';
    return;
  }
  const over = ms <= Date.now();
  const cd = fmtCountdown(a.ack_deadline);
  el.textContent = over ? t('alarms.overdue', { t: cd.replace(/^-/, '') }) : t('alarms.remaining', { t: cd });
  el.dataset.overdue = over ? '1' : '0';
  el.classList.toggle('overdue', over);
}

function whereText(a, names) {
  const p = names.points.get(a.point);
  const site = names.sites.get(a.site);
  return [p && p.name ? `${p.name}（${a.point}）` : a.point, a.zone, site ? site.name : a.site].filter(Boolean).join(' · ');
}

// ---------------------------------------------------------------------------
// Acknowledgement form (list dialog and detail page share it)
// ---------------------------------------------------------------------------

function ackForm(a, { onDone, onCancel, focus = false } = {}) {
  const note = h('textarea', {
    id: `ack-note-${a.id}`, 'data-testid': 'ack-note', rows: 3, maxlength: 2000,
    placeholder: t('alarms.ack.note.ph'),
  });
  const err = h('p', { class: 'ack-error', 'data-testid': 'ack-error', role: 'alert', hidden: true });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary big ack-submit', 'data-testid': 'ack-submit', text: t('alarms.ack.submit') });
  const form = h('form', {
    class: 'ack-form', novalidate: true,
    onsubmit: async (ev) => {
      ev.preventDefault();
      err.hidden = true;
      submit.disabled = true;
      submit.textContent = t('alarms.ack.busy');
      try {
        const body = note.value.trim() ? { note: note.value.trim() } : {};
        const res = await api('POST', `/api/v1/alarms/${a.id}/ack`, body);
        toast(t('alarms.ack.done', { id: a.id }), 'ok');
        if (onDone) onDone(res.alarm || res);
      } catch (e) {
        err.textContent = ackErrorText(e, a);
        err.hidden = false;
        submit.disabled = false;
        submit.textContent = t('alarms.ack.submit');
      }
    },
  },
  h('label', { for: `ack-note-${a.id}`, text: t('alarms.ack.note') }),
  note,
  err,
  h('div', { class: 'ack-buttons' },
    submit,
    onCancel ? h('button', { type: 'button', class: 'btn big', text: t('alarms.ack.cancel'), onclick: onCancel }) : null));
  if (focus) setTimeout(() => note.focus(), 0);
  return form;
}

function openDialog(title, body, { testid } = {}) {
  const dlg = h('dialog', { class: 'wg-dialog', 'data-testid': testid || null },
    h('div', { class: 'wg-dialog-head' },
      h('h2', { text: title }),
      h('button', { type: 'button', class: 'wg-dialog-close', 'aria-label': t('common.close'), text: '×', onclick: () => dlg.close() })),
    h('div', { class: 'wg-dialog-body' }, body));
  dlg.addEventListener('close', () => dlg.remove());
  document.body.appendChild(dlg);
  if (typeof dlg.showModal === 'function') dlg.showModal();
  else dlg.setAttribute('open', '');
  return dlg;
}

// ---------------------------------------------------------------------------
// Ledger proof dialog (shared with permits.js through the export)
// ---------------------------------------------------------------------------

export async function showProof(seq) {
  const body = h('div', { class: 'proof', 'data-testid': 'proof' }, h('p', { class: 'muted', text: t('common.loading') }));
  openDialog(t('alarms.evidence.title', { seq }), body, { testid: 'proof-dialog' });
  try {
    const p = await api('GET', `/api/v1/ledger/proof?seq=${encodeURIComponent(seq)}`);
    const f = p.fact || {};
    let payload = f.payload;
    if (typeof payload === 'string') {
      try { payload = JSON.parse(payload); } catch { /* keep text */ }
    }
    body.replaceChildren(
      h('dl', { class: 'pk-kv' },
        h('dt', { text: t('alarms.evidence.kind') }), h('dd', { text: f.kind || '—' }),
        h('dt', { text: t('alarms.evidence.actor') }), h('dd', { text: f.actor || '—' }),
        h('dt', { text: t('alarms.evidence.time') }), h('dd', { text: fmtTime(f.time || f.recorded_at) }),
        h('dt', { text: t('alarms.evidence.leaf') }), h('dd', { class: 'mono', text: p.leaf_hash || '—' }),
        h('dt', { text: t('alarms.evidence.size') }), h('dd', { text: String(p.tree_size ?? '—') })),
      h('details', null, h('summary', { text: t('alarms.evidence.payload') }),
        h('pre', { class: 'mono', text: typeof payload === 'string' ? payload : JSON.stringify(payload ?? f, null, 2) })),
      h('details', null, h('summary', { text: t('alarms.evidence.proof', { n: (p.proof || []).length }) }),
        h('pre', { class: 'mono', text: (p.proof || []).join('\n') })),
      h('details', null, h('summary', { text: t('alarms.evidence.checkpoint') }),
        h('pre', { class: 'mono', text: p.checkpoint || '' })));
  } catch (e) {
    const msg = e.status === 403
      ? t('alarms.evidence.forbidden', { role: roleName(session.user?.role || '') })
      : t('alarms.evidence.err', { msg: e.message });
    body.replaceChildren(h('p', { class: 'proof-error', 'data-testid': 'proof-error', role: 'alert', text: msg }));
  }
}

// ---------------------------------------------------------------------------
// #/alarms — the console
// ---------------------------------------------------------------------------

async function renderList(container) {
  const alarms = new Map();
  let names = { points: new Map(), sites: new Map() };
  const summary = h('div', { class: 'alarm-summary', 'data-testid': 'alarm-summary' });
  const listEl = h('div', { class: 'alarm-list', role: 'list', 'data-testid': 'alarm-list' });
  const status = h('p', { class: 'muted', text: t('common.loading') });
  container.appendChild(h('section', { class: 'alarms-page' },
    h('div', { class: 'page-head' },
      h('h1', { text: t('alarms.title') }),
      h('span', { class: 'live-pill', text: t('alarms.live') }),
      summary),
    status,
    listEl));

  const rows = new Map(); // id -> {row, cd, age, alarm}

  function rowFor(a) {
    const acked = a.state === 'active_acked' || a.state === 'cleared_acked';
    const cd = countdownEl(a);
    const age = h('span', { class: 'alarm-age', 'data-raised': a.raised_at, text: fmtAge(a.raised_at) });
    const ackBtn = acked ? null : h('button', {
      type: 'button', class: 'btn btn-primary ack-btn', 'data-testid': `alarm-ack-${a.id}`,
      text: t('alarms.ack.short'),
      onclick: (ev) => {
        ev.stopPropagation();
        const dlg = openDialog(`${t('alarms.ack')} #${a.id}`, [
          h('p', { class: ['ack-summary', levelClass(a.level)] }, levelBadge(a), ' ', alarmMessage(a)),
          ackForm(a, {
            onDone: (updated) => {
              dlg.close();
              upsert(updated);
            },
            onCancel: () => dlg.close(),
            focus: true,
          }),
        ], { testid: 'ack-dialog' });
      },
    });
    const row = h('article', {
      class: ['alarm-row', levelClass(a.level), `state-${a.state}`],
      role: 'listitem',
      'data-testid': `alarm-row-${a.id}`, 'data-level': a.level, 'data-state': a.state, 'data-id': a.id,
      tabindex: 0,
      onclick: () => go(`#/alarms/${a.id}`),
      onkeydown: (ev) => { if (ev.key === 'Enter') go(`#/alarms/${a.id}`); },
    },
    h('div', { class: 'alarm-level' }, levelBadge(a), h('span', { class: 'alarm-state', text: t(`alarms.state.${a.state}`) })),
    h('div', { class: 'alarm-main' },
      h('a', { class: 'alarm-msg', href: `#/alarms/${a.id}`, text: alarmMessage(a), onclick: (ev) => ev.stopPropagation() }),
      h('div', { class: 'alarm-where', text: whereText(a, names) }),
      h('div', { class: 'alarm-rule' }, h('code', { text: a.rule }), ' ', h('span', { class: 'clause', text: a.clause }))),
    h('div', { class: 'alarm-value' },
      h('strong', { text: t('alarms.value', { value: num(a.value), unit: a.unit || '' }) }),
      h('span', { class: 'muted', text: t('alarms.vs', { threshold: num(a.threshold), unit: a.unit || '' }) })),
    h('div', { class: 'alarm-time' }, age, cd),
    h('div', { class: 'alarm-act' }, ackBtn));
    return { row, cd, age, alarm: a };
  }

  function render() {
    const list = sortAlarms([...alarms.values()]);
    listEl.replaceChildren();
    rows.clear();
    for (const a of list) {
      const r = rowFor(a);
      rows.set(a.id, r);
      listEl.appendChild(r.row);
    }
    status.hidden = list.length > 0;
    status.textContent = list.length ? '' : t('alarms.empty');
    status.dataset.testid = 'alarms-empty';
    const by = { red: 0, yellow: 0, blue: 0 };
    for (const a of list) if (a.level in by) by[a.level]++;
    summary.replaceChildren(
      h('span', { class: 'count', text: t('alarms.count', { n: list.length }) }),
      ...['red', 'yellow', 'blue'].map((l) => h('span', { class: ['level-badge', levelClass(l)], 'data-count-level': l, text: t('alarms.count.level', { level: t(`level.${l}`), n: by[l] }) })));
  }

  function upsert(a) {
    if (!a || a.id === undefined) return;
    if (OPEN_STATES.includes(a.state)) alarms.set(a.id, a);
    else alarms.delete(a.id);
    render();
  }

  try {
    const [list, n] = await Promise.all([
      api('GET', `/api/v1/alarms?state=${OPEN_STATES.join(',')}&limit=1000`),
      loadNames(),
    ]);
    names = n;
    for (const a of list.alarms || []) alarms.set(a.id, a);
    render();
  } catch (e) {
    status.textContent = t('alarms.err.load', { msg: e.message });
    status.setAttribute('role', 'alert');
  }

  const unsub = on('alarm', (data) => {
    const a = data && data.alarm ? data.alarm : data;
    if (!a || typeof a !== 'object') return;
    if (data.event === 'raised' && !alarms.has(a.id)) toast(t('alarms.new', { msg: alarmMessage(a) }), a.level === 'red' ? 'error' : 'warn');
    upsert(a);
  });
  const timer = setInterval(() => {
    for (const r of rows.values()) {
      updateCountdown(r.cd, r.alarm);
      r.age.textContent = fmtAge(r.alarm.raised_at);
    }
  }, 1000);
  return () => {
    unsub();
    clearInterval(timer);
  };
}

// ---------------------------------------------------------------------------
// #/alarms/:id — detail
// ---------------------------------------------------------------------------

function actionKindText(kind) {
  const k = `alarms.action.${kind}`;
  const s = t(k);
  return s === k ? kind : s;
}

function actionStatusText(st) {
  if (!st) return '—';
  const k = `alarms.action.status.${st}`;
  const s = t(k);
  return s === k ? st : s;
}

// The fact seqs the detail can prove: the alarm's own (if the API names it) and its actions'.
function alarmSeqs(a) {
  const seqs = [];
  for (const k of ['fact_seq', 'seq', 'raised_seq']) if (Number.isInteger(a[k])) seqs.push(a[k]);
  if (Array.isArray(a.facts)) for (const f of a.facts) if (f && Number.isInteger(f.seq)) seqs.push(f.seq);
  if (Array.isArray(a.actions)) {
    for (const x of a.actions) {
      if (x && Number.isInteger(x.fact_seq)) seqs.push(x.fact_seq);
      else if (x && Number.isInteger(x.seq)) seqs.push(x.seq);
    }
  }
  return [...new Set(seqs)];
}

function permitLink(p) {
  const number = typeof p === 'string' ? p : (p.number || p.permit || String(p.id));
  return h('a', { href: `#/permits/${encodeURIComponent(number)}`, 'data-testid': `alarm-permit-${number}`, text: number });
}

async function renderDetail(container, params) {
  const id = params.id;
  let a;
  let names;
  let detailActions = null;
  let detailFacts = [];
  try {
    const [res, n] = await Promise.all([api('GET', `/api/v1/alarms/${encodeURIComponent(id)}`), loadNames()]);
    a = res.alarm || res;
    // The detail route adds what the SOP did: {"actions": [{seq, kind, target, time,
    // status, permits?, error?}]} beside the alarm (whose own `actions` are the kinds).
    if (Array.isArray(res.actions)) detailActions = res.actions;
    if (Array.isArray(res.facts)) detailFacts = res.facts;
    names = n;
  } catch (e) {
    container.appendChild(h('section', { class: 'alarm-detail-page' },
      h('p', null, h('a', { href: '#/alarms', class: 'btn', text: `← ${t('alarms.back')}` })),
      h('p', { class: 'error', role: 'alert', 'data-testid': 'alarm-error', text: e.status === 404 ? t('alarms.notfound', { id }) : t('alarms.err.load', { msg: e.message }) })));
    return undefined;
  }

  const root = h('section', { class: 'alarm-detail-page' });
  container.appendChild(root);
  let cd = null;

  function draw() {
    const acked = a.state === 'active_acked' || a.state === 'cleared_acked';
    cd = countdownEl(a);
    const p = names.points.get(a.point);
    const site = names.sites.get(a.site);
    const kv = (key, value, extra) => [h('dt', { text: t(key) }), h('dd', extra || null, value)];
    const actions = detailActions || (Array.isArray(a.actions) ? a.actions : []);
    const seqs = alarmSeqs({ ...a, facts: detailFacts, actions });
    const fromActions = actions.flatMap((x) => (x && Array.isArray(x.permits) ? x.permits : []));
    const suspended = [...new Set(fromActions.length ? fromActions : (a.permits || []))];

    const actionsBox = h('section', { class: 'card alarm-actions', 'data-testid': 'alarm-actions' },
      h('h2', { text: t('alarms.actions') }),
      actions.length === 0
        ? h('p', { class: 'muted', text: t('alarms.actions.none') })
        : actions.every((x) => typeof x === 'string')
          ? h('ul', { class: 'actions-list' }, actions.map((x) => h('li', { 'data-testid': 'alarm-action', 'data-kind': x, text: actionKindText(x) })))
          : h('table', { class: 'actions-table' },
          h('thead', null, h('tr', null,
            h('th', { text: t('alarms.actions.kind') }), h('th', { text: t('alarms.actions.target') }),
            h('th', { text: t('alarms.actions.time') }), h('th', { text: t('alarms.actions.status') }),
            h('th', { text: t('alarms.actions.evidence') }))),
          h('tbody', null, actions.map((x) => {
            const o = typeof x === 'string' ? { kind: x } : (x || {});
            const seq = Number.isInteger(o.fact_seq) ? o.fact_seq : o.seq;
            return h('tr', { 'data-testid': 'alarm-action', 'data-kind': o.kind, 'data-status': o.status || '', title: o.error || null },
              h('td', { text: actionKindText(o.kind) }),
              h('td', { text: Array.isArray(o.target) ? o.target.join('、') : (o.target || '—') }),
              h('td', { text: o.time ? fmtTime(o.time) : '—' }),
              h('td', { class: `act-${o.status || 'none'}` }, actionStatusText(o.status), o.error ? h('small', { class: 'act-error', text: o.error }) : null),
              h('td', null, Number.isInteger(seq)
                ? h('button', { type: 'button', class: 'btn linkish', 'data-testid': 'alarm-action-proof', text: t('alarms.evidence.fact', { seq }), onclick: () => showProof(seq) })
                : '—'));
          }))),
      h('h3', { text: t('alarms.suspended') }),
      suspended.length
        ? h('ul', { class: 'suspended-permits', 'data-testid': 'alarm-permits' }, suspended.map((x) => h('li', null, permitLink(x))))
        : h('p', { class: 'muted', text: t('alarms.suspended.none') }));

    const evidenceBox = h('section', { class: 'card alarm-evidence' },
      h('h2', { text: t('alarms.evidence') }),
      h('button', {
        type: 'button', class: 'btn big', 'data-testid': 'alarm-evidence-link',
        'data-seq': seqs.length ? seqs[0] : null,
        text: seqs.length ? `${t('alarms.evidence.link')}（${t('alarms.evidence.fact', { seq: seqs[0] })}）` : t('alarms.evidence.link'),
        onclick: () => {
          if (seqs.length) showProof(seqs[0]);
          else openDialog(t('alarms.evidence'), h('p', { 'data-testid': 'proof-error', text: t('alarms.evidence.none') }), { testid: 'proof-dialog' });
        },
      }),
      seqs.length > 1 ? h('p', { class: 'seq-list' }, seqs.slice(1).map((s) => h('button', { type: 'button', class: 'btn linkish', text: t('alarms.evidence.fact', { seq: s }), onclick: () => showProof(s) }))) : null,
      a.evidence ? h('details', { class: 'forecast' }, h('summary', { text: t('alarms.forecast') }),
        h('pre', { class: 'mono', text: JSON.stringify(a.evidence, null, 2) })) : null);

    const ackBox = h('section', { class: ['card', 'ack-box', levelClass(a.level)], 'data-testid': 'ack-box' },
      h('h2', { text: t('alarms.ack') }),
      acked
        ? h('p', { class: 'acked-by', 'data-testid': 'ack-done' }, t('alarms.ack.who', { by: a.acked_by || '—', at: fmtTime(a.acked_at) }),
          a.ack_note ? h('q', { text: a.ack_note }) : null)
        : ackForm(a, {
          onDone: (updated) => {
            if (updated && updated.id) a = updated;
            draw();
          },
        }));

    root.replaceChildren(
      h('p', { class: 'back' }, h('a', { href: '#/alarms', class: 'btn', text: `← ${t('alarms.back')}` })),
      h('article', { class: ['alarm-detail', levelClass(a.level)], 'data-testid': 'alarm-detail', 'data-level': a.level, 'data-state': a.state, 'data-id': a.id },
        h('header', { class: 'alarm-detail-head' },
          levelBadge(a),
          h('h1', { text: alarmMessage(a) }),
          h('span', { class: 'alarm-state-tag', text: t(`alarms.state.${a.state}`) }),
          h('span', { class: 'deadline' }, `${t('alarms.f.ack_deadline')}：`, cd)),
        h('div', { class: 'alarm-detail-grid' },
          h('section', { class: 'card' },
            h('dl', { class: 'pk-kv' },
              kv('alarms.f.id', `#${a.id}`),
              kv('alarms.f.state', t(`alarms.state.${a.state}`)),
              kv('alarms.f.level', levelText(a)),
              kv('alarms.f.raised_level', t(`level.${a.raised_level}`)),
              kv('alarms.f.point', p && p.name ? `${p.name}（${a.point}）` : a.point),
              kv('alarms.f.kind', a.kind || '—'),
              kv('alarms.f.zone', a.zone || '—'),
              kv('alarms.f.site', site ? `${site.name}（${a.site}）` : (a.site || '—')),
              kv('alarms.f.rule', a.rule, { class: 'mono' }),
              kv('alarms.f.rule_kind', a.rule_kind || '—'),
              kv('alarms.f.clause', a.clause || '—'),
              kv('alarms.f.profiles', (a.profiles || []).join('、') || t('common.none')),
              kv('alarms.f.value', `${num(a.value)} ${a.unit || ''}`),
              kv('alarms.f.threshold', `${num(a.threshold)} ${a.unit || ''}`),
              kv('alarms.f.peak', `${num(a.peak)} ${a.unit || ''}`),
              kv('alarms.f.raised_at', fmtTime(a.raised_at)),
              kv('alarms.f.reading_time', fmtTime(a.reading_time)),
              kv('alarms.f.ack_deadline', fmtTime(a.ack_deadline)),
              kv('alarms.f.acked', a.acked_at ? t('alarms.ack.who', { by: a.acked_by, at: fmtTime(a.acked_at) }) : '—'),
              kv('alarms.f.ack_note', a.ack_note || '—'),
              kv('alarms.f.cleared_at', a.cleared_at ? fmtTime(a.cleared_at) : '—'),
              kv('alarms.f.escalations', String(a.escalations ?? 0)),
              kv('alarms.f.permits', (a.permits || []).length ? (a.permits || []).map((x, i) => [i ? '、' : null, permitLink(x)]) : t('common.none')))),
          h('div', { class: 'alarm-detail-side' }, ackBox, actionsBox, evidenceBox))));
  }
  draw();

  const unsub = on('alarm', (data) => {
    const x = data && data.alarm ? data.alarm : data;
    if (!x || String(x.id) !== String(a.id)) return;
    // Keep what only the detail route returns (actions) when the event lacks it.
    a = { ...a, ...x };
    // New automatic actions are facts: reload them when the alarm changes level/state.
    api('GET', `/api/v1/alarms/${encodeURIComponent(a.id)}`).then((res) => {
      if (Array.isArray(res.actions)) detailActions = res.actions;
      if (Array.isArray(res.facts)) detailFacts = res.facts;
      const busy = document.activeElement && document.activeElement.dataset && document.activeElement.dataset.testid === 'ack-note';
      if (!busy) draw();
    }).catch(() => {});
    const typing = document.activeElement && document.activeElement.dataset && document.activeElement.dataset.testid === 'ack-note';
    if (!typing) draw();
  });
  const timer = setInterval(() => { if (cd) updateCountdown(cd, a); }, 1000);
  return () => {
    unsub();
    clearInterval(timer);
  };
}

route('#/alarms', renderList, { title: 'alarms.title', nav: 'alarms' });
route('#/alarms/:id', renderDetail, { title: 'alarms.detail.title', nav: 'alarms' });

