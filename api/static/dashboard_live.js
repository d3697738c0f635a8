// What the store and mall dashboard pages share: helpers, login, and live figures.
// Live: a graphql-transport-ws subscription; while it is down, poll every POLL_MS and retry with backoff.

export const $ = (id) => document.getElementById(id);
export const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
export const yuan = (fen) => `¥${(fen / 100).toFixed(0)}`;
export const pct = (x) => `${Math.round(x * 100)}%`;
const TOKEN = 'guang.dashboard.token';
const POLL_MS = 10_000;

export async function gql(query, variables, token) {
  const res = await fetch('/graphql', { method: 'POST', headers: { 'Content-Type': 'application/json',
    ...(token ? { Authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify({ query, variables }) });
  const body = await res.json();
  if (body.errors) { const e = new Error(body.errors[0].message); e.code = body.errors[0].extensions?.code; throw e; }
  return body.data;
}

/** Visitors (and payers inside them) per 5-minute bucket, as SVG bars. */
export function bars(buckets) {
  const max = Math.max(1, ...buckets.map((b) => b.visitors)), w = 100 / buckets.length;
  return buckets.map((b, i) => {
    const h = (b.visitors / max) * 130, p = (b.payers / max) * 130;
    const t = new Date(b.startMs).toLocaleTimeString('zh-CN', { hour: '2-digit', minute: '2-digit' });
    return `<rect class="bar" x="${i * w + 0.5}%" y="${140 - h}" width="${w - 1}%" height="${h}"></rect>
      <rect class="payers" x="${i * w + 0.5}%" y="${140 - p}" width="${w - 1}%" height="${p}"></rect>
      ${i % 6 === 0 ? `<text class="axis" x="${i * w}%" y="156">${t}</text>` : ''}`;
  }).join('');
}

/**
 * Log in, then keep the board fresh: `query`/`queryField` once and while polling, `live`/`liveField` pushed.
 * The page has #login, #board, #code, #go, #error and #mode; `render(data)` fills the board.
 */
export function liveBoard({ query, queryField, live, liveField, variables, render }) {
  let socket = null, attempt = 0, pollTimer = null, retryTimer = null, pushes = 0;

  const shown = (data) => { render(data); $('board').hidden = false; $('login').hidden = true; $('error').textContent = ''; };

  function showLogin(message) {
    localStorage.removeItem(TOKEN);
    $('login').hidden = false; $('board').hidden = true; $('error').textContent = message || '';
  }

  function refused(message) { stopLive(); showLogin(message); }

  function setMode(isLive) {
    $('mode').textContent = isLive ? '实时' : '轮询'; $('mode').classList.toggle('live', isLive);
    $('mode').dataset.pushes = String(pushes);
  }

  function startPolling() {
    setMode(false);
    if (!pollTimer) pollTimer = setInterval(poll, POLL_MS);
  }

  async function poll() {
    const token = localStorage.getItem(TOKEN);
    if (!token) { showLogin(); return; }
    try { shown((await gql(query, variables, token))[queryField]); }
    catch (e) {
      if (e.code === 'UNAUTHENTICATED' || e.code === 'FORBIDDEN') refused(e.message);
      else $('error').textContent = e.message;
    }
  }

  function stopLive() {
    clearInterval(pollTimer); pollTimer = null; clearTimeout(retryTimer); retryTimer = null;
    const sock = socket; socket = null; if (sock) sock.close();
  }

  function connect() {
    const token = localStorage.getItem(TOKEN);
    if (!token || socket) return;
    const sock = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`,
      'graphql-transport-ws');
    socket = sock;
    const send = (m) => sock.readyState === WebSocket.OPEN && sock.send(JSON.stringify(m));
    sock.onopen = () => send({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } });
    sock.onmessage = (ev) => {
      const m = JSON.parse(ev.data);
      if (m.type === 'connection_ack') send({ id: '1', type: 'subscribe', payload: { query: live, variables } });
      else if (m.type === 'ping') send({ type: 'pong' });
      else if (m.type === 'next' && m.payload.errors) {
        const e = m.payload.errors[0], code = e.extensions?.code;
        if (code === 'UNAUTHENTICATED' || code === 'FORBIDDEN') refused(e.message);
        else $('error').textContent = e.message;
      } else if (m.type === 'next') {
        pushes += 1; attempt = 0;
        clearInterval(pollTimer); pollTimer = null;
        shown(m.payload.data[liveField]); setMode(true);
      } else if (m.type === 'error' || m.type === 'complete') sock.close();
    };
    sock.onclose = () => {
      if (socket !== sock) return;
      socket = null; startPolling();
      const delay = Math.min(30_000, 1000 * 2 ** attempt) * (0.5 + Math.random() / 2);
      attempt += 1;
      retryTimer = setTimeout(() => { retryTimer = null; connect(); }, delay);
    };
  }

  async function start() {
    if (!localStorage.getItem(TOKEN)) { showLogin(); return; }
    await poll();
    if (localStorage.getItem(TOKEN)) connect();
  }

  $('go').addEventListener('click', async () => {
    try {
      const data = await gql('mutation($c: String!) { login(code: $c) { token } }', { c: $('code').value.trim() });
      localStorage.setItem(TOKEN, data.login.token);
      $('error').textContent = '';
      await start();
    } catch (e) { $('error').textContent = e.message; }
  });
  start();
}
