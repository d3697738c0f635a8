// 种草 article: cover, body, products with store/floor/distance, like, share, comments.
import { gql } from '../api.js';
import { html, setHTML, headerTpl, bindBack, onClick, toast, yuan, dist, fmtTime, openSheet, loadingTpl, emptyTpl, toastError } from '../ui.js';
import { latLng } from '../location.js';
import { coverTpl } from './common.js';

const ARTICLE = `query Article($id: String!, $lat: Float, $lng: Float) {
  article(id: $id, lat: $lat, lng: $lng) {
    id title body coverUrl category brandName authorName authorStaffId publishedAtMs likeCount likedByMe commentCount
    products { product { id name priceFen brandName } store { id name mallId floor } distanceM }
  }
}`;
const COMMENTS = `query Comments($id: String!, $after: String) {
  comments(articleId: $id, first: 20, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { id text authorNickname createdAtMs mine hidden flagged }
  }
}`;
const LIKE = `mutation Like($id: String!) { likeArticle(id: $id) { id likeCount likedByMe } }`;
const UNLIKE = `mutation Unlike($id: String!) { unlikeArticle(id: $id) { id likeCount likedByMe } }`;
const SHARE = `mutation Share($id: String!) { shareArticle(id: $id) { code url path } }`;
const ADD = `mutation AddComment($id: String!, $text: String!) {
  addComment(articleId: $id, text: $text) { id text authorNickname createdAtMs mine hidden flagged moderationReason }
}`;

function commentTpl(c) {
  const held = c.hidden || c.flagged;
  return html`<li class="comment${held ? ' held' : ''}" data-testid="comment">
    <div class="c-head"><b>${c.authorNickname}</b><span class="muted small">${fmtTime(c.createdAtMs)}</span></div>
    <div class="c-text">${c.text}</div>
    ${held ? html`<div class="c-status" data-testid="comment-status">评论审核中</div>` : ''}
  </li>`;
}

export async function render(root, { id }) {
  root.dataset.testid = 'page-article';
  setHTML(root, html`${headerTpl('种草')}${loadingTpl()}`);
  bindBack(root);
  const pos = latLng();
  let a;
  try {
    a = (await gql(ARTICLE, { id, lat: pos ? pos.lat : null, lng: pos ? pos.lng : null })).article;
  } catch (e) {
    setHTML(root, html`${headerTpl('种草')}${emptyTpl('文章不存在或已下架')}`);
    bindBack(root);
    toastError(e);
    return;
  }
  setHTML(root, html`${headerTpl(a.brandName)}
    <article class="article">
      ${coverTpl(a, 'cover hero')}
      <div class="pad">
        <h2 class="a-title" data-testid="article-title">${a.title}</h2>
        <div class="muted small">${a.authorName || a.brandName} · ${fmtTime(a.publishedAtMs)}</div>
        <div class="a-body">${a.body.split(/\n+/).map((p) => html`<p>${p}</p>`)}</div>
      </div>
      <section class="section">
        <div class="section-head"><h2>文中好物</h2></div>
        ${a.products.length ? a.products.map((l) => html`
          <div class="card product-link" data-testid="article-product">
            <div class="pl-name">${l.product.name}</div>
            <div class="price">${yuan(l.product.priceFen)}</div>
            ${l.store ? html`<a class="muted small" href="#/store/${encodeURIComponent(l.store.id)}">${l.store.name} · ${l.store.floor}${l.distanceM != null ? ' · 距你 ' + dist(l.distanceM) : ''} ›</a>`
              : html`<div class="muted small">附近暂无门店有货</div>`}
          </div>`) : emptyTpl('还没有关联商品')}
      </section>
      <div class="action-bar">
        <button class="btn ghost${a.likedByMe ? ' on' : ''}" data-testid="like-button" aria-pressed="${a.likedByMe}">
          <span class="heart">${a.likedByMe ? '♥' : '♡'}</span> 点赞 <span data-testid="like-count">${a.likeCount}</span></button>
        <button class="btn ghost" data-testid="share-button">↗ 分享</button>
      </div>
      <section class="section comments">
        <div class="section-head"><h2>评论</h2></div>
        <ul class="comment-list" data-testid="comments">${loadingTpl()}</ul>
        <button class="btn ghost block" data-testid="comments-more" hidden>更多评论</button>
        <form class="comment-form">
          <textarea class="input" data-testid="comment-input" maxlength="500" rows="2" placeholder="说说你的看法…"></textarea>
          <button class="btn primary" type="submit" data-testid="comment-submit">发送</button>
        </form>
      </section>
    </article>`);
  bindBack(root);

  const likeBtn = root.querySelector('[data-testid=like-button]');
  let liked = a.likedByMe;
  onClick(likeBtn, async () => {
    const d = await gql(liked ? UNLIKE : LIKE, { id });
    const r = d.likeArticle || d.unlikeArticle;
    liked = r.likedByMe;
    likeBtn.classList.toggle('on', liked);
    likeBtn.setAttribute('aria-pressed', String(liked));
    likeBtn.querySelector('.heart').textContent = liked ? '♥' : '♡';
    likeBtn.querySelector('[data-testid=like-count]').textContent = String(r.likeCount);
  });

  onClick(root.querySelector('[data-testid=share-button]'), async () => {
    const s = (await gql(SHARE, { id })).shareArticle;
    const sheet = openSheet({
      title: '分享给朋友',
      testid: 'share-sheet',
      body: html`<div class="share">
        <div class="muted small">小程序路径</div><div class="mono" data-testid="share-path">${s.path}</div>
        <div class="muted small">链接</div><div class="mono" data-testid="share-url">${s.url}</div>
        <button class="btn primary block" data-testid="share-copy">复制链接</button></div>`,
    });
    onClick(sheet.el.querySelector('[data-testid=share-copy]'), async () => {
      try { await navigator.clipboard.writeText(s.url); toast('链接已复制'); } catch { toast('请长按链接复制'); }
    });
  });

  const list = root.querySelector('[data-testid=comments]');
  const more = root.querySelector('[data-testid=comments-more]');
  let after = null;
  let firstPage = true;
  const loadComments = async () => {
    let conn;
    try { conn = (await gql(COMMENTS, { id, after })).comments; } catch (e) {
      if (firstPage) setHTML(list, emptyTpl('评论加载失败'));
      toastError(e);
      return;
    }
    if (firstPage) list.replaceChildren();
    firstPage = false;
    list.insertAdjacentHTML('beforeend', conn.nodes.map((c) => commentTpl(c).s).join(''));
    if (!list.children.length) setHTML(list, html`<li class="state empty" data-empty>还没有评论，来说两句吧</li>`);
    after = conn.pageInfo.endCursor;
    more.hidden = !conn.pageInfo.hasNextPage;
  };
  onClick(more, loadComments);
  loadComments();

  const form = root.querySelector('.comment-form');
  const input = root.querySelector('[data-testid=comment-input]');
  const submit = root.querySelector('[data-testid=comment-submit]');
  form.addEventListener('submit', (ev) => { ev.preventDefault(); });
  onClick(submit, async () => {
    const text = input.value.trim();
    if (!text) { toast('写点什么吧'); return; }
    submit.disabled = true;
    try {
      const c = (await gql(ADD, { id, text })).addComment;
      const empty = list.querySelector('[data-empty]');
      if (empty) empty.remove();
      list.insertAdjacentHTML('beforeend', commentTpl(c).s);
      input.value = '';
      toast(c.hidden || c.flagged ? '评论审核中，通过后大家就能看到' : '评论已发布');
    } finally { submit.disabled = false; }
  });
}
