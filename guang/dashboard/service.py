"""A store's and a mall's live day for the people who run them: footfall, conversion, dwell heat per zone
over the floor plan, coupon redemptions, the mall's trending items and staff figures, from what the
dataflow keeps in Redis (and, for staff outreach, the documents)."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sequence
from contextlib import aclosing
from functools import lru_cache
from typing import Protocol

from guang.accounts.models import Principal, Role
from guang.adapters.ports import DocumentStore, StoreChange
from guang.dashboard.floorplan import PlannedZone, floor_plan
from guang.dashboard.live import DashboardHub, mall_topic, store_topic
from guang.dashboard.mall import mall_view
from guang.dashboard.models import (
    Bucket,
    FloorPlan,
    MallDashboard,
    StoreDashboard,
    StoreTotals,
    StoreWindowStats,
    TrendingItem,
    ZoneHeat,
)
from guang.dashboard.staff_kpis import guide_figures, outreach, ranked
from guang.domain.errors import Forbidden, Invalid, NotFound
from guang.domain.models import Store
from guang.places.directory import Directories, Directory
from guang.services.app_events import now_ms
from guang.services.catalog import Catalog

BUCKET_MS = 5 * 60_000
"""The dataflow's bucket (stream/store_stats.py StatsConfig.bucket_ms; a unit test keeps them equal)."""
MAX_HOURS = 24
TRENDING = 10


class StoreStatsReader(Protocol):
    async def read(
        self, store_id: str, *, mall_id: str, buckets: Sequence[int], staff_ids: Sequence[str], trending: int
    ) -> StoreWindowStats: ...

    async def read_mall(
        self, store_ids: Sequence[str], *, mall_id: str, buckets: Sequence[int], trending: int
    ) -> tuple[dict[str, StoreTotals], dict[str, float]]: ...


def may_watch(who: Principal, store: Store) -> bool:
    """Its own staff, its brand's admins and its mall's operators; nobody else (shoppers never)."""
    return (
        (who.role is Role.STAFF and who.store_id == store.id)
        or (who.role is Role.BRAND_ADMIN and who.brand_id == store.brand_id)
        or (who.role is Role.MALL_OPERATOR and who.mall_id == store.mall_id)
    )


def watched_in_mall(who: Principal, mall_id: str, stores: Sequence[Store]) -> list[Store]:
    """The stores of a mall someone may see in the mall view: all of them for its operators, their
    brand's for brand admins; anyone else is refused."""
    if who.role is Role.MALL_OPERATOR:
        if who.mall_id != mall_id:
            raise Forbidden("mall operators see only their own mall")
        return list(stores)
    if who.role is Role.BRAND_ADMIN:
        own = [s for s in stores if s.brand_id == who.brand_id]
        if not own:
            raise Forbidden("your brand has no store in this mall")
        return own
    raise Forbidden("only the mall's operators and the admins of its brands see this")


def bucket_starts(now: int, hours: float, bucket_ms: int = BUCKET_MS) -> list[int]:
    """Starts of the buckets covering the last `hours`, oldest first, the current (open) one last."""
    current = now - now % bucket_ms
    count = max(1, round(hours * 3_600_000 / bucket_ms))
    return [current - i * bucket_ms for i in reversed(range(count))]


def _check_hours(hours: float) -> None:
    if not 0 < hours <= MAX_HOURS:
        raise Invalid(f"hours must be more than 0 and at most {MAX_HOURS}")


class Dashboards:
    def __init__(
        self,
        *,
        stats: StoreStatsReader,
        directories: Directories,
        catalog: Catalog,
        documents: DocumentStore,
        changes: Callable[[], AsyncIterator[StoreChange]],
    ) -> None:
        self._stats = stats
        self._directories = directories
        self._catalog = catalog
        self._documents = documents
        self.hub = DashboardHub(changes=changes, mall_of=self._mall_of)

    # ---------------------------------------------------------------- a store

    async def store(self, *, who: Principal, store_id: str, hours: float = 2.0) -> StoreDashboard:
        store, places = await self._watched_store(who, store_id, hours)
        return await self._store_view(store, places, hours)

    async def store_updates(
        self, *, who: Principal, store_id: str, hours: float = 2.0
    ) -> AsyncGenerator[StoreDashboard, None]:
        """The dashboard now, then again on every change in the store (coalesced, see live.py)."""
        store, _ = await self._watched_store(who, store_id, hours)

        async def render() -> StoreDashboard:
            return await self._store_view(store, await self._directories.get(), hours)

        async with aclosing(self.hub.watch(store_topic(store.id), render)) as views:
            async for view in views:
                yield view

    async def _watched_store(self, who: Principal, store_id: str, hours: float) -> tuple[Store, Directory]:
        _check_hours(hours)
        places = await self._directories.covering(stores=[store_id])
        store = places.stores.get(store_id)
        if store is None:
            raise NotFound(f"no store {store_id}")
        if not may_watch(who, store):
            raise Forbidden("only the store's staff, its brand's admins and its mall's operators see this")
        return store, places

    async def _store_view(self, store: Store, places: Directory, hours: float) -> StoreDashboard:
        now = now_ms()
        starts = bucket_starts(now, hours)
        staff = places.staff_of(store.id)
        raw = await self._stats.read(
            store.id,
            mall_id=store.mall_id,
            buckets=starts,
            staff_ids=[s.id for s in staff],
            trending=TRENDING,
        )
        reach = await outreach(self._documents, [s.id for s in staff])
        return StoreDashboard(
            store_id=store.id,
            store_name=store.name,
            mall_id=store.mall_id,
            bucket_ms=BUCKET_MS,
            buckets=[_bucket(start, raw) for start in starts],
            zones=self._heat(store.id, raw),
            trending=self._trending(raw.trending),
            guides=ranked([guide_figures(s, raw.guides.get(s.id, {}), reach[s.id]) for s in staff]),
            generated_ms=now,
            floor_plan=self.floor_plan(store.id),
        )

    def floor_plan(self, store_id: str) -> FloorPlan:
        return _plan(tuple(
            PlannedZone(z.id, z.name, z.kind) for z in self._catalog.zones.values() if z.store_id == store_id
        ))  # fmt: skip

    # ---------------------------------------------------------------- a mall

    async def mall(self, *, who: Principal, mall_id: str, hours: float = 2.0) -> MallDashboard:
        stores = await self._watched_mall(who, mall_id, hours)
        return await self._mall_view(mall_id, stores, hours)

    async def mall_updates(
        self, *, who: Principal, mall_id: str, hours: float = 2.0
    ) -> AsyncGenerator[MallDashboard, None]:
        stores = await self._watched_mall(who, mall_id, hours)

        async def render() -> MallDashboard:
            return await self._mall_view(mall_id, stores, hours)

        async with aclosing(self.hub.watch(mall_topic(mall_id), render)) as views:
            async for view in views:
                yield view

    async def _watched_mall(self, who: Principal, mall_id: str, hours: float) -> list[Store]:
        _check_hours(hours)
        places = await self._directories.get()
        if mall_id not in places.malls:
            raise NotFound(f"no mall {mall_id}")
        return watched_in_mall(who, mall_id, places.stores_in(mall_id))

    async def _mall_view(self, mall_id: str, stores: list[Store], hours: float) -> MallDashboard:
        now = now_ms()
        starts = bucket_starts(now, hours)
        totals, trending = await self._stats.read_mall(
            [s.id for s in stores], mall_id=mall_id, buckets=starts, trending=TRENDING
        )
        places = await self._directories.get()
        return mall_view(
            mall=places.malls[mall_id],
            brands=places.brands,
            stores=stores,
            totals=totals,
            starts=starts,
            bucket_ms=BUCKET_MS,
            trending=self._trending(trending),
            now=now,
        )

    # ---------------------------------------------------------------- shared

    def _mall_of(self, store_id: str) -> str | None:
        store = self._catalog.stores.get(store_id)
        return store.mall_id if store is not None else None

    def _trending(self, scores: dict[str, float]) -> list[TrendingItem]:
        products = self._catalog.products
        return [
            TrendingItem(sku, product.name, round(score, 3))
            for sku, score in scores.items()
            if (product := products.get(sku)) is not None
        ]

    def _heat(self, store_id: str, raw: StoreWindowStats) -> list[ZoneHeat]:
        shelves = [z for z in self._catalog.zones.values() if z.store_id == store_id and z.kind == "shelf"]
        total = sum(raw.dwell_ms.get(z.id, 0) for z in shelves)
        heat = []
        for zone in shelves:
            dwell = raw.dwell_ms.get(zone.id, 0)
            share = round(dwell / total, 4) if total else 0.0
            visits = raw.dwell_events.get(zone.id, 0)
            heat.append(ZoneHeat(zone.id, zone.name, zone.category, round(dwell / 1000, 1), visits, share))
        return sorted(heat, key=lambda z: (-z.dwell_s, z.zone_id))


@lru_cache(maxsize=1024)
def _plan(zones: tuple[PlannedZone, ...]) -> FloorPlan:
    return floor_plan(zones)


def _bucket(start: int, raw: StoreWindowStats) -> Bucket:
    return Bucket(start, raw.footfall.get(start, 0), raw.payers.get(start, 0), raw.redemptions.get(start, 0))
