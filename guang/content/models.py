"""Documents and read views of the 种草 domain: likes, comments, share links, and assembled articles."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from guang.domain.models import Article, Domain
from guang.places.models import StoreCard
from guang.services.catalog import CatalogProduct

ARTICLES = "articles"
LIKES = "likes"
COMMENTS = "comments"
SHARE_LINKS = "share_links"

SHOWN_ARTICLES: Mapping[str, Any] = {"status": {"$ne": "draft"}, "hidden": {"$ne": True}}
"""The document filter for articles shoppers see: published and not hidden (`rules.is_public` is the same
test on a model). Seeded articles predate `status`/`hidden`: a missing field means published and shown."""

CommentStatus = Literal["visible", "held", "hidden"]


class Like(Domain):
    """One per (member, article): `_id` is `like_id(member, article)`, so a second insert is refused."""

    member_id: str
    article_id: str
    created_ms: int


def like_id(member_id: str, article_id: str) -> str:
    return f"{member_id}:{article_id}"


class Comment(Domain):
    """`held` = flagged by the blocklist and waiting for a moderator; only `visible` ones are listed."""

    id: str
    article_id: str
    brand_id: str
    member_id: str
    text: str
    created_ms: int
    status: CommentStatus = "visible"
    flagged: bool = False
    moderation_reason: str | None = None
    moderated_by: str | None = None
    moderated_ms: int | None = None


class ShareLink(Domain):
    """`_id` is the code. The payments domain reads `staff_id` from here to attribute orders."""

    target_type: Literal["article"]
    target_id: str
    staff_id: str | None
    member_id: str | None
    created_ms: int


@dataclass(frozen=True)
class ArticleDraft:
    """Validated, cleaned publishing input; None = leave as is (updates)."""

    title: str | None = None
    body: str | None = None
    product_ids: list[str] | None = None


@dataclass(frozen=True)
class ProductLink:
    product: CatalogProduct
    store: StoreCard | None
    distance_m: float | None


@dataclass(frozen=True)
class ArticleView:
    article: Article
    cover_url: str
    category: str
    author_name: str | None
    brand_name: str
    like_count: int
    comment_count: int
    liked_by_me: bool
    links: list[ProductLink] = field(default_factory=list)


@dataclass(frozen=True)
class CommentView:
    comment: Comment
    author_nickname: str
    article_title: str
    mine: bool


@dataclass(frozen=True)
class ShareView:
    code: str
    url: str
    path: str
    attributed_staff_id: str | None
    article: ArticleView
