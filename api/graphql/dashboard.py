"""The live store dashboard: staff see their store, brand admins their brand's, mall operators their
mall's."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import strawberry
from strawberry.types import Info

from api.graphql.context import require, services
from guang.dashboard import models


@strawberry.type(description="One 5-minute bucket: unique visitors, paying visitors, coupons redeemed")
class FootfallBucket:
    start_ms: float
    visitors: int
    payers: int
    redemptions: int
    conversion: float = strawberry.field(description="payers ÷ visitors (0 without visitors)")


@strawberry.type(description="A shelf zone's dwell in the window: the heat on the floor plan")
class ZoneHeat:
    zone_id: str
    name: str
    category: str
    dwell_s: float
    visits: int
    share: float = strawberry.field(description="Of the store's dwell in the window, 0–1")


@strawberry.type
class TrendingProduct:
    sku_id: str
    name: str
    score: float


@strawberry.type(description="A staff member's attributed sales (all time)")
class GuidePerformance:
    staff_id: str
    name: str
    orders: int
    sales_fen: int
    commission_fen: int


@strawberry.type
class StoreDashboard:
    store_id: str
    store_name: str
    mall_id: str
    bucket_ms: int
    visitors: int = strawberry.field(description="Sum of per-bucket unique visitors in the window")
    payers: int
    redemptions: int
    buckets: list[FootfallBucket]
    zones: list[ZoneHeat]
    trending: list[TrendingProduct] = strawberry.field(description="The mall's, over the last hour")
    guides: list[GuidePerformance]
    generated_at_ms: float


def dashboard_of(d: models.StoreDashboard) -> StoreDashboard:
    return StoreDashboard(
        store_id=d.store_id, store_name=d.store_name, mall_id=d.mall_id, bucket_ms=d.bucket_ms,
        visitors=d.visitors, payers=d.payers, redemptions=d.redemptions,
        buckets=[
            FootfallBucket(start_ms=float(b.start_ms), visitors=b.visitors, payers=b.payers,
                           redemptions=b.redemptions, conversion=b.conversion)
            for b in d.buckets
        ],
        zones=[ZoneHeat(**asdict(z)) for z in d.zones],
        trending=[TrendingProduct(**asdict(t)) for t in d.trending],
        guides=[GuidePerformance(**asdict(g)) for g in d.guides],
        generated_at_ms=float(d.generated_ms),
    )  # fmt: skip


@strawberry.type
class Query:
    @strawberry.field(description="A store's day so far: the last `hours` (≤ 24) in 5-minute buckets")
    async def store_dashboard(
        self, info: Info[Any, Any], store_id: str, hours: float = 2.0
    ) -> StoreDashboard:
        who = require(info)
        return dashboard_of(await services(info).dashboards.store(who=who, store_id=store_id, hours=hours))
