// Pay success: the order and 搭配推荐 (PAY_SUCCESS recommendations for this order).
import { gql, gqlQuiet } from '../api.js';
import { html, setHTML, headerTpl, bindBack, yuan, fmtTime, loadingTpl, emptyTpl, toastError } from '../ui.js';
import { renderRecs, REC_FIELDS } from './common.js';

const ORDER = `query Order($id: String!) {
  order(id: $id) { id status storeId storeName items { skuId name qty priceFen } subtotalFen discountFen amountFen createdMs paidMs }
}`;
const RECS = `query PayRecs($id: String!) { recommendations(surface: PAY_SUCCESS, orderId: $id, limit: 6) { ${REC_FIELDS} } }`;

export async function render(root, { id }) {
  root.dataset.testid = 'page-pay';
  setHTML(root, html`${headerTpl('支付结果')}${loadingTpl()}`);
  bindBack(root);
  let o;
  try {
    o = (await gql(ORDER, { id })).order;
  } catch (e) {
    setHTML(root, html`${headerTpl('支付结果')}${emptyTpl('订单不存在')}`);
    bindBack(root);
    toastError(e);
    return;
  }
  const paid = o.status === 'PAID';
  setHTML(root, html`${headerTpl('支付结果')}
    <div class="pay-result">
      <div class="pay-ok${paid ? '' : ' pending'}">${paid ? '✓' : '…'}</div>
      <div class="pay-state" data-testid="order-status">${paid ? '支付成功' : '待支付'}</div>
      <div class="pay-amount" data-testid="order-amount">${yuan(o.amountFen)}</div>
    </div>
    <div class="card order" data-testid="order-summary">
      <div class="row"><span>门店</span><a href="#/store/${encodeURIComponent(o.storeId)}">${o.storeName} ›</a></div>
      ${o.items.map((i) => html`<div class="row small"><span class="ellipsis">${i.name} ×${i.qty}</span><span>${yuan(i.priceFen * i.qty)}</span></div>`)}
      ${o.discountFen ? html`<div class="row small"><span>优惠</span><span>-${yuan(o.discountFen)}</span></div>` : ''}
      <div class="row"><span>实付</span><b>${yuan(o.amountFen)}</b></div>
      <div class="row small muted"><span>订单号</span><span class="mono">${o.id}</span></div>
      ${o.paidMs ? html`<div class="row small muted"><span>支付时间</span><span>${fmtTime(o.paidMs)}</span></div>` : ''}
    </div>
    <section class="section" data-testid="pay-recs">
      <div class="section-head"><h2>搭配推荐</h2></div>
      <div class="rec-grid">${loadingTpl()}</div>
    </section>`);
  bindBack(root);
  const section = root.querySelector('[data-testid=pay-recs]');
  const d = await gqlQuiet(RECS, { id });
  const rec = d && d.recommendations;
  if (rec) section.setAttribute('data-rec-id', rec.recId);
  renderRecs(section.querySelector('.rec-grid'), rec, { surface: 'PAY_SUCCESS', itemId: 'pay-rec-item', reasonId: 'pay-rec-reason', empty: '暂无推荐' });
}
