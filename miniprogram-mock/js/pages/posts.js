// 店员说: staff posts with 商圈 (mall) and brand filter chips, pagination.
import { gql } from '../api.js';
import { html, setHTML, onClick, yuan, fmtTime, loadingTpl, emptyTpl, toastError } from '../ui.js';
import { latLng } from '../location.js';
import { consult } from './common.js';

const POSTS = `query Posts($mallId: String, $brandId: String, $after: String) {
  staffPosts(mallId: $mallId, brandId: $brandId, first: 10, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id text publishedAtMs
      staff { id name title }
      store { id name brandId brandName mallId mallName }
      products { product { id name priceFen } }
    }
  }
}`;
const FILTERS = `query Filters($lat: Float!, $lng: Float!) {
  nearbyMalls(lat: $lat, lng: $lng, radiusM: 50000, first: 20) { nodes { id name distanceM } }
  nearbyStores(lat: $lat, lng: $lng, radiusM: 50000, first: 50) { nodes { brandId brandName } }
}`;

const filter = { mallId: null, brandId: null };
const brandsSeen = new Map(); // brandId -> name (there is no brands query)

function chipsTpl(kind, items, selected) {
  return html`<button class="chip${selected ? '' : ' active'}" data-testid="${kind}-chip" data-id="">全部</button>
    ${items.map((x) => html`<button class="chip${selected === x.id ? ' active' : ''}" data-testid="${kind}-chip" data-id="${x.id}">${x.name}</button>`)}`;
}

export async function render(root, params, ctx) {
  root.dataset.testid = 'page-posts';
  const pos = latLng();
  setHTML(root, html`
    <header class="home-head"><h1>店员说</h1></header>
    <div class="filters">
      <div class="chip-row" data-testid="mall-filter"><span class="chip-label">商圈</span><span class="chips">${pos ? loadingTpl('…') : html`<span class="muted small">开启定位后可按商圈筛选</span>`}</span></div>
      <div class="chip-row" data-testid="brand-filter"><span class="chip-label">品牌</span><span class="chips"></span></div>
    </div>
    <div class="post-list" data-testid="post-list">${loadingTpl()}</div>
    <button class="btn ghost block" data-testid="posts-more" hidden>加载更多</button>`);

  const mallChips = root.querySelector('[data-testid=mall-filter] .chips');
  const brandChips = root.querySelector('[data-testid=brand-filter] .chips');
  let malls = [];
  const drawChips = () => {
    if (pos) setHTML(mallChips, chipsTpl('mall', malls, filter.mallId));
    setHTML(brandChips, chipsTpl('brand', [...brandsSeen].map(([id, name]) => ({ id, name })), filter.brandId));
  };
  root.querySelector('.filters').addEventListener('click', (ev) => {
    const chip = ev.target.closest('.chip');
    if (!chip) return;
    const kind = chip.dataset.testid === 'mall-chip' ? 'mallId' : 'brandId';
    filter[kind] = chip.dataset.id || null;
    drawChips();
    reload();
  });
  drawChips();
  if (pos) {
    gql(FILTERS, pos).then((d) => {
      malls = d.nearbyMalls.nodes;
      d.nearbyStores.nodes.forEach((s) => brandsSeen.set(s.brandId, s.brandName));
      if (ctx.alive()) drawChips();
    }).catch((e) => { toastError(e); });
  }

  const list = root.querySelector('[data-testid=post-list]');
  const more = root.querySelector('[data-testid=posts-more]');
  let after = null;
  let token = 0;
  const page = async (reset) => {
    const my = reset ? ++token : token;
    if (reset) { after = null; setHTML(list, loadingTpl()); more.hidden = true; }
    let conn;
    try {
      conn = (await gql(POSTS, { mallId: filter.mallId, brandId: filter.brandId, after })).staffPosts;
    } catch (e) {
      if (reset) setHTML(list, emptyTpl('加载失败'));
      toastError(e);
      return;
    }
    if (my !== token) return;
    if (reset) list.replaceChildren();
    let newBrand = false;
    conn.nodes.forEach((p) => { if (!brandsSeen.has(p.store.brandId)) { brandsSeen.set(p.store.brandId, p.store.brandName); newBrand = true; } });
    if (newBrand) drawChips();
    list.insertAdjacentHTML('beforeend', conn.nodes.map((p) => postTpl(p).s).join(''));
    if (!list.children.length) setHTML(list, emptyTpl('还没有店员说'));
    after = conn.pageInfo.endCursor;
    more.hidden = !conn.pageInfo.hasNextPage;
  };
  const reload = () => page(true);
  onClick(more, () => page(false));
  list.addEventListener('click', (ev) => {
    const b = ev.target.closest('[data-testid=post-consult]');
    if (!b) return;
    ev.preventDefault();
    consult(b.dataset.staff, 'POST').catch(toastError);
  });
  await page(true);
}

export function postTpl(p) {
  return html`<div class="card post" data-testid="post-card">
    <div class="post-head">
      <a class="avatar" href="#/staff/${encodeURIComponent(p.staff.id)}">${p.staff.name.slice(0, 1)}</a>
      <div class="post-who">
        <a href="#/staff/${encodeURIComponent(p.staff.id)}" data-testid="post-staff"><b>${p.staff.name}</b></a> <span class="muted small">${p.staff.title}</span>
        <div class="muted small"><a href="#/store/${encodeURIComponent(p.store.id)}" data-testid="post-store">${p.store.name}</a> · ${p.store.mallName}</div>
      </div>
      <button class="btn small ghost" data-testid="post-consult" data-staff="${p.staff.id}">咨询</button>
    </div>
    <div class="post-text">${p.text}</div>
    ${p.products.length ? html`<div class="tags">${p.products.map((x) => html`<span class="tag">${x.product.name} ${yuan(x.product.priceFen)}</span>`)}</div>` : ''}
    <div class="muted small">${fmtTime(p.publishedAtMs)}</div>
  </div>`;
}
