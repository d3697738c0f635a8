"""The guide inbox: live alerts when a staff member's client arrives, and the recent ones."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from enum import Enum
from typing import Any

import strawberry
from strawberry.types import Info

from api.graphql.context import require, services
from api.graphql.pagination import Connection, paginate
from api.graphql.recommendations import Recommendation, RecommendedItem
from api.graphql.types import product_of
from guang.accounts.models import Role
from guang.guide_inbox import models
from guang.services.catalog import Catalog
from recsys.models import Surface

READY_EVERY_S = 30.0
"""An empty update this often keeps idle sockets (and the proxies between) from closing."""


@strawberry.enum(description="How the client was noticed")
class HowNoticed(Enum):
    FACE = "face"
    LOCATION = "location"


@strawberry.type(description="The shelf a client last stood at in your store (cameras, face consent only)")
class ShelfVisit:
    store_id: str
    store_name: str
    zone_id: str
    zone_name: str
    category: str
    dwell_s: int


@strawberry.type(description="One of your clients just arrived")
class GuideAlert:
    id: str
    member_id: str
    nickname: str
    how: HowNoticed
    signal: str = strawberry.field(description="member_arrival (camera), store_enter or arrival (mall)")
    mall_id: str
    mall_name: str
    store_id: str | None = strawberry.field(description="Your store; null for an arrival at the mall")
    store_name: str | None
    at_ms: float
    event_id: str
    looked_at: ShelfVisit | None
    top_categories: list[str]
    recommendation: Recommendation = strawberry.field(description="GUIDE: what to show them in your store")


@strawberry.type(description="The first update (no alert) says the inbox is live; then one per alert")
class GuideInboxUpdate:
    staff_id: str
    alert: GuideAlert | None


def alert_of(alert: models.GuideAlert, catalog: Catalog) -> GuideAlert:
    looked = alert.looked_at
    items = [
        RecommendedItem(score=s.score, reason=s.reason, product=product_of(catalog.products[s.sku_id]))
        for s in alert.suggestions
        if s.sku_id in catalog.products
    ]
    return GuideAlert(
        id=alert.alert_id, member_id=alert.member_id, nickname=alert.nickname, how=HowNoticed(alert.how),
        signal=alert.signal, mall_id=alert.mall_id, mall_name=alert.mall_name, store_id=alert.store_id,
        store_name=alert.store_name, at_ms=float(alert.at_ms), event_id=alert.event_id,
        looked_at=ShelfVisit(
            store_id=looked.store_id, store_name=looked.store_name, zone_id=looked.zone_id,
            zone_name=looked.zone_name, category=looked.category, dwell_s=round(looked.dwell_ms / 1000),
        ) if looked else None,
        top_categories=list(alert.top_categories),
        recommendation=Recommendation(
            rec_id=alert.rec_id, surface=Surface.GUIDE, items=items, experiment=None, arm=None, degraded=False
        ),
    )  # fmt: skip


@strawberry.type
class Query:
    @strawberry.field(description="Staff: your recent guide-inbox alerts, newest first (the last 50, 24 h)")
    async def guide_alerts(
        self, info: Info[Any, Any], first: int = 20, after: str | None = None
    ) -> Connection[GuideAlert]:
        staff_id = require(info, Role.STAFF).staff_id
        assert staff_id is not None
        app = services(info)

        async def fetch(skip: int, limit: int) -> list[models.GuideAlert]:
            return await app.guide.recent(staff_id, skip=skip, limit=limit)

        return await paginate(fetch, first=first, after=after, node=lambda a: alert_of(a, app.catalog))


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description=(
            "Staff (session token in connection_init.authorization): an alert whenever one of your clients "
            "arrives at your store (camera, face consent) or at your store or mall (location consent)"
        )
    )
    async def guide_inbox(self, info: Info[Any, Any]) -> AsyncGenerator[GuideInboxUpdate, None]:
        staff_id = require(info, Role.STAFF).staff_id
        assert staff_id is not None
        app = services(info)
        async with app.guide.inbox(staff_id) as queue:
            yield GuideInboxUpdate(staff_id=staff_id, alert=None)
            while True:
                try:
                    alert = await asyncio.wait_for(queue.get(), timeout=READY_EVERY_S)
                except TimeoutError:
                    yield GuideInboxUpdate(staff_id=staff_id, alert=None)
                    continue
                yield GuideInboxUpdate(staff_id=staff_id, alert=alert_of(alert, app.catalog))
