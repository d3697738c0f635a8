"""The store directory: malls, brands, stores and their staff, held in memory (the one public copy).

Reference data like the catalog: it changes with a reseed or when a store opens, not per request, and it is
small (a few hundred stores), so every domain reads it from here instead of the documents:

    directory = await services.places.directories.get()     # a `Directory`, loaded on first use
    directory.stores[store_id]        # Store: name, floor, brand_id, mall_id, location, services, delivery
    directory.brands[brand_id]        # Brand: name, sector, mini_program_app_id (`app_id(brand_id)`)
    directory.malls[mall_id]          # Mall: name, location, radius_m (the geofence)
    directory.card(store, metres)     # StoreCard: the store with its brand and mall
    directory.stores_near(lat=, lng=, radius_m=)  # [(Store, metres)], nearest first, ties by id
    directory.malls_near(...), directory.mall_at(lat=, lng=)  # malls by distance; the geofence there
    directory.stores_in(mall_id), directory.staff_of(store_id)  # by id
    await directories.refresh()       # cheap: reloads malls, brands, stores and staff (not stock)
    await directories.refresh(stock=True)  # also re-reads every product's stock (after a restock)

Stock is a snapshot: nothing in the API moves `products.stock` (checkout re-checks it live and refuses what
is no longer there), so in-stock lists, categories and popularity are read at start and on
`refresh(stock=True)`."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from guang.adapters.ports import DocumentStore
from guang.domain.geo import distance_to
from guang.domain.models import Brand, Mall, Staff, Store
from guang.places.models import StoreCard

TOP_FOR_POPULARITY = 20
RELOAD_FOR_UNKNOWN_S = 5.0
"""An id the directory does not know re-reads it at most this often (so missing ids cannot hammer it)."""
_Placed = TypeVar("_Placed", Store, Mall)


@dataclass(frozen=True)
class Stock:
    """What each store has in stock, from one read of every product's stock levels."""

    in_stock: Mapping[str, list[str]] = field(default_factory=dict)
    """store id → in-stock SKU ids, most popular first (ties by id)."""
    categories: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """store id → categories it has in stock."""
    popularity: Mapping[str, float] = field(default_factory=dict)
    """store id → summed popularity of its TOP_FOR_POPULARITY most popular in-stock products."""

    @classmethod
    async def load(cls, documents: DocumentStore) -> Stock:
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
        return cls(in_stock, {s: frozenset(c) for s, c in categories.items()}, popularity)


@dataclass(frozen=True)
class Directory:
    """One immutable snapshot; `Directories` swaps in a new one on refresh."""

    malls: Mapping[str, Mall]
    brands: Mapping[str, Brand]
    stores: Mapping[str, Store]
    staff: Mapping[str, Staff] = field(default_factory=dict)
    stock: Stock = field(default_factory=Stock)
    _by_mall: dict[str, list[Store]] = field(default_factory=dict, init=False, repr=False, compare=False)
    _by_store: dict[str, list[Staff]] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for store in sorted(self.stores.values(), key=lambda s: s.id):
            self._by_mall.setdefault(store.mall_id, []).append(store)
        for person in sorted(self.staff.values(), key=lambda s: s.id):
            self._by_store.setdefault(person.store_id, []).append(person)

    @classmethod
    async def load(cls, documents: DocumentStore, *, stock: Stock | None = None) -> Directory:
        """Malls, brands, stores and staff (four small reads); `stock` is kept or, if None, read too."""
        malls, brands, stores, staff, loaded = await asyncio.gather(
            documents.find("malls"),
            documents.find("brands"),
            documents.find("stores"),
            documents.find("staff"),
            Stock.load(documents) if stock is None else _ready(stock),
        )
        return cls(
            {d["id"]: Mall.model_validate(d) for d in malls},
            {d["id"]: Brand.model_validate(d) for d in brands},
            {d["id"]: Store.model_validate(d) for d in stores},
            {d["id"]: Staff.model_validate(d) for d in staff},
            loaded,
        )

    # ---------------------------------------------------------------- lookups

    @property
    def in_stock(self) -> Mapping[str, list[str]]:
        return self.stock.in_stock

    @property
    def categories(self) -> Mapping[str, frozenset[str]]:
        return self.stock.categories

    @property
    def popularity(self) -> Mapping[str, float]:
        return self.stock.popularity

    def knows(self, store: Store) -> bool:
        """The store and its brand and mall are all in this snapshot."""
        return store.id in self.stores and store.brand_id in self.brands and store.mall_id in self.malls

    def app_id(self, brand_id: str) -> str:
        """The brand's WeChat mini-program appId ("" for an unknown brand)."""
        brand = self.brands.get(brand_id)
        return brand.mini_program_app_id if brand else ""

    def card(self, store: Store, distance_m: float | None = None) -> StoreCard:
        return StoreCard(
            store=store,
            brand=self.brands[store.brand_id],
            mall=self.malls[store.mall_id],
            distance_m=None if distance_m is None else round(distance_m),
        )

    def stores_in(self, mall_id: str) -> list[Store]:
        """The mall's stores, by id."""
        return list(self._by_mall.get(mall_id, ()))

    def staff_of(self, store_id: str) -> list[Staff]:
        """The store's staff, by id."""
        return list(self._by_store.get(store_id, ()))

    # ---------------------------------------------------------------- by distance

    def stores_near(
        self,
        *,
        lat: float,
        lng: float,
        radius_m: float,
        brand_id: str | None = None,
        category: str | None = None,
    ) -> list[tuple[Store, float]]:
        """Known stores (brand and mall known too) within `radius_m` of the point, nearest first, ties by id;
        `brand_id` / `category` (in stock) narrow them."""
        stores: Iterable[Store] = self.stores.values()
        if brand_id is not None:
            stores = (s for s in stores if s.brand_id == brand_id)
        if category is not None:
            stores = (s for s in stores if category in self.categories.get(s.id, ()))
        return _nearest((s for s in stores if self.knows(s)), lat=lat, lng=lng, radius_m=radius_m)

    def malls_near(self, *, lat: float, lng: float, radius_m: float) -> list[tuple[Mall, float]]:
        """Malls within `radius_m` of the point, nearest first, ties by id."""
        return _nearest(self.malls.values(), lat=lat, lng=lng, radius_m=radius_m)

    def mall_at(self, *, lat: float, lng: float) -> Mall | None:
        """The nearest mall whose geofence (`radius_m` around it) contains the point."""
        found = [
            (m, d) for m, d in self.malls_near(lat=lat, lng=lng, radius_m=float("inf")) if d <= m.radius_m
        ]
        return found[0][0] if found else None


def _nearest(
    items: Iterable[_Placed], *, lat: float, lng: float, radius_m: float
) -> list[tuple[_Placed, float]]:
    found = []
    for item in items:
        metres = distance_to(item.location, lat=lat, lng=lng)
        if metres <= radius_m:
            found.append((item, metres))
    found.sort(key=lambda row: (row[1], row[0].id))
    return found


async def _ready(stock: Stock) -> Stock:
    return stock


class Directories:
    """Holds the current `Directory` for the process: loaded on first use, swapped whole on refresh."""

    def __init__(self, documents: DocumentStore) -> None:
        self._documents = documents
        self._current: Directory | None = None
        self._lock = asyncio.Lock()
        self._reloaded_at = float("-inf")

    async def get(self) -> Directory:
        if self._current is None:
            async with self._lock:
                if self._current is None:
                    self._current = await Directory.load(self._documents)
        return self._current

    async def covering(self, *, stores: Iterable[str] = (), staff: Iterable[str] = ()) -> Directory:
        """The directory, re-read first when it lacks one of these store or staff ids (a store opened, a
        colleague hired) — at most every RELOAD_FOR_UNKNOWN_S; ids still unknown after that stay unknown."""
        current = await self.get()
        missing = any(s not in current.stores for s in stores) or any(p not in current.staff for p in staff)
        if missing and time.monotonic() - self._reloaded_at > RELOAD_FOR_UNKNOWN_S:
            self._reloaded_at = time.monotonic()
            current = await self.refresh()
        return current

    async def refresh(self, *, stock: bool = False) -> Directory:
        """Re-read malls, brands, stores and staff (a few small reads); with `stock`, products' stock too."""
        async with self._lock:
            kept = None if stock or self._current is None else self._current.stock
            self._current = await Directory.load(self._documents, stock=kept)
        return self._current
