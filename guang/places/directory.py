"""Malls, brands, stores and what each store has in stock, read once from the documents.

Reference data like the catalog: it changes with a reseed, not per request. Stock levels move with sales,
so the in-stock lists here are a start-up snapshot, good enough for filters and picks; the store page
reads live stock from the documents."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from guang.adapters.ports import DocumentStore
from guang.domain.models import Brand, Mall, Store
from guang.places.models import StoreCard

TOP_FOR_POPULARITY = 20


@dataclass
class Directory:
    malls: dict[str, Mall]
    brands: dict[str, Brand]
    stores: dict[str, Store]
    in_stock: dict[str, list[str]] = field(default_factory=dict)
    """store id → in-stock SKU ids, most popular first."""
    categories: dict[str, set[str]] = field(default_factory=dict)
    """store id → categories it has in stock."""
    popularity: dict[str, float] = field(default_factory=dict)
    """store id → summed popularity of its TOP_FOR_POPULARITY most popular in-stock products."""

    @classmethod
    async def load(cls, documents: DocumentStore) -> Directory:
        malls = {d["id"]: Mall.model_validate(d) for d in await documents.find("malls")}
        brands = {d["id"]: Brand.model_validate(d) for d in await documents.find("brands")}
        stores = {d["id"]: Store.model_validate(d) for d in await documents.find("stores")}
        ranked: dict[str, list[tuple[int, str]]] = defaultdict(list)
        categories: dict[str, set[str]] = defaultdict(set)
        fields = {"id": 1, "category": 1, "popularity": 1, "stock": 1}
        for doc in await documents.find("products", projection=fields):
            for level in doc.get("stock", []):
                if level["qty"] > 0:
                    ranked[level["store_id"]].append((-int(doc.get("popularity", 0)), doc["id"]))
                    categories[level["store_id"]].add(doc["category"])
        in_stock = {store_id: [sku for _, sku in sorted(skus)] for store_id, skus in ranked.items()}
        popularity = {
            store_id: float(-sum(p for p, _ in sorted(skus)[:TOP_FOR_POPULARITY]))
            for store_id, skus in ranked.items()
        }
        return cls(malls, brands, stores, in_stock, dict(categories), popularity)

    def knows(self, store: Store) -> bool:
        return store.id in self.stores and store.brand_id in self.brands and store.mall_id in self.malls

    def card(self, store: Store, distance_m: float | None = None) -> StoreCard:
        return StoreCard(
            store=store,
            brand=self.brands[store.brand_id],
            mall=self.malls[store.mall_id],
            distance_m=None if distance_m is None else round(distance_m),
        )
