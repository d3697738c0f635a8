// 逛逛: mall arrival, 优惠必买 deals, nearby stores, 猜你喜欢 feed, 好物推荐 articles.
import { gql, gqlQuiet } from '../api.js';
import { html, setHTML, toast, toastError, yuan, dist, onClick, loadingTpl, emptyTpl, icon } from '../ui.js';
import { getPosition, showPrompt } from '../location.js';
import { claim, renderRecs, REC_FIELDS, coverTpl } from './common.js';

const DEALS = `query Deals($lat: Float!, $lng: Float!) {
  deals(lat: $lat, lng: $lng, first: 6) { nodes {
    id headline appId path distanceM couponId couponTitle discountFen minSpendFen endsAtMs
    product { id name priceFen brandName category } store { id name mallName floor }
  } }
}`;
const STORES = `query Nearby($lat: Float!, $lng: Float!) {
  nearbyStores(lat: $lat, lng: $lng, first: 8) { nodes { id name floor brandName mallName distanceM services } }
}`;
const FEED = `query Feed { recommendations(surface: FEED, limit: 6) { ${REC_FIELDS} } }`;
const ARTICLES = `query Articles($after: String, $lat: Float, $lng: Float) {
  articles(first: 10, after: $after, lat: $lat, lng: $lng) {
    pageInfo { hasNextPage endCursor }
    nodes { id title coverUrl category brandName authorName likeCount likedByMe commentCount }
  }
}`;

// The feed just asked for, reused when the page re-renders because the position changed (so the list
// and its recId stay the same on screen); navigation and 刷新 always ask again.
let lastFeed = null; // {promise, at}
const FEED_REUSE_MS = 60000;

function feedQuery(reuse) {
  if (reuse && lastFeed && Date.now() - lastFeed.at < FEED_REUSE_MS) return lastFeed.promise;
  const promise = gqlQuiet(FEED);
  lastFeed = { promise, at: Date.now() };
  return promise;
}

export async function render(root, params, ctx) {
  root.dataset.testid = 'page-home';
  const pos = getPosition();
  setHTML(root, html`
    <header class="home-head"><h1>逛逛</h1>
      <span class="loc-pill" data-testid="location-status">${icon('pin')} ${pos ? (pos.mall ? pos.mall.name : '已定位') : '定位未开启'}</span></header>
    ${pos && pos.mall ? html`
      <a class="card mall-arrival" data-testid="mall-arrival" href="#/mall/${encodeURIComponent(pos.mall.id)}">
        <div class="ma-kicker">欢迎来到</div>
        <div class="ma-name">${pos.mall.name}</div>
        <div class="ma-sub">今日活动 · 值得逛的店 · 商场优惠券 ›</div>
      </a>` : ''}
    ${pos ? '' : html`
      <div class="card loc-off" data-testid="location-off">
        <div>定位未开启：附近优惠、门店与商场活动暂不可用，下面是为你精选的种草好文。</div>
        <button class="btn small primary" data-testid="location-enable">开启定位</button>
      </div>`}
    ${pos ? html`
      <section class="section" data-testid="deals">
        <div class="section-head"><h2>优惠必买</h2><a href="#/coupons" class="more">领券中心 ›</a></div>
        <div class="deals-list">${loadingTpl()}</div>
      </section>
      <section class="section" data-testid="nearby-stores">
        <div class="section-head"><h2>附近好店</h2></div>
        <div class="carousel">${loadingTpl()}</div>
      </section>` : ''}
    <section class="section" data-testid="feed">
      <div class="section-head"><h2>猜你喜欢</h2><button class="link-btn" data-testid="feed-refresh">↻ 刷新</button></div>
      <div class="rec-grid">${loadingTpl()}</div>
    </section>
    <section class="section" data-testid="articles">
      <div class="section-head"><h2>好物推荐</h2></div>
      <div class="article-list">${loadingTpl()}</div>
      <button class="btn ghost block" data-testid="articles-more" hidden>加载更多</button>
    </section>`);

  const enable = root.querySelector('[data-testid=location-enable]');
  if (enable) enable.addEventListener('click', () => showPrompt());

  if (pos) {
    loadDeals(root.querySelector('.deals-list'), pos);
    loadStores(root.querySelector('.carousel'), pos);
  }
  const feed = root.querySelector('[data-testid=feed]');
  loadFeed(feed, !!ctx.soft);
  onClick(root.querySelector('[data-testid=feed-refresh]'), () => loadFeed(feed, false));
  loadArticles(root, pos);
}

async function loadDeals(el, pos) {
  let deals;
  try {
    deals = (await gql(DEALS, { lat: pos.lat, lng: pos.lng })).deals.nodes;
  } catch (e) { setHTML(el, emptyTpl('优惠加载失败')); toastError(e); return; }
  if (!deals.length) { setHTML(el, emptyTpl('附近还没有优惠')); return; }
  setHTML(el, html`${deals.map((d, i) => html`
    <div class="card deal" data-testid="deal" data-idx="${i}">
      <div class="deal-img">${(d.product.category || '好物').slice(0, 4)}</div>
      <div class="deal-main">
        <div class="deal-name">${d.product.name}</div>
        <div class="deal-headline" data-testid="deal-headline">${d.headline}</div>
        <div class="muted small"><a href="#/store/${encodeURIComponent(d.store.id)}">${d.store.name}</a> · ${dist(d.distanceM)}</div>
        <div class="deal-actions">
          <span class="price">${yuan(d.product.priceFen)}</span>
          <button class="btn small ghost" data-testid="claim-button" data-coupon="${d.couponId}">领券</button>
          <button class="btn small primary" data-testid="deal-go">去看看</button>
        </div>
      </div>
    </div>`)}`);
  el.querySelectorAll('[data-testid=deal]').forEach((card) => {
    const d = deals[Number(card.dataset.idx)];
    onClick(card.querySelector('[data-testid=deal-go]'), () => {
      toast(`打开品牌小程序 appId: ${d.appId}  path: ${d.path}`, 4000);
    });
    const btn = card.querySelector('[data-testid=claim-button]');
    onClick(btn, () => claim(btn, d.couponId));
  });
}

async function loadStores(el, pos) {
  let stores;
  try {
    stores = (await gql(STORES, { lat: pos.lat, lng: pos.lng })).nearbyStores.nodes;
  } catch (e) { setHTML(el, emptyTpl('门店加载失败')); toastError(e); return; }
  if (!stores.length) { setHTML(el, emptyTpl('附近还没有门店')); return; }
  setHTML(el, html`${stores.map((s) => html`
    <a class="store-tile" data-testid="store-tile" href="#/store/${encodeURIComponent(s.id)}">
      <div class="st-logo">${(s.brandName || s.name).slice(0, 2)}</div>
      <div class="st-name">${s.name}</div>
      <div class="muted small">${s.mallName} ${s.floor}</div>
      <div class="st-dist">${dist(s.distanceM)}</div>
    </a>`)}`);
}

async function loadFeed(section, reuse) {
  const list = section.querySelector('.rec-grid');
  setHTML(list, loadingTpl());
  const d = await feedQuery(reuse);
  const rec = d && d.recommendations;
  if (rec) section.setAttribute('data-rec-id', rec.recId); else section.removeAttribute('data-rec-id');
  renderRecs(list, rec, { surface: 'FEED', itemId: 'feed-item', reasonId: 'feed-reason' });
}

async function loadArticles(root, pos) {
  const list = root.querySelector('.article-list');
  const more = root.querySelector('[data-testid=articles-more]');
  let after = null;
  let first = true;
  const page = async () => {
    let conn;
    try {
      conn = (await gql(ARTICLES, { after, lat: pos ? pos.lat : null, lng: pos ? pos.lng : null })).articles;
    } catch (e) {
      if (first) setHTML(list, emptyTpl('文章加载失败'));
      toastError(e);
      return;
    }
    if (first) list.replaceChildren();
    if (first && !conn.nodes.length) setHTML(list, emptyTpl('还没有种草文章'));
    first = false;
    list.insertAdjacentHTML('beforeend', conn.nodes.map(articleCard).join(''));
    after = conn.pageInfo.endCursor;
    more.hidden = !conn.pageInfo.hasNextPage;
  };
  onClick(more, page);
  await page();
}

export function articleCard(a) {
  return html`<a class="card article-card" data-testid="article-card" href="#/article/${encodeURIComponent(a.id)}">
    ${coverTpl(a)}
    <div class="ac-body">
      <div class="ac-title">${a.title}</div>
      <div class="ac-meta muted small"><span>${a.brandName}${a.authorName ? ' · ' + a.authorName : ''}</span>
        <span class="likes">${a.likedByMe ? '♥' : '♡'} ${a.likeCount}</span></div>
    </div></a>`.s;
}
