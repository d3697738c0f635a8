"""好物推荐 种草 articles: the feed, likes, share links, comments, publishing and moderation."""

from __future__ import annotations

from enum import Enum
from typing import Any

import strawberry
from strawberry.types import Info

from api.graphql.context import principal, require, require_member, services
from api.graphql.pagination import Connection, paginate
from api.graphql.types import Product, StoreTile, product_of, tile_of
from guang.accounts.models import Role
from guang.content.models import ArticleView, CommentView, ShareView
from guang.content.models import ProductLink as ProductLinkView

AUTHORS = (Role.STAFF, Role.BRAND_ADMIN)
MODERATORS = (Role.BRAND_ADMIN, Role.MALL_OPERATOR)


@strawberry.enum(description="Drafts are seen only by their brand's staff and admins")
class ArticleStatus(Enum):
    DRAFT = "draft"
    PUBLISHED = "published"


@strawberry.type(description="A product an article links to, with the store to find it in")
class ArticleProductLink:
    product: Product
    store: StoreTile | None = strawberry.field(description="Nearest carrying store when lat/lng given")
    distance_m: float | None = strawberry.field(description="Metres to `store` from lat/lng, when given")


@strawberry.type(description="A 种草 article")
class Article:
    id: str
    title: str
    body: str
    cover_url: str
    category: str
    status: ArticleStatus
    hidden: bool
    hidden_reason: str | None
    published_at_ms: float | None
    author_staff_id: str | None
    author_name: str | None
    brand_id: str
    brand_name: str
    like_count: int
    comment_count: int
    liked_by_me: bool = strawberry.field(description="Whether the calling shopper likes it")
    products: list[ArticleProductLink]


@strawberry.type(description="A comment; `hidden` when hidden by a moderator or held by the blocklist")
class ArticleComment:
    id: str
    article_id: str
    article_title: str
    text: str
    author_nickname: str
    created_at_ms: float
    mine: bool
    hidden: bool
    flagged: bool = strawberry.field(description="Matched the blocklist when written")
    moderation_reason: str | None


@strawberry.type(description="A share link; staff sharing their brand's article are attributed in it")
class ShareLink:
    code: str
    url: str
    path: str = strawberry.field(description="Mini-program page path")
    attributed_staff_id: str | None
    article: Article


@strawberry.input
class ArticleInput:
    title: str
    body: str
    product_ids: list[str] = strawberry.field(default_factory=list)


@strawberry.input(description="Only the fields given change")
class ArticleChanges:
    title: str | None = None
    body: str | None = None
    product_ids: list[str] | None = None


def _link(link: ProductLinkView) -> ArticleProductLink:
    s = link.store
    store = tile_of(s) if s else None
    return ArticleProductLink(product=product_of(link.product), store=store, distance_m=link.distance_m)


def article_of(v: ArticleView) -> Article:
    a = v.article
    return Article(
        id=a.id, title=a.title, body=a.body, cover_url=v.cover_url, category=v.category,
        status=ArticleStatus(a.status), hidden=a.hidden, hidden_reason=a.hidden_reason,
        published_at_ms=float(a.published_ms) if a.published_ms else None, author_staff_id=a.author_staff_id,
        author_name=v.author_name, brand_id=a.brand_id, brand_name=v.brand_name, like_count=v.like_count,
        comment_count=v.comment_count, liked_by_me=v.liked_by_me, products=[_link(x) for x in v.links],
    )  # fmt: skip


def comment_of(v: CommentView) -> ArticleComment:
    c = v.comment
    return ArticleComment(
        id=c.id, article_id=c.article_id, article_title=v.article_title, text=c.text,
        author_nickname=v.author_nickname, created_at_ms=float(c.created_ms), mine=v.mine,
        hidden=c.status != "visible", flagged=c.flagged, moderation_reason=c.moderation_reason,
    )  # fmt: skip


def share_of(v: ShareView) -> ShareLink:
    return ShareLink(
        code=v.code, url=v.url, path=v.path, attributed_staff_id=v.attributed_staff_id,
        article=article_of(v.article),
    )  # fmt: skip


@strawberry.type
class Query:
    @strawberry.field(
        description="好物推荐: published articles, newest first; links prefer stores near lat/lng"
    )
    async def articles(
        self, info: Info[Any, Any], first: int = 10, after: str | None = None, brand_id: str | None = None,
        mall_id: str | None = None, lat: float | None = None, lng: float | None = None,
    ) -> Connection[Article]:  # fmt: skip
        who, content = principal(info), services(info).content

        async def fetch(skip: int, limit: int) -> list[ArticleView]:
            return await content.feed(
                who=who, skip=skip, limit=limit, brand_id=brand_id, mall_id=mall_id, lat=lat, lng=lng
            )

        return await paginate(fetch, first=first, after=after, node=article_of)

    @strawberry.field(description="One article; drafts and hidden ones only for their brand (and mall)")
    async def article(
        self, info: Info[Any, Any], id: str, lat: float | None = None, lng: float | None = None
    ) -> Article:
        view = await services(info).content.article(who=principal(info), article_id=id, lat=lat, lng=lng)
        return article_of(view)

    @strawberry.field(description="我的: articles the calling shopper likes, most recently liked first")
    async def my_liked_articles(
        self, info: Info[Any, Any], first: int = 10, after: str | None = None
    ) -> Connection[Article]:
        member_id, content = require_member(info), services(info).content

        async def fetch(skip: int, limit: int) -> list[ArticleView]:
            return await content.liked(member_id=member_id, skip=skip, limit=limit)

        return await paginate(fetch, first=first, after=after, node=article_of)

    @strawberry.field(description="Resolve a share code to its article and attributed staff member")
    async def share_link(self, info: Info[Any, Any], code: str) -> ShareLink:
        return share_of(await services(info).content.share_link(who=principal(info), code=code))

    @strawberry.field(description="An article's visible comments, oldest first")
    async def comments(
        self, info: Info[Any, Any], article_id: str, first: int = 10, after: str | None = None
    ) -> Connection[ArticleComment]:
        who, comments = principal(info), services(info).content.comments

        async def fetch(skip: int, limit: int) -> list[CommentView]:
            return await comments.listed(who=who, article_id=article_id, skip=skip, limit=limit)

        return await paginate(fetch, first=first, after=after, node=comment_of)

    @strawberry.field(description="我的: the calling shopper's comments, newest first, hidden ones flagged")
    async def my_comments(
        self, info: Info[Any, Any], first: int = 10, after: str | None = None
    ) -> Connection[ArticleComment]:
        member_id, comments = require_member(info), services(info).content.comments

        async def fetch(skip: int, limit: int) -> list[CommentView]:
            return await comments.mine(member_id=member_id, skip=skip, limit=limit)

        return await paginate(fetch, first=first, after=after, node=comment_of)

    @strawberry.field(description="Moderation queue: comments held by the blocklist in your brand or mall")
    async def held_comments(
        self, info: Info[Any, Any], first: int = 10, after: str | None = None
    ) -> Connection[ArticleComment]:
        who, comments = require(info, *MODERATORS), services(info).content.comments

        async def fetch(skip: int, limit: int) -> list[CommentView]:
            return await comments.held(who=who, skip=skip, limit=limit)

        return await paginate(fetch, first=first, after=after, node=comment_of)

    @strawberry.field(description="Staff and brand admins: all of their brand's articles, drafts included")
    async def brand_articles(
        self, info: Info[Any, Any], first: int = 10, after: str | None = None
    ) -> Connection[Article]:
        who, publishing = require(info, *AUTHORS), services(info).content.publishing

        async def fetch(skip: int, limit: int) -> list[ArticleView]:
            return await publishing.brand_articles(who=who, skip=skip, limit=limit)

        return await paginate(fetch, first=first, after=after, node=article_of)


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Like an article (shoppers; liking twice counts once)")
    async def like_article(self, info: Info[Any, Any], id: str) -> Article:
        return article_of(await services(info).content.like(member_id=require_member(info), article_id=id))

    @strawberry.mutation(description="Take back a like (shoppers; idempotent)")
    async def unlike_article(self, info: Info[Any, Any], id: str) -> Article:
        return article_of(await services(info).content.unlike(member_id=require_member(info), article_id=id))

    @strawberry.mutation(description="A new share link for a published article")
    async def share_article(self, info: Info[Any, Any], id: str) -> ShareLink:
        return share_of(await services(info).content.share(who=require(info), article_id=id))

    @strawberry.mutation(description="Comment on an article (shoppers; 1–500 characters)")
    async def add_comment(self, info: Info[Any, Any], article_id: str, text: str) -> ArticleComment:
        comments = services(info).content.comments
        return comment_of(
            await comments.add(member_id=require_member(info), article_id=article_id, text=text)
        )

    @strawberry.mutation(description="Delete one of your own comments")
    async def delete_comment(self, info: Info[Any, Any], id: str) -> bool:
        return await services(info).content.comments.delete(member_id=require_member(info), comment_id=id)

    @strawberry.mutation(
        description="Hide or show a comment: its brand admin, or the operator of a mall holding every store "
        "of the brand"
    )
    async def moderate_comment(
        self, info: Info[Any, Any], id: str, hidden: bool, reason: str | None = None
    ) -> ArticleComment:
        who, comments = require(info, *MODERATORS), services(info).content.comments
        return comment_of(await comments.moderate(who=who, comment_id=id, hidden=hidden, reason=reason))

    @strawberry.mutation(description="A new draft article of your brand (staff and brand admins)")
    async def create_article(self, info: Info[Any, Any], input: ArticleInput) -> Article:
        who, publishing = require(info, *AUTHORS), services(info).content.publishing
        view = await publishing.create(
            who=who, title=input.title, body=input.body, product_ids=list(input.product_ids)
        )
        return article_of(view)

    @strawberry.mutation(description="Edit an article (its brand's admin, or the staff member who wrote it)")
    async def update_article(self, info: Info[Any, Any], id: str, input: ArticleChanges) -> Article:
        who, publishing = require(info, *AUTHORS), services(info).content.publishing
        view = await publishing.update(
            who=who, article_id=id, title=input.title, body=input.body,
            product_ids=list(input.product_ids) if input.product_ids is not None else None,
        )  # fmt: skip
        return article_of(view)

    @strawberry.mutation(description="Publish a draft into the feed")
    async def publish_article(self, info: Info[Any, Any], id: str) -> Article:
        who = require(info, *AUTHORS)
        return article_of(await services(info).content.publishing.publish(who=who, article_id=id))

    @strawberry.mutation(description="Take an article out of the feed (back to draft)")
    async def unpublish_article(self, info: Info[Any, Any], id: str) -> Article:
        who = require(info, *AUTHORS)
        return article_of(await services(info).content.publishing.unpublish(who=who, article_id=id))

    @strawberry.mutation(description="Delete an article with its likes and comments")
    async def delete_article(self, info: Info[Any, Any], id: str) -> bool:
        who = require(info, *AUTHORS)
        return await services(info).content.publishing.delete(who=who, article_id=id)

    @strawberry.mutation(
        description="Hide or show an article: its brand admin, or the operator of a mall holding every "
        "store of the brand (articles show in all the brand's malls)"
    )
    async def moderate_article(
        self, info: Info[Any, Any], id: str, hidden: bool, reason: str | None = None
    ) -> Article:
        who, publishing = require(info, *MODERATORS), services(info).content.publishing
        return article_of(await publishing.moderate(who=who, article_id=id, hidden=hidden, reason=reason))
