// 领券中心: nearby coupons with 领取, and my claims.
import { gql } from '../api.js';
import { html, setHTML, headerTpl, bindBack, onClick, yuan, dist, fmtDate, loadingTpl, emptyTpl, toastError } from '../ui.js';
import { latLng, showPrompt } from '../location.js';
import { claim } from './common.js';
import { statusText } from './me.js';

const NEARBY = `query NearbyCoupons($lat: Float!, $lng: Float!) {
  nearbyCoupons(lat: $lat, lng: $lng, first: 20) { nodes {
    id title kind brandName storeId storeName mallName discountFen minSpendFen distanceM endsMs remainingStock claimableByMe
  } }
}`;
const MINE = `query MyCoupons { myCoupons(first: 20) { nodes {
  id status claimedMs redeemedMs coupon { id title brandName storeName mallName discountFen minSpendFen endsMs }
} } }`;

const couponFace = (c) => html`<div class="cp-left"><div class="cp-amt">${yuan(c.discountFen)}</div><div class="small">${c.minSpendFen ? '满' + yuan(c.minSpendFen) + '可用' : '无门槛'}</div></div>`;

export async function render(root) {
  root.dataset.testid = 'page-coupons';
  const pos = latLng();
  setHTML(root, html`${headerTpl('领券中心')}
    <section class="section">
      <div class="section-head"><h2>附近可领</h2></div>
      <div data-testid="nearby-coupons">${pos ? loadingTpl() : html`<div class="card loc-off">开启定位后查看附近的优惠券 <button class="btn small primary" data-testid="location-enable">开启定位</button></div>`}</div>
    </section>
    <section class="section">
      <div class="section-head"><h2>我的券</h2></div>
      <div data-testid="my-claims">${loadingTpl()}</div>
    </section>`);
  bindBack(root);
  const enable = root.querySelector('[data-testid=location-enable]');
  if (enable) enable.addEventListener('click', () => showPrompt());

  const mine = root.querySelector('[data-testid=my-claims]');
  const loadMine = async () => {
    try {
      const claims = (await gql(MINE)).myCoupons.nodes;
      setHTML(mine, claims.length ? html`${claims.map((c) => html`
        <div class="card coupon${c.status !== 'CLAIMED' ? ' used' : ''}" data-testid="my-claim">
          ${couponFace(c.coupon)}
          <div class="cp-main"><div class="cp-title">${c.coupon.title}</div>
            <div class="muted small">${c.coupon.storeName || c.coupon.mallName || c.coupon.brandName} · 至 ${fmtDate(c.coupon.endsMs)}</div>
            <div class="muted small mono">券码 ${c.id}</div></div>
          <span class="cp-status">${statusText(c.status)}</span>
        </div>`)}` : emptyTpl('还没有领到优惠券'));
    } catch (e) { setHTML(mine, emptyTpl('加载失败')); toastError(e); }
  };
  loadMine();

  if (!pos) return;
  const near = root.querySelector('[data-testid=nearby-coupons]');
  let coupons;
  try {
    coupons = (await gql(NEARBY, pos)).nearbyCoupons.nodes;
  } catch (e) { setHTML(near, emptyTpl('加载失败')); toastError(e); return; }
  setHTML(near, coupons.length ? html`${coupons.map((c, i) => html`
    <div class="card coupon" data-testid="coupon" data-coupon-id="${c.id}">
      ${couponFace(c)}
      <div class="cp-main"><div class="cp-title">${c.title}</div>
        <div class="muted small">${c.storeName || c.mallName || c.brandName}${c.distanceM != null ? ' · ' + dist(c.distanceM) : ''}</div>
        <div class="muted small">剩余 ${c.remainingStock} · 至 ${fmtDate(c.endsMs)}</div></div>
      ${c.claimableByMe === 0
        ? html`<button class="btn small ghost done" data-testid="claim-button" disabled>已领取</button>`
        : html`<button class="btn small primary" data-testid="claim-button" data-idx="${i}">领取</button>`}
    </div>`)}` : emptyTpl('附近还没有可领的优惠券'));
  near.querySelectorAll('[data-testid=claim-button][data-idx]').forEach((b) => {
    const c = coupons[Number(b.dataset.idx)];
    onClick(b, async () => { if (await claim(b, c.id)) loadMine(); });
  });
}
