"""The live store and mall dashboards: staff see their store, brand admins their brand's stores, mall
operators their mall's; queries for a view now, subscriptions for a view on every change."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
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


@strawberry.type(description="A staff member's performance, all time (guang/dashboard/staff_kpis.py)")
class GuidePerformance:
    staff_id: str
    name: str
    orders: int = strawberry.field(description="Orders attributed to them (share link or till), once each")
    sales_fen: int
    commission_fen: int
    share_links: int = strawberry.field(description="Share links they created")
    posts: int = strawberry.field(description="Their 店员说 posts shoppers see")
    clients: int = strawberry.field(description="Shoppers who added them as advisor (向TA咨询)")
    share_rate: float = strawberry.field(description="Share links ÷ clients (0 without clients)")
    conversion: float = strawberry.field(
        description="Attributed orders ÷ share links (0 without links; share-link visits are not recorded)"
    )


@strawberry.type(description="Plan units; origin at the back-left corner, y grows towards the entrance")
class PlanRect:
    x: float
    y: float
    w: float
    h: float


@strawberry.type(description="Where a zone stands on the floor plan")
class PlanArea:
    zone_id: str
    name: str
    kind: str = strawberry.field(description="shelf or till")
    rect: PlanRect


@strawberry.type(
    description="A floor plan derived from the store's zones: shelves on the walls, tills by the door"
)
class FloorPlan:
    width: float
    depth: float
    door: PlanRect
    areas: list[PlanArea]


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
    floor_plan: FloorPlan
    generated_at_ms: float


@strawberry.type(description="One store in the mall view")
class MallStoreFigures:
    store_id: str
    name: str
    brand_id: str
    brand_name: str
    visitors: int
    payers: int
    redemptions: int
    conversion: float


@strawberry.type
class MallDashboard:
    mall_id: str
    mall_name: str
    bucket_ms: int
    visitors: int = strawberry.field(description="Store visits in the window, summed over the shown stores")
    payers: int
    redemptions: int
    conversion: float
    buckets: list[FootfallBucket] = strawberry.field(description="The shown stores summed per bucket")
    stores: list[MallStoreFigures] = strawberry.field(description="Busiest first")
    trending: list[TrendingProduct] = strawberry.field(description="The mall's, over the last hour")
    generated_at_ms: float


def _rect(r: models.Rect) -> PlanRect:
    return PlanRect(x=r.x, y=r.y, w=r.w, h=r.h)


def plan_of(p: models.FloorPlan) -> FloorPlan:
    return FloorPlan(
        width=p.width, depth=p.depth, door=_rect(p.door),
        areas=[PlanArea(zone_id=a.zone_id, name=a.name, kind=a.kind, rect=_rect(a.rect)) for a in p.areas],
    )  # fmt: skip


def _buckets(buckets: list[models.Bucket]) -> list[FootfallBucket]:
    return [
        FootfallBucket(start_ms=float(b.start_ms), visitors=b.visitors, payers=b.payers,
                       redemptions=b.redemptions, conversion=b.conversion)
        for b in buckets
    ]  # fmt: skip


def mall_dashboard_of(d: models.MallDashboard) -> MallDashboard:
    return MallDashboard(
        mall_id=d.mall_id, mall_name=d.mall_name, bucket_ms=d.bucket_ms, visitors=d.visitors,
        payers=d.payers, redemptions=d.redemptions, conversion=d.conversion, buckets=_buckets(d.buckets),
        stores=[MallStoreFigures(**asdict(s), conversion=s.conversion) for s in d.stores],
        trending=[TrendingProduct(**asdict(t)) for t in d.trending],
        generated_at_ms=float(d.generated_ms),
    )  # fmt: skip


def dashboard_of(d: models.StoreDashboard) -> StoreDashboard:
    return StoreDashboard(
        store_id=d.store_id, store_name=d.store_name, mall_id=d.mall_id, bucket_ms=d.bucket_ms,
        visitors=d.visitors, payers=d.payers, redemptions=d.redemptions,
        buckets=_buckets(d.buckets),
        zones=[ZoneHeat(**asdict(z)) for z in d.zones],
        trending=[TrendingProduct(**asdict(t)) for t in d.trending],
        guides=[GuidePerformance(**asdict(g)) for g in d.guides],
        floor_plan=plan_of(d.floor_plan or models.FloorPlan(0, 0, models.Rect(0, 0, 0, 0), [])),
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

    @strawberry.field(
        description="A mall's stores side by side (mall operators: all; brand admins: their brand's)"
    )
    async def mall_dashboard(self, info: Info[Any, Any], mall_id: str, hours: float = 2.0) -> MallDashboard:
        who = require(info)
        view = await services(info).dashboards.mall(who=who, mall_id=mall_id, hours=hours)
        return mall_dashboard_of(view)


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="The store dashboard now, then again when the dataflow reports a change there "
        "(at most about once a second; every 10 s without news)"
    )
    async def store_dashboard_updates(
        self, info: Info[Any, Any], store_id: str, hours: float = 2.0
    ) -> AsyncGenerator[StoreDashboard, None]:
        who = require(info)
        views = services(info).dashboards.store_updates(who=who, store_id=store_id, hours=hours)
        async with aclosing(views):
            async for view in views:
                yield dashboard_of(view)

    @strawberry.subscription(description="The mall dashboard now, then again on changes in its stores")
    async def mall_dashboard_updates(
        self, info: Info[Any, Any], mall_id: str, hours: float = 2.0
    ) -> AsyncGenerator[MallDashboard, None]:
        who = require(info)
        views = services(info).dashboards.mall_updates(who=who, mall_id=mall_id, hours=hours)
        async with aclosing(views):
            async for view in views:
                yield mall_dashboard_of(view)
