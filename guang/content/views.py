"""Assembling article read views for a page from memory, with at most one query (the caller's likes).

Articles and their like and visible-comment counts are held in memory (`ArticleViews`): the API process
makes every write to them and re-reads what it changed right after (`put`, `recount`), so reads of the
feed need no query. Product stock (which store to point a link at) is cached for `STOCK_TTL_S`.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from guang.accounts.models import Principal
from guang.adapters.ports import DocumentStore
from guang.content.cover import cover_path
from guang.content.models import ARTICLES, COMMENTS, LIKES, ArticleView, ProductLink
from guang.content.rules import can_see, is_public, pick_store
from guang.domain.errors import NotFound
from guang.domain.models import Article
from guang.places.directory import Directories, Directory
from guang.services.catalog import Catalog

DEFAULT_CATEGORY = "好物推荐"
MEMBERS_CACHED = 10_000
"""How many members' likes are kept in memory (least recently read ones are dropped first)."""
STOCK_TTL_S = 30.0
"""How stale the stock behind an article's product links may be (it only picks which store to show)."""


def _newest(a: Article) -> tuple[int, str]:
    return a.published_ms, a.id


def _latest_created(a: Article) -> tuple[int, int, str]:
    return a.created_ms, a.published_ms, a.id


class ArticleViews:
    """Reads articles and everything shown with them: stores, brands and staff names from the store
    directory, articles and their counts cached as described in the module docstring."""

    def __init__(self, *, documents: DocumentStore, catalog: Catalog, directories: Directories) -> None:
        self._documents = documents
        self._catalog = catalog
        self._directories = directories
        self._stock_read: dict[str, tuple[float, list[dict[str, Any]]]] = {}
        self._articles: dict[str, Article] | None = None
        self._likes: Counter[str] = Counter()
        self._comments: Counter[str] = Counter()
        self._shown: list[Article] | None = None
        """Shown articles, newest first; None after a change (rebuilt on the next read)."""
        self._member_likes: OrderedDict[str, list[tuple[int, str]]] = OrderedDict()
        self._likes_changed: Counter[str] = Counter()
        self._loading = asyncio.Lock()
        self._writing = asyncio.Lock()
        self._indexed = False

    async def ensure_indexes(self) -> None:
        if self._indexed:
            return
        docs = self._documents
        await docs.create_index(ARTICLES, [("published_ms", -1), ("_id", -1)])
        await docs.create_index(ARTICLES, [("brand_id", 1), ("created_ms", -1)])
        await docs.create_index(LIKES, [("member_id", 1), ("created_ms", -1)])
        await docs.create_index(LIKES, [("article_id", 1)])
        await docs.create_index(COMMENTS, [("article_id", 1), ("status", 1), ("created_ms", 1)])
        await docs.create_index(COMMENTS, [("member_id", 1), ("created_ms", -1)])
        await docs.create_index(COMMENTS, [("status", 1), ("brand_id", 1), ("created_ms", 1)])
        self._indexed = True

    async def _ready(self) -> dict[str, Article]:
        """All articles, loaded with their counts on first use."""
        if self._articles is not None:
            return self._articles
        async with self._loading:
            if self._articles is None:
                await self.ensure_indexes()
                docs, likes, comments = await asyncio.gather(
                    self._documents.find(ARTICLES),
                    self._counts(LIKES, {}),
                    self._counts(COMMENTS, {"status": "visible"}),
                )
                self._likes, self._comments = Counter(likes), Counter(comments)
                self._articles = {str(d["_id"]): Article.model_validate(d) for d in docs}
                self._shown = None
        return self._articles

    # ---- keeping memory in step with writes (callers write the documents first)

    async def put(self, article_id: str) -> Article | None:
        """Re-read one article after a write (or drop it when deleted); returns it."""
        articles = await self._ready()
        async with self._writing:
            doc = await self._documents.find_one(ARTICLES, {"_id": article_id})
            if doc is None:
                articles.pop(article_id, None)
                self._likes.pop(article_id, None)
                self._comments.pop(article_id, None)
            else:
                articles[article_id] = Article.model_validate(doc)
            self._shown = None
        return articles.get(article_id)

    async def recount(self, article_id: str) -> None:
        """Recount an article's likes and visible comments after a like, comment or moderation."""
        await self._ready()
        async with self._writing:  # serialised, so the last recount sees every earlier write
            likes, comments = await asyncio.gather(
                self._documents.count(LIKES, {"article_id": article_id}),
                self._documents.count(COMMENTS, {"article_id": article_id, "status": "visible"}),
            )
            self._likes[article_id], self._comments[article_id] = likes, comments

    def forget_likes(self, member_id: str) -> None:
        """After a member's like or unlike: their likes are read again next time."""
        self._likes_changed[member_id] += 1
        self._member_likes.pop(member_id, None)

    async def member_likes(self, member_id: str) -> list[tuple[int, str]]:
        """(liked at, article id) of the member's likes, most recent first; one query, then memory."""
        cached = self._member_likes.get(member_id)
        if cached is not None:
            self._member_likes.move_to_end(member_id)
            return cached
        changes = self._likes_changed[member_id]
        rows = await self._documents.find(
            LIKES, {"member_id": member_id}, projection={"article_id": 1, "created_ms": 1}
        )
        likes = sorted(((int(r["created_ms"]), str(r["article_id"])) for r in rows), reverse=True)
        if self._likes_changed[member_id] == changes:  # no like or unlike raced this read
            self._member_likes[member_id] = likes
            while len(self._member_likes) > MEMBERS_CACHED:
                self._member_likes.popitem(last=False)
        return likes

    # ---- reading

    async def shown(self, brands: Iterable[str] | None = None) -> list[Article]:
        """Shown articles newest first, of `brands` when given."""
        articles = await self._ready()
        if self._shown is None:
            self._shown = sorted((a for a in articles.values() if is_public(a)), key=_newest, reverse=True)
        if brands is None:
            return self._shown
        wanted = set(brands)
        return [a for a in self._shown if a.brand_id in wanted]

    async def of_brand(self, brand_id: str) -> list[Article]:
        """All of a brand's articles, drafts and hidden ones included, newest created first."""
        articles = await self._ready()
        return sorted(
            (a for a in articles.values() if a.brand_id == brand_id), key=_latest_created, reverse=True
        )

    def mall_brands(self, mall_id: str | None) -> set[str]:
        """Brands with a store in the mall."""
        if mall_id is None:
            return set()
        return {s.brand_id for s in self._catalog.stores.values() if s.mall_id == mall_id}

    def brand_malls(self, brand_id: str) -> set[str]:
        """Malls with a store of the brand."""
        return {s.mall_id for s in self._catalog.stores.values() if s.brand_id == brand_id}

    def moderated_brands(self, mall_id: str | None) -> set[str]:
        """Brands a mall's operator moderates: those with every store in the mall."""
        return {b for b in self.mall_brands(mall_id) if self.brand_malls(b) == {mall_id}}

    async def get(self, article_id: str) -> Article | None:
        return (await self._ready()).get(article_id)

    async def many(self, article_ids: Iterable[str]) -> list[Article]:
        """The articles that exist among `article_ids`, in that order."""
        articles = await self._ready()
        return [articles[i] for i in article_ids if i in articles]

    async def titles(self, article_ids: Iterable[str]) -> dict[str, str]:
        articles = await self._ready()
        return {i: articles[i].title for i in article_ids if i in articles}

    async def visible(self, article_id: str, who: Principal | None) -> Article:
        """The article if `who` may see it, else NOT_FOUND (drafts do not exist for outsiders)."""
        article = await self.get(article_id)
        if article is None or not can_see(who, article, self.mall_brands(who.mall_id if who else None)):
            raise NotFound(f"no article {article_id!r}")
        return article

    async def one(self, article: Article, *, member_id: str | None) -> ArticleView:
        [view] = await self.build([article], member_id=member_id)
        return view

    async def build(
        self,
        articles: Sequence[Article],
        *,
        member_id: str | None,
        lat: float | None = None,
        lng: float | None = None,
        mall_id: str | None = None,
        liked: set[str] | None = None,
    ) -> list[ArticleView]:
        """Views of a page; `liked` = the member's liked ids among them when the caller knows them."""
        if not articles:
            return []
        await self._ready()
        ids = [a.id for a in articles]
        authors = sorted({a.author_staff_id for a in articles if a.author_staff_id})
        product_ids = sorted({p for a in articles for p in a.product_ids})
        places = await self._directories.covering(staff=authors)
        if liked is None:
            liked = await self._liked(member_id, ids)
        stock = await self._stock(product_ids)
        likes, comments = self._likes, self._comments
        views = []
        for a in articles:
            links = [
                self._link(pid, stock.get(pid, []), places, lat=lat, lng=lng, mall_id=mall_id)
                for pid in a.product_ids
                if pid in self._catalog.products
            ]
            views.append(
                ArticleView(
                    article=a,
                    cover_url=a.cover_url or cover_path(a.id),
                    category=links[0].product.category if links else DEFAULT_CATEGORY,
                    author_name=_staff_name(places, a.author_staff_id),
                    brand_name=brand.name if (brand := places.brands.get(a.brand_id)) else "",
                    like_count=likes.get(a.id, 0),
                    comment_count=comments.get(a.id, 0),
                    liked_by_me=a.id in liked,
                    links=links,
                )
            )
        return views

    def _link(
        self,
        product_id: str,
        stock: list[dict[str, Any]],
        places: Directory,
        *,
        lat: float | None,
        lng: float | None,
        mall_id: str | None,
    ) -> ProductLink:
        candidates = [
            (store.id, int(s["qty"]), store.location, store.mall_id)
            for s in stock
            if (store := places.stores.get(s["store_id"])) is not None and places.knows(store)
        ]
        picked = pick_store(candidates, lat=lat, lng=lng, mall_id=mall_id)
        product = self._catalog.products[product_id]
        if picked is None:
            return ProductLink(product=product, store=None, distance_m=None)
        return ProductLink(product=product, store=places.card(places.stores[picked[0]]), distance_m=picked[1])

    async def _counts(self, collection: str, match: Mapping[str, Any]) -> dict[str, int]:
        rows = await self._documents.aggregate(
            collection, [{"$match": dict(match)}, {"$group": {"_id": "$article_id", "n": {"$sum": 1}}}]
        )
        return {str(r["_id"]): int(r["n"]) for r in rows}

    async def _liked(self, member_id: str | None, ids: list[str]) -> set[str]:
        if member_id is None:
            return set()
        return {a for _, a in await self.member_likes(member_id)} & set(ids)

    async def _stock(self, product_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
        """Stock per store of the products, read at most every `STOCK_TTL_S` (one query for the misses)."""
        now = time.monotonic()
        read = self._stock_read
        stale = [p for p in product_ids if p not in read or read[p][0] < now - STOCK_TTL_S]
        if stale:
            rows = await self._documents.find("products", {"_id": {"$in": stale}}, projection={"stock": 1})
            found = {str(r["_id"]): list(r.get("stock", [])) for r in rows}
            for pid in stale:
                read[pid] = (now, found.get(pid, []))
        return {p: read[p][1] for p in product_ids}


def _staff_name(places: Directory, staff_id: str | None) -> str | None:
    if staff_id is None:
        return None
    person = places.staff.get(staff_id)
    return person.name if person else None
