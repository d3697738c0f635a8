// Entry: routes, login guard, tab bar, location prompt.
import { session, onUnauthenticated } from './api.js';
import { route, guard, after, start, go, render, currentPath } from './router.js';
import { toast, closeAllSheets } from './ui.js';
import * as loc from './location.js';
import * as track from './track.js';
import * as login from './pages/login.js';
import * as home from './pages/home.js';
import * as article from './pages/article.js';
import * as store from './pages/store.js';
import * as staff from './pages/staff.js';
import * as posts from './pages/posts.js';
import * as me from './pages/me.js';
import * as coupons from './pages/coupons.js';
import * as mall from './pages/mall.js';
import * as pay from './pages/pay.js';
import * as face from './pages/face.js';

window.addEventListener('unhandledrejection', (ev) => {
  ev.preventDefault();
  const r = ev.reason;
  console.info('[guang] unhandled', r);
  toast((r && r.message) || '出错了');
});

route('/login', login, { public: true });
route('/home', home, { tab: 'home' });
route('/posts', posts, { tab: 'posts' });
route('/me', me, { tab: 'me' });
route('/article/:id', article);
route('/store/:id', store);
route('/staff/:id', staff);
route('/coupons', coupons);
route('/mall/:id', mall);
route('/pay/:id', pay);
route('/face', face);

guard((path) => {
  if (!session.loggedIn && path !== '/login') return '/login';
  if (!/^\/[a-z]/.test(path)) return '/home';
  return null;
});

let booted = false;
after((r) => {
  const bar = document.getElementById('tabbar');
  bar.hidden = !r.tab;
  document.body.classList.toggle('with-tabbar', !!r.tab);
  bar.querySelectorAll('[data-tab]').forEach((a) => a.classList.toggle('active', a.dataset.tab === r.tab));
  closeAllSheets();
  if (session.loggedIn && !r.public && !booted) { booted = true; loc.boot(); }
});

// Login / logout start a new session: ask for location again for the new shopper.
window.addEventListener('guang:session', () => { booted = false; track.reset(); });

onUnauthenticated(() => {
  booted = false;
  loc.clearAll();
  if (currentPath() === '/login') return;
  toast('登录已过期，请重新登录');
  go('/login', { replace: true });
});

// Position changes re-render the pages that depend on it.
window.addEventListener('guang:location', () => {
  const p = currentPath();
  if (['/home', '/posts', '/coupons', '/me'].includes(p) || /^\/(store|article|mall)\//.test(p)) render({ soft: true });
});

if (!location.hash) history.replaceState(null, '', '#/home');
start();
