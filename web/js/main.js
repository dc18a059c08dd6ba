// main.js — boot: loads every view module (each registers its routes with route()),
// then starts the router. A view module that fails to load only breaks its own pages:
// they show the load error instead of the view.
import { route, start, h, t, addStrings } from './core.js';

addStrings({
  zh: { 'boot.failed': '“{view}”页面模块加载失败：{msg}' },
  en: { 'boot.failed': 'The "{view}" page module failed to load: {msg}' },
});

const VIEWS = [
  { name: 'board', module: './views/board.js', title: 'nav.board' },
  { name: 'alarms', module: './views/alarms.js', title: 'nav.alarms' },
  { name: 'permits', module: './views/permits.js', title: 'nav.permits' },
  { name: 'certs', module: './views/certs.js', title: 'nav.certs' },
  { name: 'evidence', module: './views/evidence.js', title: 'nav.evidence' },
];

function failedView(v, err) {
  const msg = err && err.message ? err.message : String(err);
  console.error(`view ${v.name} failed to load`, err);
  const render = (container) => {
    container.appendChild(h('section', { class: 'message-page', 'data-testid': 'page-error' },
      h('h1', { text: t('router.error') }),
      h('p', { text: t('boot.failed', { view: t(v.title), msg }) })));
  };
  route(`#/${v.name}`, render, { title: v.title, nav: v.name });
  route(`#/${v.name}/*`, render, { title: v.title, nav: v.name });
}

const results = await Promise.allSettled(VIEWS.map((v) => import(v.module)));
results.forEach((r, i) => {
  if (r.status === 'rejected') failedView(VIEWS[i], r.reason);
});
start();
