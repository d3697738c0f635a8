"""Brand and staff publishing (drafts, publish/unpublish, delete) and moderation (see `moderate`)."""

from __future__ import annotations

import uuid
from typing import Any

from guang.accounts.models import Principal, Role
from guang.adapters.ports import DocumentStore
from guang.content.models import ARTICLES, COMMENTS, LIKES, ArticleDraft, ArticleView
from guang.content.rules import (
    BODY_MAX,
    MAX_PRODUCT_LINKS,
    TITLE_MAX,
    can_manage,
    moderation_refusal,
    reason_text,
)
from guang.content.views import ArticleViews
from guang.domain.errors import Forbidden, Invalid, NotFound
from guang.domain.models import Article
from guang.domain.text import bounded
from guang.services.app_events import now_ms
from guang.services.catalog import Catalog

AUTHORS = (Role.STAFF, Role.BRAND_ADMIN)


class Publishing:
    def __init__(self, *, documents: DocumentStore, catalog: Catalog, views: ArticleViews) -> None:
        self._documents = documents
        self._catalog = catalog
        self._views = views

    def draft(
        self,
        *,
        brand_id: str,
        title: str | None,
        body: str | None,
        product_ids: list[str] | None,
    ) -> ArticleDraft:
        """Clean and check publishing input; linked products must be the brand's own."""
        if product_ids is not None:
            product_ids = list(dict.fromkeys(product_ids))
            if len(product_ids) > MAX_PRODUCT_LINKS:
                raise Invalid(f"link at most {MAX_PRODUCT_LINKS} products")
            for pid in product_ids:
                product = self._catalog.products.get(pid)
                if product is None:
                    raise Invalid(f"no product {pid!r}")
                if product.brand_id != brand_id:
                    raise Invalid(f"product {pid!r} is not one of this brand's products")
        return ArticleDraft(
            title=bounded(title, what="title", max_len=TITLE_MAX, multiline=False)
            if title is not None
            else None,
            body=bounded(body, what="body", max_len=BODY_MAX, multiline=True) if body is not None else None,
            product_ids=product_ids,
        )

    async def create(self, *, who: Principal, title: str, body: str, product_ids: list[str]) -> ArticleView:
        """A new draft of the caller's brand; staff are recorded as its author."""
        if who.role not in AUTHORS or not who.brand_id:
            raise Forbidden("only brand admins and staff publish articles")
        draft = self.draft(brand_id=who.brand_id, title=title, body=body, product_ids=product_ids)
        now = now_ms()
        article = Article(
            id=f"art-{uuid.uuid4().hex[:20]}", title=draft.title or "", body=draft.body or "",
            author_staff_id=who.staff_id, brand_id=who.brand_id, product_ids=draft.product_ids or [],
            published_ms=0, status="draft", created_ms=now, updated_ms=now,
        )  # fmt: skip
        await self._documents.insert_one(ARTICLES, {"_id": article.id, **article.model_dump(mode="json")})
        await self._views.put(article.id)
        return await self._views.one(article, member_id=None)

    async def update(
        self,
        *,
        who: Principal,
        article_id: str,
        title: str | None,
        body: str | None,
        product_ids: list[str] | None,
    ) -> ArticleView:
        article = await self._managed(who, article_id)
        draft = self.draft(brand_id=article.brand_id, title=title, body=body, product_ids=product_ids)
        given = (("title", draft.title), ("body", draft.body), ("product_ids", draft.product_ids))
        changes: dict[str, Any] = {k: v for k, v in given if v is not None}
        return await self._set(article, {**changes, "updated_ms": now_ms()})

    async def publish(self, *, who: Principal, article_id: str) -> ArticleView:
        """Publish a draft (now is its publication time); publishing a published article changes nothing."""
        article = await self._managed(who, article_id)
        if article.status == "published":
            return await self._views.one(article, member_id=None)
        now = now_ms()
        return await self._set(article, {"status": "published", "published_ms": now, "updated_ms": now})

    async def unpublish(self, *, who: Principal, article_id: str) -> ArticleView:
        article = await self._managed(who, article_id)
        return await self._set(article, {"status": "draft", "updated_ms": now_ms()})

    async def delete(self, *, who: Principal, article_id: str) -> bool:
        """Delete the article with its likes and comments; its share links stay (order attribution)."""
        article = await self._managed(who, article_id)
        deleted = await self._documents.delete_one(ARTICLES, {"_id": article.id})
        await self._documents.delete_many(LIKES, {"article_id": article.id})
        await self._documents.delete_many(COMMENTS, {"article_id": article.id})
        await self._views.put(article.id)
        return deleted

    async def moderate(
        self, *, who: Principal, article_id: str, hidden: bool, reason: str | None
    ) -> ArticleView:
        """Hide or show an article: its brand's admin, or the operator of the mall that holds every store
        of the brand (an article shows in every mall of its brand, so no single mall may hide it for all)."""
        article = await self._views.get(article_id)
        if article is None:
            raise NotFound(f"no article {article_id!r}")
        refusal = moderation_refusal(who, article.brand_id, self._views.brand_malls(article.brand_id))
        if refusal is not None:
            raise Forbidden(refusal)
        return await self._set(
            article, {"hidden": hidden, "hidden_reason": reason_text(reason) if hidden else None}
        )

    async def brand_articles(self, *, who: Principal, skip: int, limit: int) -> list[ArticleView]:
        """All of the caller's brand's articles, drafts included, newest first."""
        if who.role not in AUTHORS or not who.brand_id:
            raise Forbidden("only brand admins and staff have a brand's article list")
        articles = (await self._views.of_brand(who.brand_id))[skip : skip + limit]
        return await self._views.build(articles, member_id=None)

    async def _managed(self, who: Principal, article_id: str) -> Article:
        article = await self._views.get(article_id)
        if article is None:
            raise NotFound(f"no article {article_id!r}")
        if not can_manage(who, article):
            raise Forbidden("only the brand's admin or the staff member who wrote it may change this article")
        return article

    async def _set(self, article: Article, changes: dict[str, Any]) -> ArticleView:
        if not await self._documents.update_one(ARTICLES, {"_id": article.id}, {"$set": changes}):
            raise NotFound(f"no article {article.id!r}")
        changed = await self._views.put(article.id) or article.model_copy(update=changes)
        return await self._views.one(changed, member_id=None)
