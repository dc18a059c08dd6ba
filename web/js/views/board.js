// board.js — 风险看板 risk board (#/board[?site=CODE]).
//
// One tab per site. The selected site's plan (GET /api/v1/sites/{code}/plan, site-frame
// metres) is drawn by Leaflet in L.CRS.Simple, without tiles: zones coloured by their
// worst open alarm, monitoring points coloured by theirs, people (positions) and active
// permits with their fences. Beside it: active permits, the alarm ticker (newest 50
// events) and one card per point with its live value and a 10-minute sparkline.
//
// Scale: 2,000 points at 1 Hz. Readings go into a fixed-size ring buffer per point (no
// growth); cards are plain DOM shells, and only cards on screen (IntersectionObserver)
// get a uPlot chart and value updates, redrawn at most once a second in one
// requestAnimationFrame batch.

import {
  route, api, ApiError, h, clear, t, addStrings, lang, on, onStatus, go,
  fmtTime, levelClass, normLevel, worseLevel, toMillis,
} from '../core.js';

addStrings({
  zh: {
    'board.title': '风险看板',
    'board.sites': '厂区',
    'board.map': '{site} 平面图',
    'board.map.placeholder': '未配置平面图：按监测点区域示意排布',
    'board.points': '监测点',
    'board.points.count': '共 {n} 个监测点',
    'board.permits': '进行中的作业',
    'board.permits.none': '当前没有进行中的作业',
    'board.ticker': '实时事件',
    'board.ticker.none': '暂无事件',
    'board.people': '在场人员 {n}',
    'board.alarms.open': '未消除报警 {n}',
    'board.nosites': '本组织还没有厂区或监测点',
    'board.loadfail': '看板数据加载失败：{msg}',
    'board.value.none': '无数据',
    'board.stale': '数据中断',
    'board.zone': '区域 {zone}',
    'board.legend': '图例',
    'ev.raised': '报警',
    'ev.reactivated': '再次报警',
    'ev.escalated': '报警升级',
    'ev.acknowledged': '已确认',
    'ev.cleared': '报警消除',
    'ev.closed': '报警关闭',
    'ev.predicted': '预测预警',
    'ev.permit': '作业票 {number}：{state}',
    'ev.presence': '{person} {event} {fence}',
    'presence.entered': '进入',
    'presence.exited': '离开',
    'presence.dwell': '滞留超时',
    'presence.alone': '单人作业',
    'presence.overcrowded': '超员',
    'presence.unauthorized': '未授权进入',
    'pstate.active': '作业中',
    'pstate.suspended': '已暂停',
    'pstate.approved': '已批准',
    'pstate.completed': '已完工',
    'pstate.cancelled': '已取消',
    'pstate.expired': '已过期',
    'pstate.closed': '已关闭',
  },
  en: {
    'board.title': 'Risk board',
    'board.sites': 'Sites',
    'board.map': '{site} plan',
    'board.map.placeholder': 'No site plan configured: points laid out by zone',
    'board.points': 'Monitoring points',
    'board.points.count': '{n} points',
    'board.permits': 'Work in progress',
    'board.permits.none': 'No active work',
    'board.ticker': 'Live events',
    'board.ticker.none': 'No events yet',
    'board.people': 'People on site {n}',
    'board.alarms.open': 'Open alarms {n}',
    'board.nosites': 'This organization has no sites or points yet',
    'board.loadfail': 'The board failed to load: {msg}',
    'board.value.none': 'no data',
    'board.stale': 'stale',
    'board.zone': 'Zone {zone}',
    'board.legend': 'Legend',
    'ev.raised': 'Alarm',
    'ev.reactivated': 'Alarm again',
    'ev.escalated': 'Escalated',
    'ev.acknowledged': 'Acknowledged',
    'ev.cleared': 'Cleared',
    'ev.closed': 'Closed',
    'ev.predicted': 'Predicted warning',
    'ev.permit': 'Permit {number}: {state}',
    'ev.presence': '{person} {event} {fence}',
    'presence.entered': 'entered',
    'presence.exited': 'left',
    'presence.dwell': 'overstayed',
    'presence.alone': 'working alone',
    'presence.overcrowded': 'overcrowded',
    'presence.unauthorized': 'unauthorized entry',
    'pstate.active': 'active',
    'pstate.suspended': 'suspended',
    'pstate.approved': 'approved',
    'pstate.completed': 'completed',
    'pstate.cancelled': 'cancelled',
    'pstate.expired': 'expired',
    'pstate.closed': 'closed',
  },
});

const WINDOW_S = 600;     // sparkline window: 10 minutes
const RING = 640;         // samples kept per point (1 Hz for 10 minutes, and some slack)
const TICKER_MAX = 50;
const FETCH_PARALLEL = 4; // concurrent history requests for cards coming into view
const LEVEL_COLOURS = { red: '#d32f2f', yellow: '#f9c700', blue: '#1e88e5', none: '#43a047' };
const ZONE_FILL = { red: 0.35, yellow: 0.3, blue: 0.22, none: 0.08 };

// Fixed-size ring of (time seconds, value).
class Ring {
  constructor(n) {
    this.t = new Float64Array(n);
    this.v = new Float32Array(n);
    this.n = n;
    this.head = 0; // next write
    this.len = 0;
  }
  push(ts, v) {
    // Keep time order: a sample older than the newest is dropped (history merge aside).
    if (this.len && ts < this.t[(this.head - 1 + this.n) % this.n]) return false;
    if (this.len && ts === this.t[(this.head - 1 + this.n) % this.n]) {
      this.v[(this.head - 1 + this.n) % this.n] = v;
      return true;
    }
    this.t[this.head] = ts;
    this.v[this.head] = v;
    this.head = (this.head + 1) % this.n;
    if (this.len < this.n) this.len++;
    return true;
  }
  last() {
    if (!this.len) return null;
    const i = (this.head - 1 + this.n) % this.n;
    return { t: this.t[i], v: this.v[i] };
  }
  // [times[], values[]] of the samples newer than from (seconds).
  window(from) {
    const xs = [];
    const ys = [];
    for (let k = 0; k < this.len; k++) {
      const i = (this.head - this.len + k + this.n) % this.n;
      if (this.t[i] < from) continue;
      xs.push(this.t[i]);
      ys.push(this.v[i]);
    }
    return [xs, ys];
  }
}

function levelText(level) {
  return t(`level.${normLevel(level)}`);
}

function num(v, digits) {
  if (v === null || v === undefined || !Number.isFinite(Number(v))) return '—';
  const n = Number(v);
  const d = digits ?? (Math.abs(n) >= 100 ? 0 : Math.abs(n) >= 10 ? 1 : 2);
  return n.toFixed(d);
}

function isActiveAlarm(a) {
  return typeof a?.state === 'string' && a.state.startsWith('active');
}

// A plan when the site has none configured: its fences (site metres) stand for the zones
// they belong to, zones without a fence are laid out as squares beside them, and each
// zone's points are spread inside it. The extent covers all of it and the people.
function placeholderPlan(site, points, fences, positions) {
  const plan = { name: site.name || site.code, placeholder: true, zones: [], points: {}, features: [] };
  const zonePoly = new Map();
  for (const f of fences) {
    const ring = f.area && f.area.outer;
    if (!Array.isArray(ring) || ring.length < 3) continue;
    const code = f.zone || f.id;
    if (zonePoly.has(code)) {
      plan.features.push({ kind: 'fence', label: f.name || f.id, polygon: ring });
      continue;
    }
    zonePoly.set(code, { code, name: f.name || code, polygon: ring });
  }
  const byZone = new Map();
  for (const p of points) {
    const z = p.zone || '—';
    if (!byZone.has(z)) byZone.set(z, []);
    byZone.get(z).push(p);
  }
  const bbox = { x0: Infinity, y0: Infinity, x1: -Infinity, y1: -Infinity };
  const grow = (x, y) => {
    if (!Number.isFinite(x) || !Number.isFinite(y)) return;
    bbox.x0 = Math.min(bbox.x0, x); bbox.y0 = Math.min(bbox.y0, y);
    bbox.x1 = Math.max(bbox.x1, x); bbox.y1 = Math.max(bbox.y1, y);
  };
  for (const z of zonePoly.values()) for (const [x, y] of z.polygon) grow(x, y);
  for (const p of positions) grow(p.x, p.y);
  const missing = [...byZone.keys()].filter((z) => !zonePoly.has(z)).sort();
  const cell = 40;
  const gap = 10;
  const ox = Number.isFinite(bbox.x1) ? bbox.x1 + 2 * gap : 0;
  const oy = Number.isFinite(bbox.y0) ? bbox.y0 : 0;
  const cols = Math.max(1, Math.ceil(Math.sqrt(missing.length)));
  missing.forEach((code, i) => {
    const cx = ox + (i % cols) * (cell + gap);
    const cy = oy + Math.floor(i / cols) * (cell + gap);
    zonePoly.set(code, { code, name: code, polygon: [[cx, cy], [cx + cell, cy], [cx + cell, cy + cell], [cx, cy + cell]] });
    grow(cx, cy);
    grow(cx + cell, cy + cell);
  });
  for (const [code, pts] of byZone) {
    const z = zonePoly.get(code);
    let x0 = Infinity; let y0 = Infinity; let x1 = -Infinity; let y1 = -Infinity;
    for (const [x, y] of z.polygon) {
      x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x); y1 = Math.max(y1, y);
    }
    // Along the top edge of the zone's box, inset 10 %.
    const n = pts.length;
    pts.forEach((p, j) => {
      plan.points[p.id] = [x0 + (x1 - x0) * (0.1 + 0.8 * ((j + 0.5) / n)), y1 - (y1 - y0) * 0.12];
    });
  }
  plan.zones = [...zonePoly.values()];
  if (!Number.isFinite(bbox.x0)) {
    bbox.x0 = 0; bbox.y0 = 0; bbox.x1 = 100; bbox.y1 = 100;
  }
  const pad = Math.max(15, 0.08 * Math.max(bbox.x1 - bbox.x0, bbox.y1 - bbox.y0));
  plan.extent = { min: [bbox.x0 - pad, bbox.y0 - pad], max: [bbox.x1 + pad, bbox.y1 + pad] };
  return plan;
}

async function loadSites() {
  let sites = null;
  try {
    const r = await api('GET', '/api/v1/sites');
    sites = (r.sites || []).map((s) => ({ code: s.code, name: s.name || s.code, has_plan: s.has_plan }));
  } catch (e) {
    if (!(e instanceof ApiError) || (e.status !== 404 && e.status !== 403)) throw e;
  }
  const pr = await api('GET', '/api/v1/points').catch((e) => {
    if (e instanceof ApiError && e.status === 503) return { points: [] };
    throw e;
  });
  const points = pr.points || [];
  if (!sites || sites.length === 0) {
    const codes = [...new Set(points.map((p) => p.site).filter(Boolean))].sort();
    sites = codes.map((code) => ({ code, name: code }));
  }
  return { sites, points };
}

async function renderBoard(container, params, query) {
  const state = {
    disposed: false,
    unsubs: [],
    timers: [],
    map: null,
    site: null,
    zoneLayers: new Map(),   // code -> {layer, name}
    pts: new Map(),          // id -> point record
    alarms: new Map(),       // id -> alarm (open ones of this site)
    people: new Map(),       // tag -> marker
    permits: new Map(),      // id -> {permit, layers}
    ready: { plan: false, points: false, alarms: false },
    fetchQueue: [],
    fetching: 0,
  };
  const cleanup = () => {
    state.disposed = true;
    for (const u of state.unsubs) u();
    for (const id of state.timers) clearInterval(id);
    if (state.io) state.io.disconnect();
    if (state.ro) state.ro.disconnect();
    for (const p of state.pts.values()) destroyChart(p);
    if (state.map) state.map.remove();
  };

  const loading = h('p', { class: 'muted board-loading', text: t('common.loading') });
  container.classList.add('board-container');
  container.appendChild(loading);

  let sites;
  let allPoints;
  try {
    ({ sites, points: allPoints } = await loadSites());
  } catch (e) {
    loading.remove();
    container.appendChild(h('p', { class: 'error-box', role: 'alert', text: t('board.loadfail', { msg: e.message }) }));
    return cleanup;
  }
  if (state.disposed) return cleanup;
  loading.remove();
  if (sites.length === 0) {
    container.appendChild(h('section', { class: 'message-page' }, h('h1', { text: t('board.title') }), h('p', { text: t('board.nosites') })));
    return cleanup;
  }
  const site = sites.find((s) => s.code === query.site) || sites[0];
  state.site = site;
  const points = allPoints.filter((p) => p.site === site.code).sort((a, b) => String(a.id).localeCompare(String(b.id)));

  // ---- layout ----
  const tabs = h('div', { class: 'board-tabs', role: 'tablist', 'aria-label': t('board.sites') },
    sites.map((s) => h('button', {
      type: 'button', role: 'tab', class: 'site-tab',
      'data-testid': `site-tab-${s.code}`,
      'aria-selected': s.code === site.code ? 'true' : 'false',
      tabindex: s.code === site.code ? '0' : '-1',
      onclick: () => { if (s.code !== site.code) go(`#/board?site=${encodeURIComponent(s.code)}`); },
      onkeydown: (ev) => {
        if (ev.key !== 'ArrowRight' && ev.key !== 'ArrowLeft') return;
        const btns = [...tabs.querySelectorAll('[role=tab]')];
        const i = btns.indexOf(ev.currentTarget);
        const j = (i + (ev.key === 'ArrowRight' ? 1 : btns.length - 1)) % btns.length;
        btns[j].focus();
      },
    }, h('span', { class: 'site-name', text: s.name }), h('span', { class: 'site-code', text: s.code }))));

  const summaryAlarms = h('span', { class: 'board-stat', 'data-testid': 'board-open-alarms' });
  const summaryPeople = h('span', { class: 'board-stat', 'data-testid': 'board-people' });
  const mapEl = h('div', { class: 'board-map', id: 'board-map', 'data-testid': 'board-map', role: 'region', 'aria-label': t('board.map', { site: site.name }) });
  const mapNote = h('p', { class: 'board-map-note', hidden: true });
  const legend = h('div', { class: 'board-legend', 'aria-label': t('board.legend') },
    ['red', 'yellow', 'blue', 'none'].map((l) => h('span', { class: ['legend-item', levelClass(l)] }, h('span', { class: 'swatch', 'aria-hidden': 'true' }), levelText(l))));
  const permitList = h('ul', { class: 'board-permit-list', 'data-testid': 'board-permits' });
  const tickerList = h('ol', { class: 'ticker-list' });
  const tickerEmpty = h('p', { class: 'muted ticker-empty', text: t('board.ticker.none') });
  const ticker = h('section', { class: 'board-ticker', 'data-testid': 'alarm-ticker', 'aria-live': 'polite', 'aria-relevant': 'additions', 'aria-label': t('board.ticker') },
    h('h2', { text: t('board.ticker') }), tickerEmpty, tickerList);
  const cards = h('div', { class: 'point-cards', role: 'list' });
  const pointsHead = h('h2', null, t('board.points'), ' ', h('span', { class: 'muted count', text: t('board.points.count', { n: points.length }) }));

  container.appendChild(h('section', { class: 'board', 'aria-labelledby': 'board-h1' },
    h('div', { class: 'board-top' },
      h('h1', { id: 'board-h1', class: 'board-title', text: t('board.title') }),
      tabs,
      h('div', { class: 'board-stats' }, summaryAlarms, summaryPeople)),
    h('div', { class: 'board-main' },
      h('div', { class: 'board-map-wrap' }, mapEl, mapNote, legend),
      h('div', { class: 'board-side' },
        h('section', { class: 'board-permits' }, h('h2', { text: t('board.permits') }), permitList),
        ticker)),
    h('section', { class: 'board-points', 'aria-label': t('board.points') }, pointsHead, cards)));

  // ---- map ----
  const Lf = window.L;
  let plan = null;
  try {
    // has_plan false (GET /api/v1/sites says so): no request; absent: ask.
    if (site.has_plan !== false) plan = await api('GET', `/api/v1/sites/${encodeURIComponent(site.code)}/plan`);
  } catch (e) {
    if (!(e instanceof ApiError) || (e.status !== 404 && e.status !== 405 && e.status !== 501)) {
      console.warn('plan', e);
    }
    plan = null;
  }
  if (state.disposed) return cleanup;
  if (plan && plan.plan) plan = plan.plan; // {site, version, plan}
  if (!plan || !plan.extent) {
    const q = `?site=${encodeURIComponent(site.code)}`;
    const [fr, pr] = await Promise.all([
      api('GET', `/api/v1/fences${q}`).catch(() => ({ fences: [] })),
      api('GET', `/api/v1/positions${q}`).catch(() => ({ positions: [] })),
    ]);
    if (state.disposed) return cleanup;
    plan = placeholderPlan(site, points, (fr.fences || []).filter((f) => !f.site || f.site === site.code),
      (pr.positions || []).filter((p) => p.site === site.code));
    mapNote.textContent = t('board.map.placeholder');
    mapNote.hidden = false;
  }
  const ll = (xy) => [xy[1], xy[0]]; // site metres [x, y] -> Leaflet [lat=y, lng=x]
  const pointPos = (id) => (plan.points && plan.points[id]) || null;

  if (Lf) {
    const map = Lf.map(mapEl, {
      crs: Lf.CRS.Simple, minZoom: -6, maxZoom: 6, zoomSnap: 0.1, zoomDelta: 0.5,
      attributionControl: false, preferCanvas: false, keyboard: true,
    });
    state.map = map;
    const bounds = Lf.latLngBounds(ll(plan.extent.min), ll(plan.extent.max));
    map.fitBounds(bounds, { padding: [8, 8] });
    map.setMaxBounds(bounds.pad(0.5));
    // Features first (below zones).
    for (const f of plan.features || []) {
      const cls = `feature feature-${f.kind}`;
      if (f.polygon && f.polygon.length >= 3) {
        Lf.polygon(f.polygon.map(ll), { className: cls, interactive: false, weight: 1, color: '#7d8793', fillColor: '#c9d0d8', fillOpacity: 0.6 }).addTo(map);
      } else if (f.polyline && f.polyline.length >= 2) {
        Lf.polyline(f.polyline.map(ll), { className: cls, interactive: false, weight: f.kind === 'road' ? 6 : 2, color: f.kind === 'road' ? '#b9c0c8' : '#8a7f72' }).addTo(map);
      } else if (f.centre && f.radius_m > 0) {
        Lf.circle(ll(f.centre), { radius: f.radius_m, className: cls, interactive: false, weight: 1, color: '#6f7a86', fillColor: '#d5dbe1', fillOpacity: 0.7 }).addTo(map);
      }
      const anchor = f.centre || (f.polygon && centroid(f.polygon)) || (f.polyline && midLine(f.polyline));
      if (f.label && anchor) {
        Lf.marker(ll(anchor), { interactive: false, keyboard: false, icon: Lf.divIcon({ className: 'plan-label', html: h('span', { text: f.label }), iconSize: null }) }).addTo(map);
      }
    }
    for (const z of plan.zones || []) {
      const layer = Lf.polygon(z.polygon.map(ll), { className: 'zone', weight: 2, color: '#5b6b7d', fillColor: LEVEL_COLOURS.none, fillOpacity: ZONE_FILL.none });
      layer.addTo(map);
      layer.bindTooltip(h('span', { text: `${z.name || z.code} (${z.code})` }), { sticky: true });
      const el = layer.getElement();
      if (el) {
        el.setAttribute('data-testid', `zone-${z.code}`);
        el.setAttribute('data-level', 'none');
        el.setAttribute('data-zone', z.code);
      }
      const c = [Math.min(...z.polygon.map((q) => q[0])), Math.max(...z.polygon.map((q) => q[1]))];
      Lf.marker(ll(c), { interactive: false, keyboard: false, icon: Lf.divIcon({ className: 'zone-label', html: h('span', { text: z.name || z.code }), iconSize: null }) }).addTo(map);
      state.zoneLayers.set(z.code, { layer, el, name: z.name || z.code });
    }
    state.ro = new ResizeObserver(() => map.invalidateSize());
    state.ro.observe(mapEl);
  } else {
    mapEl.appendChild(h('p', { class: 'error-box', text: 'Leaflet not loaded' }));
  }
  state.ready.plan = true;

  // ---- point cards and markers ----
  // A small site keeps every card's value current; a large one only the cards on screen.
  const small = points.length <= 300;
  const fmtVal = (p) => {
    const last = p.ring ? p.ring.last() : null;
    return last ? num(last.v) : t('board.value.none');
  };
  for (const pt of points) {
    const rec = {
      id: pt.id, point: pt, level: 'none', ring: null, dirty: true, visible: false,
      chart: null, historyLoaded: false, marker: null, card: null, valueEl: null, levelEl: null, chartEl: null, timeEl: null,
    };
    rec.valueEl = h('span', { class: 'pc-value', 'data-testid': `point-value-${pt.id}`, text: t('board.value.none') });
    rec.levelEl = h('span', { class: ['level-badge', levelClass('none')], text: levelText('none') });
    rec.timeEl = h('span', { class: 'pc-time muted' });
    rec.chartEl = h('div', { class: 'pc-chart', 'aria-hidden': 'true' });
    rec.card = h('article', {
      class: ['point-card', levelClass('none')], role: 'listitem',
      'data-testid': `point-card-${pt.id}`, 'data-level': 'none', 'data-point': pt.id,
      'aria-label': `${pt.name || pt.id}`,
    },
    h('header', { class: 'pc-head' },
      h('h3', { class: 'pc-name', text: pt.name || pt.id }),
      rec.levelEl),
    h('p', { class: 'pc-meta muted' }, h('span', { class: 'pc-id', text: pt.id }), ' · ', h('span', { text: t('board.zone', { zone: pt.zone || '—' }) })),
    h('p', { class: 'pc-reading' }, rec.valueEl, ' ', h('span', { class: 'pc-unit', text: pt.unit || '' }), ' ', rec.timeEl),
    rec.chartEl);
    state.pts.set(pt.id, rec);
    const pos = pointPos(pt.id);
    if (Lf && state.map && pos) {
      rec.marker = Lf.circleMarker(ll(pos), { radius: 6, weight: 2, color: '#ffffff', fillColor: LEVEL_COLOURS.none, fillOpacity: 1, className: 'point-marker' }).addTo(state.map);
      rec.marker.bindTooltip(() => h('span', { text: `${pt.name || pt.id}: ${fmtVal(rec)} ${pt.unit || ''}` }));
      const el = rec.marker.getElement();
      if (el) {
        el.setAttribute('data-testid', `point-marker-${pt.id}`);
        el.setAttribute('data-level', 'none');
      }
      rec.marker.on('click', () => {
        rec.card.scrollIntoView({ behavior: 'smooth', block: 'nearest' });
        rec.card.classList.add('flash');
        setTimeout(() => rec.card.classList.remove('flash'), 1500);
      });
    }
  }
  sortCards();
  state.ready.points = true;

  // Cards on screen get charts and value updates; others stay plain shells.
  state.io = new IntersectionObserver((entries) => {
    for (const en of entries) {
      const rec = state.pts.get(en.target.dataset.point);
      if (!rec) continue;
      rec.visible = en.isIntersecting;
      if (rec.visible) {
        rec.dirty = true;
        if (!rec.historyLoaded) queueHistory(rec);
      } else {
        destroyChart(rec);
      }
    }
    scheduleDraw();
  }, { rootMargin: '200px 0px' });
  for (const rec of state.pts.values()) state.io.observe(rec.card);

  function queueHistory(rec) {
    if (rec.historyQueued) return;
    rec.historyQueued = true;
    state.fetchQueue.push(rec);
    pumpHistory();
  }
  function pumpHistory() {
    while (state.fetching < FETCH_PARALLEL && state.fetchQueue.length && !state.disposed) {
      const rec = state.fetchQueue.shift();
      if (!rec.visible) {
        rec.historyQueued = false;
        continue;
      }
      state.fetching++;
      const from = new Date(Date.now() - WINDOW_S * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
      api('GET', `/api/v1/points/${encodeURIComponent(rec.id)}/readings?from=${encodeURIComponent(from)}`)
        .then((r) => {
          if (state.disposed) return;
          const old = rec.ring;
          const ring = new Ring(RING);
          for (const s of r.samples || []) {
            const ms = toMillis(s.t);
            if (Number.isFinite(ms) && Number.isFinite(Number(s.v))) ring.push(ms / 1000, Number(s.v));
          }
          if (old) {
            // Live samples that arrived while the history was on its way.
            const [xs, ys] = old.window(0);
            for (let i = 0; i < xs.length; i++) ring.push(xs[i], ys[i]);
          }
          rec.ring = ring;
          rec.historyLoaded = true;
          rec.dirty = true;
          scheduleDraw();
        })
        .catch((e) => {
          rec.historyLoaded = true; // do not hammer a failing route; live data still flows
          if (!(e instanceof ApiError && e.status === 401)) console.warn('readings', rec.id, e.message);
        })
        .finally(() => {
          rec.historyQueued = false;
          state.fetching--;
          pumpHistory();
        });
    }
  }

  // ---- drawing loop: at most once a second, one animation frame ----
  let drawPending = false;
  let lastDraw = 0;
  function scheduleDraw() {
    if (drawPending || state.disposed) return;
    drawPending = true;
    const wait = Math.max(0, 1000 - (performance.now() - lastDraw));
    setTimeout(() => requestAnimationFrame(draw), wait);
  }
  function draw() {
    drawPending = false;
    if (state.disposed) return;
    lastDraw = performance.now();
    const now = Date.now() / 1000;
    // Read every size first, then write: interleaving layout reads with DOM writes would
    // force one synchronous layout of the whole page per card.
    const todo = [];
    for (const rec of state.pts.values()) {
      if (!(rec.visible || small) || !rec.dirty) continue;
      rec.dirty = false;
      todo.push(rec.visible ? [rec, rec.chartEl.clientWidth, rec.chartEl.clientHeight] : [rec, 0, 0]);
    }
    for (const [rec, w, hgt] of todo) {
      const last = rec.ring ? rec.ring.last() : null;
      const text = last ? num(last.v) : t('board.value.none');
      if (rec.valueEl.textContent !== text) rec.valueEl.textContent = text;
      const time = last ? fmtTime(last.t * 1000).slice(6) : '';
      if (rec.timeEl.textContent !== time) rec.timeEl.textContent = time;
      const stale = !last || now - last.t > 120;
      if (rec.card.classList.contains('stale') !== stale) rec.card.classList.toggle('stale', stale);
      if (rec.visible) drawChart(rec, now, w, hgt);
    }
  }
  function drawChart(rec, now, w, hgt) {
    const U = window.uPlot;
    if (!U || !rec.ring) return;
    const data = rec.ring.window(now - WINDOW_S);
    const width = Math.max(120, Math.floor(w || 220));
    const height = Math.max(40, Math.floor(hgt || 56));
    const colour = LEVEL_COLOURS[rec.level] === LEVEL_COLOURS.none ? '#1565c0' : LEVEL_COLOURS[rec.level];
    if (rec.chart && (rec.chart.width !== width || rec.chartColour !== colour)) destroyChart(rec);
    if (!rec.chart) {
      rec.chartColour = colour;
      rec.chart = new U({
        width, height, legend: { show: false }, cursor: { show: false }, select: { show: false },
        scales: { x: { time: true } },
        axes: [{ show: false }, { show: false }],
        series: [{}, { stroke: colour, width: 2, points: { show: false }, fill: `${colour}22` }],
      }, [[now - WINDOW_S, ...data[0]], [null, ...data[1]]], rec.chartEl);
    } else {
      rec.chart.setData([[now - WINDOW_S, ...data[0]], [null, ...data[1]]]);
    }
  }
  function destroyChart(rec) {
    if (rec.chart) {
      rec.chart.destroy();
      rec.chart = null;
    }
  }
  // Refresh ages and the moving window of visible charts.
  state.timers.push(setInterval(() => {
    for (const rec of state.pts.values()) if (rec.visible) rec.dirty = true;
    scheduleDraw();
  }, 5000));

  function sortCards() {
    const rank = { red: 3, yellow: 2, blue: 1, none: 0 };
    const recs = [...state.pts.values()].sort((a, b) => (rank[b.level] - rank[a.level]) || String(a.id).localeCompare(String(b.id)));
    recs.forEach((rec, i) => {
      if (cards.children[i] !== rec.card) cards.insertBefore(rec.card, cards.children[i] || null);
    });
  }
  let sortTimer = null;
  function sortSoon() {
    if (sortTimer) return;
    sortTimer = setTimeout(() => {
      sortTimer = null;
      if (!state.disposed) sortCards();
    }, 500);
  }

  // ---- alarms: levels of points and zones ----
  function applyLevels() {
    const pointLevel = new Map();
    const zoneLevel = new Map();
    for (const a of state.alarms.values()) {
      const l = normLevel(a.level);
      if (a.point) pointLevel.set(a.point, worseLevel(pointLevel.get(a.point), l));
      const zone = a.zone || state.pts.get(a.point)?.point.zone;
      if (zone) zoneLevel.set(zone, worseLevel(zoneLevel.get(zone), l));
    }
    let resort = false;
    for (const rec of state.pts.values()) {
      const l = pointLevel.get(rec.id) || 'none';
      if (l === rec.level) continue;
      rec.level = l;
      resort = true;
      rec.card.dataset.level = l;
      rec.card.className = ['point-card', levelClass(l), rec.card.classList.contains('stale') ? 'stale' : ''].filter(Boolean).join(' ');
      rec.levelEl.className = `level-badge ${levelClass(l)}`;
      rec.levelEl.textContent = levelText(l);
      rec.dirty = true;
      if (rec.marker) {
        rec.marker.setStyle({ fillColor: LEVEL_COLOURS[l], radius: l === 'none' ? 6 : 9 });
        rec.marker.getElement()?.setAttribute('data-level', l);
        if (l !== 'none') rec.marker.bringToFront();
      }
    }
    for (const [code, z] of state.zoneLayers) {
      const l = zoneLevel.get(code) || 'none';
      z.layer.setStyle({ fillColor: LEVEL_COLOURS[l], fillOpacity: ZONE_FILL[l], color: l === 'none' ? '#5b6b7d' : LEVEL_COLOURS[l] });
      const el = z.layer.getElement();
      if (el) el.setAttribute('data-level', l);
    }
    summaryAlarms.textContent = t('board.alarms.open', { n: state.alarms.size });
    summaryAlarms.className = `board-stat ${levelClass([...zoneLevel.values()].reduce(worseLevel, 'none'))}`;
    if (resort) sortSoon();
    scheduleDraw();
  }
  function alarmOfSite(a) {
    return a && (a.site === site.code || (!a.site && state.pts.has(a.point)));
  }
  async function loadAlarms() {
    const open = new Map();
    let before = null;
    for (let page = 0; page < 20; page++) {
      const q = `/api/v1/alarms?state=active_unacked,active_acked&site=${encodeURIComponent(site.code)}&limit=1000${before ? `&before_id=${before}` : ''}`;
      const r = await api('GET', q);
      for (const a of r.alarms || []) if (isActiveAlarm(a)) open.set(a.id, a);
      if (!r.next_before_id) break;
      before = r.next_before_id;
    }
    state.alarms = open;
    applyLevels();
  }

  // ---- ticker ----
  function tick(level, text, time, extra = {}) {
    tickerEmpty.hidden = true;
    const l = normLevel(level);
    const li = h('li', { class: ['ticker-item', levelClass(l)], 'data-testid': 'ticker-item', 'data-level': l, ...extra },
      h('time', { class: 'ti-time', text: fmtTime(time || Date.now()).slice(6) }),
      h('span', { class: 'ti-dot', 'aria-hidden': 'true' }),
      h('span', { class: 'ti-text', text }));
    tickerList.insertBefore(li, tickerList.firstChild);
    while (tickerList.children.length > TICKER_MAX) tickerList.lastChild.remove();
  }
  function alarmText(ev, a) {
    const kind = a.rule_kind === 'predicted' && (ev === 'raised' || ev === 'escalated') ? t('ev.predicted') : t(`ev.${ev}`);
    const msg = (lang() === 'en' ? a.message_en : a.message_zh) || a.message_zh || a.message_en;
    const p = state.pts.get(a.point);
    const what = msg || `${p?.point.name || a.point || a.zone || ''} ${a.value !== undefined ? `${num(a.value)} ${a.unit || ''}` : ''}`;
    return `${kind} · ${levelText(a.level)} · ${what}`.trim();
  }

  // ---- people ----
  function personLabel(d) {
    const p = d.person || '';
    return p.replace(/^(worker|user):/, '') || d.tag;
  }
  function placePerson(d) {
    if (!Lf || !state.map || d.site !== site.code || !Number.isFinite(d.x) || !Number.isFinite(d.y)) return;
    let m = state.people.get(d.tag);
    const stale = Boolean(d.stale);
    if (!m) {
      const icon = Lf.divIcon({ className: 'person-marker', html: h('span', { class: 'person-dot' }), iconSize: [16, 16], iconAnchor: [8, 8] });
      m = Lf.marker(ll([d.x, d.y]), { icon, keyboard: false, title: personLabel(d), alt: personLabel(d) }).addTo(state.map);
      m.bindTooltip(h('span', { text: personLabel(d) }));
      state.people.set(d.tag, m);
      const el = m.getElement();
      if (el) {
        el.setAttribute('data-testid', `person-${d.tag}`);
        el.setAttribute('data-tag', d.tag);
      }
    } else {
      m.setLatLng(ll([d.x, d.y]));
    }
    m.getElement()?.classList.toggle('stale', stale);
    summaryPeople.textContent = t('board.people', { n: state.people.size });
  }
  async function loadPositions() {
    try {
      const r = await api('GET', `/api/v1/positions?site=${encodeURIComponent(site.code)}`);
      for (const p of r.positions || []) placePerson(p);
    } catch (e) {
      if (!(e instanceof ApiError) || e.status === 401) throw e;
    }
    summaryPeople.textContent = t('board.people', { n: state.people.size });
  }

  // ---- permits ----
  function permitLocation(p) {
    return p.location || p.document?.location || null;
  }
  function drawPermit(p) {
    const old = state.permits.get(p.id);
    if (old) for (const l of old.layers) l.remove();
    const layers = [];
    const loc = permitLocation(p);
    if (Lf && state.map && loc) {
      if (Array.isArray(loc.fence) && loc.fence.length >= 3) {
        const f = Lf.polygon(loc.fence.map((q) => ll([q.x ?? q[0], q.y ?? q[1]])), { className: 'permit-fence', color: '#6a1b9a', weight: 2, dashArray: '6 4', fillOpacity: 0.05, interactive: false }).addTo(state.map);
        layers.push(f);
      }
      if (loc.point && Number.isFinite(loc.point.x) && Number.isFinite(loc.point.y)) {
        const icon = Lf.divIcon({ className: `permit-marker state-${p.state}`, html: h('span', { class: 'permit-pin', text: '⚒' }), iconSize: [26, 26], iconAnchor: [13, 13] });
        const m = Lf.marker(ll([loc.point.x, loc.point.y]), { icon, keyboard: false, title: p.number }).addTo(state.map);
        m.bindTooltip(h('span', { text: `${p.number} ${p.title || ''}` }));
        m.on('click', () => go(`#/permits/${p.id}`));
        m.getElement()?.setAttribute('data-testid', `permit-marker-${p.number}`);
        layers.push(m);
      }
    }
    state.permits.set(p.id, { permit: p, layers });
  }
  function renderPermitList() {
    clear(permitList);
    const list = [...state.permits.values()].map((x) => x.permit).sort((a, b) => String(a.number).localeCompare(String(b.number)));
    if (!list.length) {
      permitList.appendChild(h('li', { class: 'muted', text: t('board.permits.none') }));
      return;
    }
    for (const p of list) {
      const loc = permitLocation(p);
      permitList.appendChild(h('li', { class: ['board-permit', `state-${p.state}`], 'data-testid': `board-permit-${p.number}`, 'data-state': p.state },
        h('a', { href: `#/permits/${p.id}` },
          h('span', { class: 'bp-number', text: p.number }),
          h('span', { class: 'bp-state', text: t(`pstate.${p.state}`) }),
          h('span', { class: 'bp-title', text: [p.title, loc?.zone || p.zone].filter(Boolean).join(' · ') }))));
    }
  }
  async function loadPermits() {
    const r = await api('GET', `/api/v1/permits?state=active,suspended&site=${encodeURIComponent(site.code)}&limit=200`).catch((e) => {
      if (e instanceof ApiError && e.status !== 401) return { permits: [] };
      throw e;
    });
    for (const x of state.permits.values()) for (const l of x.layers) l.remove();
    state.permits.clear();
    // The list rows carry no location: read each permit (a site has a handful at work).
    const rows = (r.permits || []).slice(0, 100);
    const full = await Promise.all(rows.map((p) => (permitLocation(p) ? p
      : api('GET', `/api/v1/permits/${encodeURIComponent(p.id)}`).then((x) => x.permit || p).catch(() => p))));
    if (state.disposed) return;
    for (const p of full) drawPermit(p);
    renderPermitList();
  }
  async function permitChanged(d) {
    const live = d.state === 'active' || d.state === 'suspended';
    if (!live) {
      const old = state.permits.get(d.id);
      if (old) {
        for (const l of old.layers) l.remove();
        state.permits.delete(d.id);
        renderPermitList();
      }
      return;
    }
    try {
      const r = await api('GET', `/api/v1/permits/${encodeURIComponent(d.id)}`);
      const p = r.permit || r;
      if (state.disposed || p.site !== site.code) return;
      drawPermit(p);
      renderPermitList();
    } catch {
      /* gone or not ours */
    }
  }

  // ---- initial load ----
  try {
    await Promise.all([loadAlarms(), loadPositions(), loadPermits()]);
  } catch (e) {
    if (state.disposed) return cleanup;
    container.insertBefore(h('p', { class: 'error-box', role: 'alert', text: t('board.loadfail', { msg: e.message }) }), container.firstChild);
  }
  if (state.disposed) return cleanup;
  state.ready.alarms = true;
  // The ticker starts with the open alarms, oldest first so the newest ends on top.
  [...state.alarms.values()]
    .sort((a, b) => (toMillis(a.raised_at) || 0) - (toMillis(b.raised_at) || 0))
    .slice(-TICKER_MAX)
    .forEach((a) => tick(a.level, alarmText('raised', a), a.raised_at, { 'data-kind': 'alarm', 'data-event': 'open', 'data-alarm': a.id }));
  mapEl.setAttribute('data-ready', '1');
  mapEl.setAttribute('data-board-rendered', '1');

  // ---- live updates ----
  state.unsubs.push(on('reading', (d) => {
    const rec = state.pts.get(d.point);
    if (!rec) return;
    const ms = toMillis(d.t);
    const v = Number(d.v);
    if (!Number.isFinite(ms) || !Number.isFinite(v)) return;
    if (!rec.ring) rec.ring = new Ring(RING);
    rec.ring.push(ms / 1000, v);
    if (rec.visible || small) {
      rec.dirty = true;
      scheduleDraw();
    }
  }));
  state.unsubs.push(on('alarm', (d) => {
    const a = d && d.alarm;
    if (!alarmOfSite(a)) return;
    if (isActiveAlarm(a)) state.alarms.set(a.id, a);
    else state.alarms.delete(a.id);
    applyLevels();
    tick(d.event === 'cleared' || d.event === 'closed' ? 'none' : a.level, alarmText(d.event, a), a.raised_at && d.event === 'raised' ? a.raised_at : Date.now(),
      { 'data-kind': 'alarm', 'data-event': d.event, 'data-alarm': a.id });
  }));
  state.unsubs.push(on('permit', (d) => {
    const known = state.permits.has(d.id);
    const inSite = known || state.zoneLayers.has(d.zone);
    if (!inSite) return;
    permitChanged(d);
    if (d.state === 'suspended' || d.state === 'active' || known) {
      tick(d.state === 'suspended' ? 'red' : 'blue', `${t('ev.permit', { number: d.number || d.id, state: t(`pstate.${d.state}`) })}${d.reason ? ` · ${d.reason}` : ''}`, Date.now(),
        { 'data-kind': 'permit', 'data-event': d.state });
    }
  }));
  state.unsubs.push(on('position', (d) => placePerson(d)));
  state.unsubs.push(on('presence', (d) => {
    if (!(state.zoneLayers.has(d.zone) || state.people.has(d.tag))) return;
    const ev = String(d.event || '');
    const evText = t(`presence.${ev}`) === `presence.${ev}` ? ev : t(`presence.${ev}`);
    const level = ev === 'entered' || ev === 'exited' ? 'none' : 'yellow';
    tick(level, t('ev.presence', { person: d.person ? personLabel(d) : d.tag, event: evText, fence: d.fence || d.zone || '' }), d.at,
      { 'data-kind': 'presence', 'data-event': ev });
  }));
  // After a reconnect, reload what events may have been missed.
  let lastStatus = null;
  state.unsubs.push(onStatus((s) => {
    if (s === 'open' && lastStatus === 'reconnecting') {
      loadAlarms().catch(() => {});
      loadPermits().catch(() => {});
      loadPositions().catch(() => {});
    }
    lastStatus = s;
  }));

  return cleanup;
}

// The point halfway along a polyline's middle segment.
function midLine(line) {
  const i = Math.max(0, Math.floor((line.length - 1) / 2));
  const a = line[i];
  const b = line[Math.min(i + 1, line.length - 1)];
  return [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2];
}

function centroid(poly) {
  let x = 0;
  let y = 0;
  for (const p of poly) {
    x += p[0];
    y += p[1];
  }
  return [x / poly.length, y / poly.length];
}

route('#/board', renderBoard, { title: 'board.title', nav: 'board' });
