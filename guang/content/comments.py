"""Comments on articles: write, list, delete own, and moderation (with the blocklist hold)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from guang.accounts.models import Principal, Role
from guang.adapters.ports import DocumentStore
from guang.content.models import COMMENTS, Comment, CommentView
from guang.content.rules import COMMENT_MAX, is_flagged, is_public, moderation_refusal, reason_text
from guang.content.views import ArticleViews
from guang.domain.errors import Forbidden, NotFound
from guang.domain.text import bounded
from guang.services.app_events import now_ms

ANONYMOUS_NICKNAME = "逛友"


class Comments:
    def __init__(self, *, documents: DocumentStore, views: ArticleViews) -> None:
        self._documents = documents
        self._views = views

    async def add(self, *, member_id: str, article_id: str, text: str) -> CommentView:
        """A comment with the blocklist applied: flagged ones are held until moderated."""
        article = await self._views.get(article_id)
        if article is None or not is_public(article):
            raise NotFound(f"no article {article_id!r}")
        cleaned = bounded(text, what="a comment", max_len=COMMENT_MAX, multiline=True)
        flagged = is_flagged(cleaned)
        comment = Comment(
            id=f"cmt-{uuid.uuid4().hex}", article_id=article.id, brand_id=article.brand_id,
            member_id=member_id, text=cleaned, created_ms=now_ms(), status="held" if flagged else "visible",
            flagged=flagged,
        )  # fmt: skip
        await self._documents.insert_one(COMMENTS, {"_id": comment.id, **comment.model_dump()})
        if not flagged:
            await self._views.recount(article.id)
        [view] = await self._views_of([comment], viewer=member_id)
        return view

    async def listed(
        self, *, who: Principal | None, article_id: str, skip: int, limit: int
    ) -> list[CommentView]:
        """An article's visible comments, oldest first."""
        await self._views.ensure_indexes()
        article = await self._views.visible(article_id, who)
        docs = await self._documents.find(
            COMMENTS,
            {"article_id": article.id, "status": "visible"},
            sort=[("created_ms", 1), ("_id", 1)],
            skip=skip,
            limit=limit,
        )
        return await self._views_of([Comment.model_validate(d) for d in docs], viewer=_member(who))

    async def mine(self, *, member_id: str, skip: int, limit: int) -> list[CommentView]:
        """All of the member's comments, newest first, hidden and held ones included."""
        await self._views.ensure_indexes()
        docs = await self._documents.find(
            COMMENTS, {"member_id": member_id}, sort=[("created_ms", -1), ("_id", -1)], skip=skip, limit=limit
        )
        return await self._views_of([Comment.model_validate(d) for d in docs], viewer=member_id)

    async def delete(self, *, member_id: str, comment_id: str) -> bool:
        comment = await self._get(comment_id)
        if comment.member_id != member_id:
            raise Forbidden("only its author can delete a comment")
        deleted = await self._documents.delete_one(COMMENTS, {"_id": comment.id, "member_id": member_id})
        if deleted:
            await self._views.recount(comment.article_id)
        return deleted

    async def moderate(
        self, *, who: Principal, comment_id: str, hidden: bool, reason: str | None
    ) -> CommentView:
        """Hide a comment, or show it (which also releases one held by the blocklist); who may is the same
        as for its article (`rules.moderation_refusal`): comments show wherever the article does."""
        comment = await self._get(comment_id)
        refusal = moderation_refusal(who, comment.brand_id, self._views.brand_malls(comment.brand_id))
        if refusal is not None:
            raise Forbidden(refusal)
        update = {
            "status": "hidden" if hidden else "visible",
            "moderation_reason": reason_text(reason),
            "moderated_by": who.subject_id,
            "moderated_ms": now_ms(),
        }
        await self._documents.update_one(COMMENTS, {"_id": comment.id}, {"$set": update})
        await self._views.recount(comment.article_id)
        [view] = await self._views_of([comment.model_copy(update=update)], viewer=None)
        return view

    async def held(self, *, who: Principal, skip: int, limit: int) -> list[CommentView]:
        """The moderation queue: held comments the caller may release (their brand's; for a mall operator,
        those of brands with every store in their mall)."""
        if who.role is Role.BRAND_ADMIN and who.brand_id:
            brands = [who.brand_id]
        elif who.role is Role.MALL_OPERATOR:
            brands = sorted(self._views.moderated_brands(who.mall_id))
        else:
            raise Forbidden("the moderation queue is for brand admins and mall operators")
        await self._views.ensure_indexes()
        docs = await self._documents.find(
            COMMENTS,
            {"status": "held", "brand_id": {"$in": brands}},
            sort=[("created_ms", 1), ("_id", 1)],
            skip=skip,
            limit=limit,
        )
        return await self._views_of([Comment.model_validate(d) for d in docs], viewer=None)

    async def _get(self, comment_id: str) -> Comment:
        doc = await self._documents.find_one(COMMENTS, {"_id": comment_id})
        if doc is None:
            raise NotFound(f"no comment {comment_id!r}")
        return Comment.model_validate(doc)

    async def _views_of(self, comments: Sequence[Comment], *, viewer: str | None) -> list[CommentView]:
        if not comments:
            return []
        member_ids = sorted({c.member_id for c in comments})
        article_ids = sorted({c.article_id for c in comments})
        members = await self._documents.find(
            "members", {"_id": {"$in": member_ids}}, projection={"nickname": 1}
        )
        titles = await self._views.titles(article_ids)
        nicknames = {m["_id"]: str(m.get("nickname") or ANONYMOUS_NICKNAME) for m in members}
        return [
            CommentView(
                comment=c,
                author_nickname=nicknames.get(c.member_id, ANONYMOUS_NICKNAME),
                article_title=titles.get(c.article_id, ""),
                mine=viewer is not None and c.member_id == viewer,
            )
            for c in comments
        ]


def _member(who: Principal | None) -> str | None:
    return who.member_id if who is not None else None
