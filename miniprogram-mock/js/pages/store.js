// Store home: follow, 到店/到家 services, products (buy → pay sheet), staff, posts, demo tools.
import { gql, isDemo } from '../api.js';
import { html, setHTML, headerTpl, bindBack, onClick, toast, yuan, dist, fmtTime, openSheet, loadingTpl, emptyTpl, toastError, seasonText } from '../ui.js';
import { latLng } from '../location.js';
import { go } from '../router.js';

const STORE = `query Store($id: String!, $lat: Float, $lng: Float) {
  store(id: $id, lat: $lat, lng: $lng) {
    id name floor distanceM followerCount followedByMe
    brand { id name sector appId }
    mall { id name district }
    inStore { pickup appointment }
    delivery { available radiusM distanceM inRange etaMin }
    products(first: 10) { nodes { id name category season priceFen brandName } }
    staff(first: 10) { edges { node { id name title } } }
    posts(first: 5) { nodes { id text staffId staffName publishedAtMs products { id name priceFen } } }
  }
}`;
const FOLLOW = `mutation Follow($id: String!) { followStore(storeId: $id) { id followerCount followedByMe } }`;
const UNFOLLOW = `mutation Unfollow($id: String!) { unfollowStore(storeId: $id) { id followerCount followedByMe } }`;
const CHECKOUT = `mutation Checkout($storeId: String!, $items: [CheckoutItem!]!) {
  checkout(storeId: $storeId, items: $items) {
    orderId amountFen order { id storeName items { name qty priceFen } }
    prepay { appId timeStamp nonceStr package signType paySign demo }
  }
}`;
const PAY = `mutation Pay($id: String!) { simulatePayment(orderId: $id) { id status paidMs } }`;
const DWELL = `mutation Dwell($id: String!) { simulateDwell(storeId: $id, seconds: 40) { eventId zoneName category } }`;

const yes = (b) => (b ? '✓ 支持' : '— 暂不支持');

export async function render(root, { id }) {
  root.dataset.testid = 'page-store';
  setHTML(root, html`${headerTpl('门店')}${loadingTpl()}`);
  bindBack(root);
  const pos = latLng();
  let s;
  try {
    s = (await gql(STORE, { id, lat: pos ? pos.lat : null, lng: pos ? pos.lng : null })).store;
  } catch (e) {
    setHTML(root, html`${headerTpl('门店')}${emptyTpl('门店不存在')}`);
    bindBack(root);
    toastError(e);
    return;
  }
  const d = s.delivery;
  setHTML(root, html`${headerTpl(s.brand.name)}
    <div class="store-hero card">
      <div class="sh-logo">${s.brand.name.slice(0, 2)}</div>
      <div class="sh-main">
        <h2 data-testid="store-name">${s.name}</h2>
        <div class="muted small">${s.brand.name} · ${s.mall.name} ${s.floor}${s.distanceM != null ? ' · 距你 ' + dist(s.distanceM) : ''}</div>
        <div class="muted small"><span data-testid="follower-count">${s.followerCount}</span> 人关注</div>
      </div>
      <button class="btn small ${s.followedByMe ? 'ghost' : 'primary'}" data-testid="follow-button">${s.followedByMe ? '已关注' : '关注'}</button>
    </div>
    <div class="demo-tools" data-testid="demo-tools" hidden>
      <button class="btn small ghost block" data-testid="simulate-dwell">【演示】模拟在本店停留</button>
    </div>
    <div class="tabs" role="tablist">
      <button class="tab active" role="tab" data-testid="service-instore" data-panel="instore">到店</button>
      <button class="tab" role="tab" data-testid="service-delivery" data-panel="delivery">到家</button>
    </div>
    <div class="card panel" data-panel-id="instore" data-testid="panel-instore">
      <div class="row"><span>线上下单 · 到店自提</span><span>${yes(s.inStore.pickup)}</span></div>
      <div class="row"><span>预约到店 · 试衣</span><span>${yes(s.inStore.appointment)}</span></div>
    </div>
    <div class="card panel" data-panel-id="delivery" data-testid="panel-delivery" hidden>
      ${d.available ? html`
        <div class="row"><span>配送范围</span><span>${dist(d.radiusM)} 内</span></div>
        ${d.distanceM != null ? html`
          <div class="row"><span>距你</span><span>${dist(d.distanceM)}</span></div>
          <div class="row"><span>是否可送</span><span>${d.inRange ? '✓ 在配送范围内' : '✕ 超出配送范围'}</span></div>
          ${d.inRange && d.etaMin != null ? html`<div class="row"><span>预计送达</span><span data-testid="delivery-eta">约 ${d.etaMin} 分钟</span></div>` : ''}`
        : html`<div class="row muted"><span>开启定位后可查看能否送到</span></div>`}`
      : html`<div class="row"><span>本店暂不支持到家配送</span></div>`}
    </div>
    <section class="section">
      <div class="section-head"><h2>热卖商品</h2></div>
      ${s.products.nodes.length ? html`<div class="product-list">${s.products.nodes.map((p, i) => html`
        <div class="card product" data-testid="store-product">
          <div class="p-img">${(p.category || '').slice(0, 4)}</div>
          <div class="p-main"><div class="p-name">${p.name}</div><div class="muted small">${seasonText(p.season)}</div>
            <div class="p-foot"><span class="price">${yuan(p.priceFen)}</span>
            <button class="btn small primary" data-testid="buy-button" data-idx="${i}">购买</button></div></div>
        </div>`)}</div>` : emptyTpl('还没有商品')}
    </section>
    <section class="section">
      <div class="section-head"><h2>店员</h2></div>
      ${s.staff.edges.length ? html`<div class="staff-row">${s.staff.edges.map(({ node: m }) => html`
        <a class="staff-chip" data-testid="store-staff" href="#/staff/${encodeURIComponent(m.id)}">
          <span class="avatar">${m.name.slice(0, 1)}</span><span>${m.name}</span><span class="muted small">${m.title}</span></a>`)}</div>`
        : emptyTpl('还没有店员')}
    </section>
    <section class="section">
      <div class="section-head"><h2>店员说</h2></div>
      ${s.posts.nodes.length ? s.posts.nodes.map((p) => html`
        <div class="card post" data-testid="store-post">
          <div class="c-head"><a href="#/staff/${encodeURIComponent(p.staffId)}"><b>${p.staffName}</b></a><span class="muted small">${fmtTime(p.publishedAtMs)}</span></div>
          <div class="post-text">${p.text}</div>
          ${p.products.length ? html`<div class="tags">${p.products.map((x) => html`<span class="tag">${x.name} ${yuan(x.priceFen)}</span>`)}</div>` : ''}
        </div>`) : emptyTpl('还没有店员说')}
    </section>`);
  bindBack(root);

  const follow = root.querySelector('[data-testid=follow-button]');
  let followed = s.followedByMe;
  onClick(follow, async () => {
    const r = followed ? (await gql(UNFOLLOW, { id })).unfollowStore : (await gql(FOLLOW, { id })).followStore;
    followed = r.followedByMe;
    follow.textContent = followed ? '已关注' : '关注';
    follow.classList.toggle('primary', !followed);
    follow.classList.toggle('ghost', followed);
    root.querySelector('[data-testid=follower-count]').textContent = String(r.followerCount);
    toast(followed ? '已关注' : '已取消关注');
  });

  root.querySelectorAll('.tab').forEach((t) => t.addEventListener('click', () => {
    root.querySelectorAll('.tab').forEach((x) => x.classList.toggle('active', x === t));
    root.querySelectorAll('[data-panel-id]').forEach((p) => { p.hidden = p.dataset.panelId !== t.dataset.panel; });
  }));

  root.querySelectorAll('[data-testid=buy-button]').forEach((b) => {
    const p = s.products.nodes[Number(b.dataset.idx)];
    onClick(b, () => buy(s, p));
  });

  isDemo().then((demo) => {
    if (!demo) return;
    const tools = root.querySelector('[data-testid=demo-tools]');
    if (!tools) return;
    tools.hidden = false;
    onClick(tools.querySelector('[data-testid=simulate-dwell]'), async () => {
      let r;
      try {
        r = (await gql(DWELL, { id })).simulateDwell;
      } catch (e) {
        // Refused without face consent: say so in Chinese, with the server's own words.
        if (e.code === 'FORBIDDEN') { toast(`需要先开启人脸识别（我的 → 人脸识别）：${e.message}`, 4000); return; }
        throw e;
      }
      toast(`已模拟在${r.zoneName}停留40秒`);
    });
  });
}

async function buy(store, product) {
  const c = (await gql(CHECKOUT, { storeId: store.id, items: [{ skuId: product.id, qty: 1 }] })).checkout;
  const sheet = openSheet({
    title: '微信支付',
    testid: 'pay-sheet',
    body: html`<div class="pay">
      <div class="pay-to muted">${c.order.storeName}</div>
      <div class="pay-amount" data-testid="pay-amount">${yuan(c.amountFen)}</div>
      <div class="row small"><span>商品</span><span>${c.order.items.map((i) => `${i.name} ×${i.qty}`).join('、')}</span></div>
      <div class="row small"><span>订单号</span><span class="mono">${c.orderId}</span></div>
      ${c.prepay.demo ? html`<p class="muted small">演示环境：模拟微信支付，不会真实扣款</p>` : ''}
      <button class="btn primary block" data-testid="pay-confirm">确认支付</button>
    </div>`,
  });
  onClick(sheet.el.querySelector('[data-testid=pay-confirm]'), async () => {
    if (!c.prepay.demo) { toast('请在微信中完成支付'); return; }
    await gql(PAY, { id: c.orderId });
    sheet.close();
    go(`/pay/${encodeURIComponent(c.orderId)}`);
  });
}
