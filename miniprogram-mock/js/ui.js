// Small DOM helpers: escaping templates, toast, sheets/modals, formatting.
const RAW = Symbol('raw');

export function esc(v) {
  return String(v ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}
export function raw(s) { return { [RAW]: true, s: String(s) }; }

function part(v) {
  if (v == null || v === false) return '';
  if (Array.isArray(v)) return v.map(part).join('');
  if (typeof v === 'object' && v[RAW]) return v.s;
  return esc(v);
}
/** Tagged template: interpolations are escaped unless raw()/html`` results; arrays are joined. */
export function html(strings, ...values) {
  let out = strings[0];
  values.forEach((v, i) => { out += part(v) + strings[i + 1]; });
  return raw(out);
}
export function setHTML(el, tpl) { el.innerHTML = part(tpl); return el; }
export function $(sel, root = document) { return root.querySelector(sel); }
export function $$(sel, root = document) { return Array.from(root.querySelectorAll(sel)); }

let toastTimer = 0;
export function toast(message, ms = 2600) {
  const el = document.getElementById('toast');
  if (!el) return;
  el.textContent = String(message || '');
  el.hidden = false;
  el.classList.add('show');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.classList.remove('show'); el.hidden = true; }, ms);
}
/** Toast an error's message (GqlError or anything). */
export function toastError(e, prefix = '') {
  const msg = (e && e.message) || String(e || '出错了');
  console.info('[guang]', e && e.code, msg);
  if (e && e.code === 'UNAUTHENTICATED') return; // the session handler says 登录已过期 and goes to login
  toast(prefix ? `${prefix}：${msg}` : msg);
}

/** A bottom sheet / centred modal. Returns {el, close}. `body` is an html`` template. */
export function openSheet({ title = '', body, testid = 'sheet', modal = false, onClose } = {}) {
  const root = document.getElementById('overlay-root');
  const wrap = document.createElement('div');
  wrap.className = 'mask' + (modal ? ' mask-center' : '');
  setHTML(wrap, html`<div class="${modal ? 'modal' : 'sheet'}" data-testid="${testid}" role="dialog" aria-modal="true">
      <div class="sheet-head"><span class="sheet-title">${title}</span>
      <button class="icon-btn" data-close aria-label="关闭">✕</button></div>
      <div class="sheet-body">${body}</div></div>`);
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    wrap.remove();
    if (onClose) onClose();
  };
  wrap.addEventListener('click', (ev) => {
    if (ev.target === wrap || ev.target.closest('[data-close]')) close();
  });
  root.appendChild(wrap);
  return { el: wrap, close };
}
export function closeAllSheets() {
  const root = document.getElementById('overlay-root');
  if (root) $$('.mask', root).forEach((m) => { if (!m.dataset.keep) m.remove(); });
}

const ICONS = {
  pin: '<path d="M12 2a7 7 0 0 0-7 7c0 5.2 7 13 7 13s7-7.8 7-13a7 7 0 0 0-7-7zm0 9.5A2.5 2.5 0 1 1 12 6.5a2.5 2.5 0 0 1 0 5z"/>',
  face: '<path d="M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20zm-3.5 7a1.5 1.5 0 1 1 0 3 1.5 1.5 0 0 1 0-3zm7 0a1.5 1.5 0 1 1 0 3 1.5 1.5 0 0 1 0-3zM12 18c-2.6 0-4.6-1.6-5.3-3.6h10.6c-.7 2-2.7 3.6-5.3 3.6z"/>',
  chat: '<path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"/>',
  user: '<path d="M12 12a5 5 0 1 0 0-10 5 5 0 0 0 0 10zm0 2c-4.4 0-9 2.2-9 5.5V22h18v-2.5C21 16.2 16.4 14 12 14z"/>',
  home: '<path d="M12 3 2 11h3v9h5v-6h4v6h5v-9h3z"/>',
  list: '<path d="M4 5h16v3H4zm0 5.5h16v3H4zM4 16h16v3H4z"/>',
};
/** A small inline SVG icon (no emoji: headless/WeChat fonts may lack them). */
export const icon = (name, cls = 'ico') => raw(`<svg class="${cls}" viewBox="0 0 24 24" aria-hidden="true" fill="currentColor">${ICONS[name] || ''}</svg>`);

const SEASONS = { spring: '春季款', summer: '夏季款', autumn: '秋季款', fall: '秋季款', winter: '冬季款', all: '四季款', 'all-season': '四季款' };
export const seasonText = (s) => SEASONS[String(s || '').toLowerCase()] || s || '';

export const yuan = (fen) => `¥${(Number(fen || 0) / 100).toFixed(2).replace(/\.00$/, '')}`;
export function dist(m) {
  if (m == null) return '';
  const n = Number(m);
  return n < 1000 ? `${Math.round(n)}m` : `${(n / 1000).toFixed(n < 10000 ? 1 : 0)}km`;
}
// Times are shown in China time whatever the phone's zone (malls are in UTC+8).
function parts(ms) {
  const d = new Date(Number(ms));
  try {
    const f = new Intl.DateTimeFormat('en-GB', {
      timeZone: 'Asia/Shanghai', year: 'numeric', month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
    });
    const o = {};
    f.formatToParts(d).forEach((p) => { o[p.type] = p.value; });
    return { y: o.year, mo: Number(o.month), d: Number(o.day), h: o.hour, mi: o.minute };
  } catch {
    const p = (x) => String(x).padStart(2, '0');
    return { y: d.getFullYear(), mo: d.getMonth() + 1, d: d.getDate(), h: p(d.getHours()), mi: p(d.getMinutes()) };
  }
}
export function fmtTime(ms) {
  if (!ms) return '';
  const t = parts(ms);
  return `${t.mo}月${t.d}日 ${t.h}:${t.mi}`;
}
export function fmtClock(ms) {
  if (!ms) return '';
  const t = parts(ms);
  return `${t.h}:${t.mi}`;
}
export function fmtDate(ms) {
  if (!ms) return '';
  const t = parts(ms);
  return `${t.y}-${String(t.mo).padStart(2, '0')}-${String(t.d).padStart(2, '0')}`;
}
export const loadingTpl = (text = '加载中…') => html`<div class="state loading">${text}</div>`;
export const emptyTpl = (text) => html`<div class="state empty">${text}</div>`;

/** Page header with back button (for non-tab pages). */
export const headerTpl = (title) => html`<header class="topbar"><button class="back" data-back aria-label="返回">‹</button><h1>${title}</h1><span class="topbar-pad"></span></header>`;
export function bindBack(root) {
  $$('[data-back]', root).forEach((b) => b.addEventListener('click', () => {
    if (history.length > 1) history.back(); else location.hash = '#/home';
  }));
}

/** Run an async click handler with the button disabled; errors go to a toast. */
export function onClick(el, fn) {
  if (!el) return;
  el.addEventListener('click', async (ev) => {
    ev.preventDefault();
    if (el.dataset.busy) return;
    el.dataset.busy = '1';
    try { await fn(ev); } catch (e) { toastError(e); } finally { delete el.dataset.busy; }
  });
}
