/**
 * 导购助手 (/guide/): a staff member's phone. Log in with a staff code; the inbox shows the recent alerts
 * (guideAlerts) and then each new one live over the guideInbox subscription (graphql-transport-ws, the
 * session token in connection_init.authorization); 我的客户 lists the client book (clientBook).
 * A lost socket reconnects with backoff and re-reads the recent alerts, so nothing sent meanwhile is missed.
 */
const TOKEN = 'guang.guide.token';
const ALERT = `id memberId nickname how signal mallName storeName atMs
  lookedAt { zoneName category dwellS } topCategories
  recommendation { recId items { reason product { id name priceFen } } }`;
const RECENT = `query { guideAlerts(first: 20) { nodes { ${ALERT} } } }`;
const INBOX = `subscription { guideInbox { staffId alert { ${ALERT} } } }`;
const ME = `query($id: String!) { staffProfile(id: $id) { name title store { name mallName } } }`;
const CLIENTS = `query { clientBook(first: 50) { nodes { memberId nickname sinceMs sources lastVisitMs
  marketingConsent tags { tag { name } } interests { topCategories } } } }`;
const SIGNALS = { member_arrival: '进店（人脸识别）', store_enter: '进店（定位）', arrival: '到达商场（定位）' };
const SOURCES = { ADVISOR: '向TA咨询', SHARE_LINK_ORDER: '分享链接下单', REASSIGNED: '同事转交' };
const RETRY_MS = [1000, 2000, 5000, 10000];

const $ = (id) => document.getElementById(id);
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const time = (ms) => new Date(ms).toLocaleTimeString('zh-CN', { hour: '2-digit', minute: '2-digit' });
const day = (ms) => new Date(ms).toLocaleDateString('zh-CN', { month: 'numeric', day: 'numeric' });
const shown = new Map();
let socket = null;
let retries = 0;
let stopped = false;

async function gql(query, variables = {}, token = localStorage.getItem(TOKEN)) {
  const res = await fetch('/graphql', { method: 'POST', headers: { 'Content-Type': 'application/json',
    ...(token ? { Authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify({ query, variables }) });
  const body = await res.json();
  if (body.errors) { const e = new Error(body.errors[0].message); e.code = body.errors[0].extensions?.code; throw e; }
  return body.data;
}

function status(text, kind) {
  $('status').textContent = text;
  $('status').className = `pill ${kind || ''}`;
}

function alertCard(a, fresh) {
  const how = a.how === 'FACE' ? '<span class="badge face">人脸</span>' : '<span class="badge">定位</span>';
  const where = a.storeName ? `${esc(a.mallName)} · ${esc(a.storeName)}` : esc(a.mallName);
  const looked = a.lookedAt
    ? `<p class="line">刚看过：<em>${esc(a.lookedAt.zoneName)}</em>（${esc(a.lookedAt.category)}）停留 ${a.lookedAt.dwellS} 秒</p>` : '';
  const likes = a.topCategories.length
    ? `<p class="line">偏好：<em>${a.topCategories.map(esc).join('、')}</em></p>` : '';
  const items = a.recommendation.items.map((i) => `<li><div><div class="p">${esc(i.product.name)}</div>
    <span>${esc(i.reason)}</span></div><b class="price">¥${(i.product.priceFen / 100).toFixed(0)}</b></li>`).join('');
  return `<article class="card alert${fresh ? ' fresh' : ''}" data-testid="guide-alert" data-member="${esc(a.memberId)}">
    <div class="who"><b>${esc(a.nickname || a.memberId)}${how}</b><span class="when">${day(a.atMs)} ${time(a.atMs)}</span></div>
    <p class="line">${esc(SIGNALS[a.signal] || a.signal)}：<em>${where}</em></p>${looked}${likes}
    <ul class="recs" data-testid="guide-recs"><p class="sub">推荐给TA</p>${items || '<li><span>暂无推荐</span></li>'}</ul>
  </article>`;
}

function add(alerts, fresh) {
  for (const a of alerts) if (!shown.has(a.id)) shown.set(a.id, { ...a, fresh });
  const all = [...shown.values()].sort((x, y) => y.atMs - x.atMs).slice(0, 50);
  $('alerts').innerHTML = all.map((a) => alertCard(a, a.fresh)).join('');
  $('no-alerts').hidden = all.length > 0;
}

async function loadRecent() {
  add((await gql(RECENT)).guideAlerts.nodes, false);
}

async function loadClients() {
  try {
    const clients = (await gql(CLIENTS)).clientBook.nodes;
    $('clients-title').textContent = `我的客户（${clients.length}）`;
    $('clients').innerHTML = clients.map((c) => `<div class="client" data-testid="guide-client" data-member="${esc(c.memberId)}">
      <div><b>${esc(c.nickname || c.memberId)}</b><br><span>${c.sources.map((s) => SOURCES[s] || s).join('、')}
      · ${day(c.sinceMs)} 起${c.lastVisitMs ? ` · 最近到店 ${day(c.lastVisitMs)}` : ''}</span><br>
      ${c.tags.map((t) => `<i class="tag">${esc(t.tag.name)}</i>`).join('')}
      ${(c.interests?.topCategories || []).map((n) => `<i class="tag">爱看 ${esc(n)}</i>`).join('')}</div>
      <span>${c.marketingConsent ? '可营销' : '未授权营销'}</span></div>`).join('')
      || '<p class="empty">还没有客户：顾客在店员说里点「向TA咨询」后会出现在这里。</p>';
  } catch (e) {
    $('clients').innerHTML = `<p class="empty">客户列表暂不可用：${esc(e.message)}</p>`;
  }
}

function send(msg) {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(msg));
}

function connect() {
  const token = localStorage.getItem(TOKEN);
  if (!token || stopped) return;
  status('连接中…');
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`;
  const ws = new WebSocket(url, 'graphql-transport-ws');
  socket = ws;
  ws.onopen = () => send({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } });
  ws.onmessage = async (ev) => {
    const msg = JSON.parse(ev.data);
    if (msg.type === 'connection_ack') send({ id: 'inbox', type: 'subscribe', payload: { query: INBOX } });
    else if (msg.type === 'ping') send({ type: 'pong' });
    else if (msg.type === 'next' && msg.payload.errors) { stopped = true; signOut(msg.payload.errors[0].message); }
    else if (msg.type === 'next') {
      const { alert } = msg.payload.data.guideInbox;
      if (alert) add([alert], true);
      else if (retries > 0 || $('status').textContent !== '实时') {
        retries = 0;
        status('实时', 'live');
        loadRecent().catch(() => {});
      }
    } else if (msg.type === 'error') { stopped = true; signOut(msg.payload[0]?.message || '订阅失败'); }
  };
  ws.onclose = () => {
    if (socket !== ws || stopped) return;
    status('已断开，重连中…', 'down');
    setTimeout(connect, RETRY_MS[Math.min(retries++, RETRY_MS.length - 1)]);
  };
}

function signOut(message) {
  localStorage.removeItem(TOKEN);
  if (socket) { const ws = socket; socket = null; ws.close(); }
  shown.clear();
  $('app').hidden = true; $('login').hidden = false;
  $('error').textContent = message || '';
}

async function start() {
  const token = localStorage.getItem(TOKEN);
  if (!token) { $('login').hidden = false; $('app').hidden = true; return; }
  try {
    const { viewer } = await gql('query { viewer { subjectId role } }');
    if (viewer?.role !== 'STAFF') { signOut('请使用店员登录码登录'); return; }
    const me = (await gql(ME, { id: viewer.subjectId })).staffProfile;
    $('me').textContent = `${me.name} · ${me.title}`;
    $('store').textContent = `${me.store.mallName} · ${me.store.name}`;
    $('login').hidden = true; $('app').hidden = false; $('error').textContent = '';
    stopped = false;
    await loadRecent();
    connect();
    loadClients();
  } catch (e) {
    if (e.code === 'UNAUTHENTICATED' || e.code === 'FORBIDDEN') signOut(e.message);
    else $('error').textContent = e.message;
  }
}

$('go').addEventListener('click', async () => {
  try {
    const data = await gql('mutation($c: String!) { login(code: $c) { token } }', { c: $('code').value.trim() }, null);
    localStorage.setItem(TOKEN, data.login.token);
    await start();
  } catch (e) { $('error').textContent = e.message; }
});
$('logout').addEventListener('click', () => { stopped = true; signOut(''); });
for (const tab of document.querySelectorAll('nav button')) {
  tab.addEventListener('click', () => {
    for (const other of document.querySelectorAll('nav button')) other.setAttribute('aria-selected', String(other === tab));
    $('tab-inbox').hidden = tab.dataset.tab !== 'inbox';
    $('tab-clients').hidden = tab.dataset.tab !== 'clients';
    if (tab.dataset.tab === 'clients') loadClients();
  });
}
start();
