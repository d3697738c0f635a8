// Hash router: '#/name/param' -> page module's render(root, params, ctx).
const routes = [];
let current = null;
let generation = 0;
let beforeEach = () => null;
let afterEach = () => {};

/** pattern: '/article/:id' */
export function route(pattern, page, opts = {}) {
  const keys = [];
  const re = new RegExp('^' + pattern.replace(/:(\w+)/g, (_, k) => { keys.push(k); return '([^/]+)'; }) + '/?$');
  routes.push({ pattern, re, keys, page, ...opts });
}
export function guard(fn) { beforeEach = fn; }
export function after(fn) { afterEach = fn; }
export function currentPath() { return (location.hash || '').replace(/^#/, '').split('?')[0] || '/home'; }
export function go(path, { replace = false } = {}) {
  const target = '#' + path;
  if (location.hash === target) { render(); return; }
  if (replace) location.replace(target); else location.hash = target;
}

function match(path) {
  for (const r of routes) {
    const m = r.re.exec(path);
    if (m) {
      const params = {};
      r.keys.forEach((k, i) => { params[k] = decodeURIComponent(m[i + 1]); });
      return { r, params };
    }
  }
  return null;
}

/** soft: re-render for a changed position (pages may reuse what they just loaded). */
export async function render({ soft = false } = {}) {
  const path = currentPath();
  const redirect = beforeEach(path);
  if (redirect && redirect !== path) { go(redirect, { replace: true }); return; }
  const found = match(path) || match('/home');
  const gen = ++generation;
  const view = document.getElementById('view');
  const root = document.createElement('main');
  root.className = 'page';
  view.replaceChildren(root);
  window.scrollTo(0, 0);
  current = { path, ...found };
  const ctx = { path, soft, alive: () => gen === generation && root.isConnected, rerender: () => render() };
  afterEach(found.r, path);
  try {
    await found.r.page.render(root, found.params, ctx);
  } catch (e) {
    console.info('[guang] render failed', e);
    root.insertAdjacentHTML('beforeend', '<div class="state empty">页面加载失败</div>');
  }
}
export function currentRoute() { return current; }
export function start() {
  window.addEventListener('hashchange', () => { render(); });
  render();
}
