"""Assembling article read views for a page in a fixed number of batch queries."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from guang.accounts.models import Principal
from guang.adapters.ports import DocumentStore
from guang.content.cover import cover_path
from guang.content.models import ARTICLES, COMMENTS, LIKES, ArticleView, ProductLink, StoreRef, like_id
from guang.content.rules import can_see, pick_store
from guang.domain.errors import Invalid, NotFound
from guang.domain.geo import check_position
from guang.domain.models import Article, GeoPoint
from guang.services.catalog import Catalog

DEFAULT_CATEGORY = "好物推荐"
PUBLIC: Mapping[str, Any] = {"status": {"$ne": "draft"}, "hidden": {"$ne": True}}
"""Seeded articles predate `status`/`hidden`: a missing field means published and shown."""


def position(lat: float | None, lng: float | None) -> tuple[float, float] | None:
    if lat is None and lng is None:
        return None
    if lat is None or lng is None:
        raise Invalid("give both lat and lng, or neither")
    check_position(lat, lng)
    return lat, lng


class ArticleViews:
    """Reads articles and everything shown with them; stores and brands are cached like the catalog."""

    def __init__(self, *, documents: DocumentStore, catalog: Catalog) -> None:
        self._documents = documents
        self._catalog = catalog
        self._stores: dict[str, tuple[StoreRef, GeoPoint]] | None = None
        self._brands: dict[str, str] | None = None
        self._indexed = False

    async def ensure_indexes(self) -> None:
        if self._indexed:
            return
        docs = self._documents
        await docs.create_index(ARTICLES, [("published_ms", -1), ("_id", -1)])
        await docs.create_index(ARTICLES, [("brand_id", 1), ("created_ms", -1)])
        await docs.create_index(LIKES, [("member_id", 1), ("created_ms", -1)])
        await docs.create_index(LIKES, [("article_id", 1)])
        await docs.create_index(COMMENTS, [("article_id", 1), ("created_ms", 1)])
        await docs.create_index(COMMENTS, [("member_id", 1), ("created_ms", -1)])
        await docs.create_index(COMMENTS, [("status", 1), ("brand_id", 1)])
        self._indexed = True

    def mall_brands(self, mall_id: str | None) -> set[str]:
        """Brands with a store in the mall."""
        if mall_id is None:
            return set()
        return {s.brand_id for s in self._catalog.stores.values() if s.mall_id == mall_id}

    async def get(self, article_id: str) -> Article | None:
        doc = await self._documents.find_one(ARTICLES, {"_id": article_id})
        return Article.model_validate(doc) if doc is not None else None

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
    ) -> list[ArticleView]:
        if not articles:
            return []
        ids = [a.id for a in articles]
        authors = sorted({a.author_staff_id for a in articles if a.author_staff_id})
        product_ids = sorted({p for a in articles for p in a.product_ids})
        stores, brands = await self._store_refs(), await self._brand_names()
        likes, comments, liked, names, stock = await asyncio.gather(
            self._counts(LIKES, {"article_id": {"$in": ids}}),
            self._counts(COMMENTS, {"article_id": {"$in": ids}, "status": "visible"}),
            self._liked(member_id, ids),
            self._names("staff", authors),
            self._stock(product_ids),
        )
        views = []
        for a in articles:
            links = [
                self._link(pid, stock.get(pid, []), stores, lat=lat, lng=lng, mall_id=mall_id)
                for pid in a.product_ids
                if pid in self._catalog.products
            ]
            views.append(
                ArticleView(
                    article=a,
                    cover_url=a.cover_url or cover_path(a.id),
                    category=links[0].product.category if links else DEFAULT_CATEGORY,
                    author_name=names.get(a.author_staff_id) if a.author_staff_id else None,
                    brand_name=brands.get(a.brand_id, ""),
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
        stores: dict[str, tuple[StoreRef, GeoPoint]],
        *,
        lat: float | None,
        lng: float | None,
        mall_id: str | None,
    ) -> ProductLink:
        candidates = [
            (s["store_id"], int(s["qty"]), stores[s["store_id"]][1], stores[s["store_id"]][0].mall_id)
            for s in stock
            if s["store_id"] in stores
        ]
        picked = pick_store(candidates, lat=lat, lng=lng, mall_id=mall_id)
        product = self._catalog.products[product_id]
        if picked is None:
            return ProductLink(product=product, store=None, distance_m=None)
        return ProductLink(product=product, store=stores[picked[0]][0], distance_m=picked[1])

    async def _counts(self, collection: str, match: Mapping[str, Any]) -> dict[str, int]:
        rows = await self._documents.aggregate(
            collection, [{"$match": dict(match)}, {"$group": {"_id": "$article_id", "n": {"$sum": 1}}}]
        )
        return {str(r["_id"]): int(r["n"]) for r in rows}

    async def _liked(self, member_id: str | None, ids: list[str]) -> set[str]:
        if member_id is None:
            return set()
        rows = await self._documents.find(
            LIKES, {"_id": {"$in": [like_id(member_id, i) for i in ids]}}, projection={"article_id": 1}
        )
        return {str(r["article_id"]) for r in rows}

    async def _names(self, collection: str, ids: list[str]) -> dict[str, str]:
        if not ids:
            return {}
        rows = await self._documents.find(collection, {"_id": {"$in": ids}}, projection={"name": 1})
        return {str(r["_id"]): str(r.get("name", "")) for r in rows}

    async def _stock(self, product_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
        if not product_ids:
            return {}
        rows = await self._documents.find("products", {"_id": {"$in": product_ids}}, projection={"stock": 1})
        return {str(r["_id"]): list(r.get("stock", [])) for r in rows}

    async def _store_refs(self) -> dict[str, tuple[StoreRef, GeoPoint]]:
        if self._stores is None:
            rows = await self._documents.find(
                "stores", projection={"name": 1, "mall_id": 1, "floor": 1, "location": 1}
            )
            self._stores = {
                str(r["_id"]): (
                    StoreRef(
                        id=str(r["_id"]), name=r["name"], mall_id=r["mall_id"], floor=str(r.get("floor", ""))
                    ),
                    GeoPoint.model_validate(r["location"]),
                )
                for r in rows
            }
        return self._stores

    async def _brand_names(self) -> dict[str, str]:
        if self._brands is None:
            rows = await self._documents.find("brands", projection={"name": 1})
            self._brands = {str(r["_id"]): str(r["name"]) for r in rows}
        return self._brands
