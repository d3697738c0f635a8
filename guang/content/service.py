"""种草 articles: the feed, likes, share links; comments and publishing live beside it."""

from __future__ import annotations

import secrets

from guang.accounts.models import Principal
from guang.adapters.ports import DocumentStore
from guang.content.comments import Comments
from guang.content.models import (
    LIKES,
    SHARE_LINKS,
    ArticleView,
    Like,
    ShareLink,
    ShareView,
    like_id,
)
from guang.content.publishing import Publishing
from guang.content.rules import is_public
from guang.content.views import DEFAULT_CATEGORY, ArticleViews
from guang.domain.errors import Conflict, Invalid, NotFound
from guang.domain.events import InteractionEvent
from guang.domain.geo import position
from guang.domain.models import Article
from guang.places.directory import Directories
from guang.services.app_events import AppEvents, new_event_id, now_ms
from guang.services.catalog import Catalog
from guang.settings import Settings

MAX_LIKES_LISTED = 1000
"""我的 → liked articles lists at most this many of the newest likes."""
SHARE_CODE_BYTES = 12
MAX_CODE_LEN = 64


def share_url(code: str) -> str:
    """The H5 link a share opens (relative to the API's public origin)."""
    return f"/mp/?share={code}"


def share_path(article_id: str, code: str) -> str:
    """The mini-program page path a share opens."""
    return f"pages/article/index?id={article_id}&share={code}"


class Content:
    def __init__(
        self,
        *,
        documents: DocumentStore,
        events: AppEvents,
        catalog: Catalog,
        settings: Settings,
        directories: Directories,
    ) -> None:
        self._documents = documents
        self._events = events
        self._catalog = catalog
        self._settings = settings
        self.views = ArticleViews(documents=documents, catalog=catalog, directories=directories)
        self.comments = Comments(documents=documents, views=self.views)
        self.publishing = Publishing(documents=documents, catalog=catalog, views=self.views)

    async def feed(
        self,
        *,
        who: Principal | None,
        skip: int,
        limit: int,
        brand_id: str | None = None,
        mall_id: str | None = None,
        lat: float | None = None,
        lng: float | None = None,
    ) -> list[ArticleView]:
        """Published, shown articles, newest first; product links prefer stores near (lat, lng)."""
        position(lat, lng)
        brands: set[str] | None = None
        if mall_id is not None:
            brands = self.views.mall_brands(mall_id)
            if brand_id is not None:
                brands &= {brand_id}
        elif brand_id is not None:
            brands = {brand_id}
        articles = (await self.views.shown(brands))[skip : skip + limit]
        member = who.member_id if who else None
        return await self.views.build(articles, member_id=member, lat=lat, lng=lng, mall_id=mall_id)

    async def article(
        self, *, who: Principal | None, article_id: str, lat: float | None = None, lng: float | None = None
    ) -> ArticleView:
        position(lat, lng)
        article = await self.views.visible(article_id, who)
        [view] = await self.views.build([article], member_id=who.member_id if who else None, lat=lat, lng=lng)
        return view

    async def _public(self, article_id: str) -> Article:
        article = await self.views.get(article_id)
        if article is None or not is_public(article):
            raise NotFound(f"no article {article_id!r}")
        return article

    async def like(self, *, member_id: str, article_id: str) -> ArticleView:
        """Idempotent: the like document's `_id` is (member, article), so a repeat inserts nothing."""
        article = await self._public(article_id)
        like = Like(member_id=member_id, article_id=article.id, created_ms=now_ms())
        created = await self._documents.insert_one(
            LIKES, {"_id": like_id(member_id, article.id), **like.model_dump()}
        )
        self.views.forget_likes(member_id)
        await self.views.recount(article.id)  # also on a repeat: it may race the insert that won
        if created:
            await self._interaction(member_id, "like", article)
        return await self.views.one(article, member_id=member_id)

    async def unlike(self, *, member_id: str, article_id: str) -> ArticleView:
        article = await self._public(article_id)
        await self._documents.delete_one(LIKES, {"_id": like_id(member_id, article.id)})
        self.views.forget_likes(member_id)
        await self.views.recount(article.id)
        return await self.views.one(article, member_id=member_id)

    async def liked(self, *, member_id: str, skip: int, limit: int) -> list[ArticleView]:
        """The member's liked articles that are still shown, most recently liked first."""
        likes = (await self.views.member_likes(member_id))[:MAX_LIKES_LISTED]
        shown = [a for a in await self.views.many(a for _, a in likes) if is_public(a)]
        page = shown[skip : skip + limit]
        return await self.views.build(page, member_id=member_id, liked={a.id for a in page})

    async def share(self, *, who: Principal, article_id: str) -> ShareView:
        """A new share link; staff sharing their own brand's article are attributed in it."""
        article = await self.views.visible(article_id, who)
        if not is_public(article):
            raise Conflict("only published, shown articles can be shared")
        staff_id = who.staff_id if who.staff_id and who.brand_id == article.brand_id else None
        link = ShareLink(
            target_type="article", target_id=article.id, staff_id=staff_id, member_id=who.member_id,
            created_ms=now_ms(),
        )  # fmt: skip
        while True:
            code = secrets.token_urlsafe(SHARE_CODE_BYTES)
            if await self._documents.insert_one(SHARE_LINKS, {"_id": code, **link.model_dump()}):
                break
        if who.member_id is not None:
            await self._interaction(who.member_id, "share", article)
        view = await self.views.one(article, member_id=who.member_id)
        return ShareView(code, share_url(code), share_path(article.id, code), staff_id, view)

    async def share_link(self, *, who: Principal | None, code: str) -> ShareView:
        if not code or len(code) > MAX_CODE_LEN:
            raise Invalid("a share code is 1 to 64 characters")
        doc = await self._documents.find_one(SHARE_LINKS, {"_id": code})
        if doc is None or doc.get("target_type") != "article":
            raise NotFound("no such share link")
        link = ShareLink.model_validate(doc)
        article = await self._public(link.target_id)
        view = await self.views.one(article, member_id=who.member_id if who else None)
        return ShareView(code, share_url(code), share_path(article.id, code), link.staff_id, view)

    async def cover(self, article_id: str) -> tuple[str, str] | None:
        """(title, category) for the generated cover, or None when there is no such article."""
        article = await self.views.get(article_id)
        if article is None:
            return None
        categories = [
            self._catalog.products[p].category for p in article.product_ids if p in self._catalog.products
        ]
        return article.title, categories[0] if categories else DEFAULT_CATEGORY

    async def _interaction(self, member_id: str, action: str, article: Article) -> None:
        event = InteractionEvent.model_validate(
            {
                "type": "interaction", "event_id": new_event_id(), "ts_ms": now_ms(), "user_id": member_id,
                "action": action, "target_type": "article", "target_id": article.id, "surface": "FEED",
            }
        )  # fmt: skip
        await self._events.emit(event)
