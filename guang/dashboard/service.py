"""A store's live day for the people who run it: footfall, conversion, dwell heat per zone, coupon
redemptions, the mall's trending items and staff figures, from what the dataflow keeps in Redis."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from guang.accounts.models import Principal, Role
from guang.dashboard.models import (
    Bucket,
    GuideFigures,
    StoreDashboard,
    StoreWindowStats,
    TrendingItem,
    ZoneHeat,
)
from guang.domain.errors import Forbidden, Invalid, NotFound
from guang.domain.models import Store
from guang.places.directory import Directories
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


def may_watch(who: Principal, store: Store) -> bool:
    """Its own staff, its brand's admins and its mall's operators; nobody else (shoppers never)."""
    return (
        (who.role is Role.STAFF and who.store_id == store.id)
        or (who.role is Role.BRAND_ADMIN and who.brand_id == store.brand_id)
        or (who.role is Role.MALL_OPERATOR and who.mall_id == store.mall_id)
    )


def bucket_starts(now: int, hours: float, bucket_ms: int = BUCKET_MS) -> list[int]:
    """Starts of the buckets covering the last `hours`, oldest first, the current (open) one last."""
    current = now - now % bucket_ms
    count = max(1, round(hours * 3_600_000 / bucket_ms))
    return [current - i * bucket_ms for i in reversed(range(count))]


class Dashboards:
    def __init__(self, *, stats: StoreStatsReader, directories: Directories, catalog: Catalog) -> None:
        self._stats = stats
        self._directories = directories
        self._catalog = catalog

    async def store(self, *, who: Principal, store_id: str, hours: float = 2.0) -> StoreDashboard:
        if not 0 < hours <= MAX_HOURS:
            raise Invalid(f"hours must be more than 0 and at most {MAX_HOURS}")
        places = await self._directories.covering(stores=[store_id])
        store = places.stores.get(store_id)
        if store is None:
            raise NotFound(f"no store {store_id}")
        if not may_watch(who, store):
            raise Forbidden("only the store's staff, its brand's admins and its mall's operators see this")
        now = now_ms()
        starts = bucket_starts(now, hours)
        staff = places.staff_of(store_id)
        raw = await self._stats.read(
            store_id,
            mall_id=store.mall_id,
            buckets=starts,
            staff_ids=[s.id for s in staff],
            trending=TRENDING,
        )
        return StoreDashboard(
            store_id=store.id,
            store_name=store.name,
            mall_id=store.mall_id,
            bucket_ms=BUCKET_MS,
            buckets=[_bucket(start, raw) for start in starts],
            zones=self._heat(store_id, raw),
            trending=self._trending(raw),
            guides=sorted(
                (_guide(s.id, s.name, raw) for s in staff), key=lambda g: (-g.sales_fen, g.staff_id)
            ),
            generated_ms=now,
        )

    def _trending(self, raw: StoreWindowStats) -> list[TrendingItem]:
        products = self._catalog.products
        return [
            TrendingItem(sku, product.name, round(score, 3))
            for sku, score in raw.trending.items()
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


def _bucket(start: int, raw: StoreWindowStats) -> Bucket:
    return Bucket(start, raw.footfall.get(start, 0), raw.payers.get(start, 0), raw.redemptions.get(start, 0))


def _guide(staff_id: str, name: str, raw: StoreWindowStats) -> GuideFigures:
    figures = raw.guides.get(staff_id, {})
    return GuideFigures(
        staff_id,
        name,
        figures.get("orders", 0),
        figures.get("sales_fen", 0),
        figures.get("commission_fen", 0),
    )
