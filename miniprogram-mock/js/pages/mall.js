// Mall mode (mallToday): activities, stores worth visiting (with reasons), live coupons with 领取.
import { gql } from '../api.js';
import { html, setHTML, headerTpl, bindBack, onClick, yuan, dist, fmtTime, fmtClock, loadingTpl, emptyTpl, toastError, icon } from '../ui.js';
import { claim } from './common.js';

const TODAY = `query MallToday($id: String!) {
  mallToday(mallId: $id) {
    mall { id name district }
    activities(first: 10) { nodes { id title description location startsAtMs endsAtMs } }
    stores(first: 10) { nodes { reason score store { id name floor brandName distanceM } } }
    coupons(first: 10) { nodes { id title storeId storeName brandName discountFen minSpendFen endsMs remainingStock claimableByMe } }
  }
}`;

export async function render(root, { id }) {
  root.dataset.testid = 'page-mall';
  setHTML(root, html`${headerTpl('商场')}${loadingTpl()}`);
  bindBack(root);
  let t;
  try {
    t = (await gql(TODAY, { id })).mallToday;
  } catch (e) {
    setHTML(root, html`${headerTpl('商场')}${emptyTpl('商场信息加载失败')}`);
    bindBack(root);
    toastError(e);
    return;
  }
  const acts = t.activities.nodes;
  const stores = t.stores.nodes;
  const coupons = t.coupons.nodes;
  setHTML(root, html`${headerTpl(t.mall.name)}
    <div class="mall-banner"><div class="ma-kicker">今天在</div><h2 data-testid="mall-name">${t.mall.name}</h2><div class="small">${t.mall.district}</div></div>
    <section class="section" data-testid="mall-activities">
      <div class="section-head"><h2>今日活动</h2></div>
      ${acts.length ? acts.map((a) => html`<div class="card activity" data-testid="mall-activity">
        <div class="act-title">${a.title}</div><div class="small">${a.description}</div>
        <div class="muted small">${icon('pin')} ${a.location} · ${fmtTime(a.startsAtMs)} – ${fmtClock(a.endsAtMs)}</div></div>`)
        : emptyTpl('今天还没有活动')}
    </section>
    <section class="section" data-testid="mall-stores">
      <div class="section-head"><h2>值得逛的店</h2></div>
      ${stores.length ? stores.map((s) => html`<a class="card row link" data-testid="mall-store" href="#/store/${encodeURIComponent(s.store.id)}">
        <span><b>${s.store.name}</b><br><span class="reason small" data-testid="mall-store-reason">${s.reason}</span></span>
        <span class="muted small">${s.store.floor}${s.store.distanceM != null ? ' · ' + dist(s.store.distanceM) : ''} ›</span></a>`)
        : emptyTpl('还没有推荐的店')}
    </section>
    <section class="section" data-testid="mall-coupons">
      <div class="section-head"><h2>商场优惠券</h2></div>
      ${coupons.length ? coupons.map((c, i) => html`<div class="card coupon" data-testid="mall-coupon">
        <div class="cp-left"><div class="cp-amt">${yuan(c.discountFen)}</div><div class="small">${c.minSpendFen ? '满' + yuan(c.minSpendFen) : '无门槛'}</div></div>
        <div class="cp-main"><div class="cp-title">${c.title}</div><div class="muted small">${c.storeName || c.brandName} · 至 ${fmtTime(c.endsMs)}</div></div>
        ${c.claimableByMe === 0 ? html`<button class="btn small ghost done" data-testid="claim-button" disabled>已领取</button>`
          : c.remainingStock <= 0 ? html`<button class="btn small ghost" disabled>已抢光</button>`
          : html`<button class="btn small primary" data-testid="claim-button" data-idx="${i}">领取</button>`}
      </div>`) : emptyTpl('还没有优惠券')}
    </section>`);
  bindBack(root);
  root.querySelectorAll('[data-testid=claim-button][data-idx]').forEach((b) => {
    onClick(b, () => claim(b, coupons[Number(b.dataset.idx)].id));
  });
}
