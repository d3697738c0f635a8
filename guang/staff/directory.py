"""店员说 posts held in memory, so reading the tab, a profile or 我的购物顾问 needs no per-item query (and
the post lists none at all); staff members come from the store directory (guang/places/directory.py).

The API process makes every write to posts (`StaffDesk`) and re-reads a post right after it changed
(`put`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from guang.adapters.ports import DocumentStore
from guang.domain.models import StaffPost
from guang.staff.models import is_shown

POSTS = "staff_posts"


def _newest(post: StaffPost) -> tuple[int, str]:
    return post.published_ms, post.id


class PostDirectory:
    def __init__(self, *, documents: DocumentStore) -> None:
        self._documents = documents
        self._posts: dict[str, StaffPost] | None = None
        self._newest: list[StaffPost] | None = None
        """All posts, newest first; None after a change (re-sorted on the next read)."""
        self._picks: dict[str, list[str]] | None = None
        """Store id → products of its shown posts; None after a change, like `_newest`."""
        self._loading = asyncio.Lock()
        self._writing = asyncio.Lock()

    async def _ready(self) -> dict[str, StaffPost]:
        if self._posts is not None:
            return self._posts
        async with self._loading:
            if self._posts is None:
                docs = await self._documents.find(POSTS)
                self._posts = {str(d["_id"]): StaffPost.model_validate(d) for d in docs}
                self._newest = None
                self._picks = None
        return self._posts

    async def put(self, post_id: str) -> StaffPost | None:
        """Re-read one post after a write (or drop it when deleted); returns it."""
        posts = await self._ready()
        async with self._writing:  # serialised, so the last re-read sees every earlier write
            doc = await self._documents.find_one(POSTS, {"_id": post_id})
            if doc is None:
                posts.pop(post_id, None)
            else:
                posts[post_id] = StaffPost.model_validate(doc)
            self._newest = None
            self._picks = None
        return posts.get(post_id)

    async def get(self, post_id: str) -> StaffPost | None:
        return (await self._ready()).get(post_id)

    async def newest(self, *, shown_only: bool, **equal: str | None) -> list[StaffPost]:
        """Posts newest first whose fields equal the given values (None = any), shown ones only if asked."""
        posts = await self._ready()
        if self._newest is None:
            self._newest = sorted(posts.values(), key=_newest, reverse=True)
        wanted = [(k, v) for k, v in equal.items() if v is not None]
        return [
            p
            for p in self._newest
            if (not shown_only or is_shown(p)) and all(getattr(p, k) == v for k, v in wanted)
        ]

    async def picks_by_store(self) -> dict[str, list[str]]:
        """Store id → products its shown posts link to, newest post first (店员说 as a candidate source).
        Built once per change of the posts: the recommender asks on every request."""
        shown = await self.newest(shown_only=True)
        if self._picks is None:
            picks: dict[str, list[str]] = {}
            for post in shown:
                picks.setdefault(post.store_id, []).extend(post.product_ids)
            self._picks = {store: list(dict.fromkeys(skus)) for store, skus in picks.items()}
        return self._picks

    async def shown_counts(self, staff_ids: Iterable[str]) -> dict[str, int]:
        """How many shown posts each staff member has."""
        wanted = set(staff_ids)
        counts = dict.fromkeys(wanted, 0)
        for p in (await self._ready()).values():
            if p.staff_id in wanted and is_shown(p):
                counts[p.staff_id] += 1
        return counts
