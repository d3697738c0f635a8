"""Recommendation lists and the smart-screen subscription."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import strawberry
from strawberry.types import Info

from api.graphql.context import require_member, services
from api.graphql.types import Product, product_of
from guang.domain.errors import Forbidden, Invalid, NotFound
from recsys.models import Audience as AudienceEnum
from recsys.models import RecItem, RecList
from recsys.models import Surface as SurfaceEnum

MAX_LIMIT = 50

Surface = strawberry.enum(SurfaceEnum, description="Where a recommendation list is shown")
Audience = strawberry.enum(AudienceEnum, description="Whom a screen list is for")


@strawberry.type
class RecommendedItem:
    score: float
    reason: str
    product: Product


@strawberry.type
class Recommendation:
    rec_id: str
    surface: Surface  # type: ignore[valid-type]
    items: list[RecommendedItem]
    degraded: bool = strawberry.field(
        description="Popular items served from memory because live features were unavailable"
    )


@strawberry.type
class ScreenUpdate:
    device_id: str
    store_id: str
    store_name: str
    audience: Audience  # type: ignore[valid-type]
    cause_event_id: str | None
    generated_at_ms: float
    recommendation: Recommendation


def recommendation_of(recs: RecList) -> Recommendation:
    return Recommendation(
        rec_id=recs.rec_id,
        surface=recs.surface,
        items=[_item(item) for item in recs.items],
        degraded=recs.degraded,
    )


def _item(item: RecItem) -> RecommendedItem:
    return RecommendedItem(score=item.score, reason=item.reason, product=product_of(item.product))


@strawberry.type
class Query:
    @strawberry.field(
        description=(
            "A recommendation list. With storeId: that store's list for whoever is in it (SCREEN and "
            "similar). PAY_SUCCESS: what goes with the order `orderId` just paid. Otherwise (FEED, "
            "猜你喜欢): personal to the calling shopper, from what they looked at in stores."
        )
    )
    async def recommendations(
        self,
        info: Info[Any, Any],
        surface: Surface,  # type: ignore[valid-type]
        store_id: str | None = None,
        order_id: str | None = None,
        limit: int = 8,
    ) -> Recommendation:
        app = services(info)
        if not 1 <= limit <= MAX_LIMIT:
            raise Invalid(f"limit must be between 1 and {MAX_LIMIT}")
        if surface == SurfaceEnum.PAY_SUCCESS:
            if order_id is None:
                raise Invalid("PAY_SUCCESS needs the orderId that was just paid")
            member_id = require_member(info)
            order = await app.payments.order(order_id=order_id, member_id=member_id)
            bought = [line.sku_id for line in order.items]
            return recommendation_of(
                await app.recommender.after_purchase(
                    member_id, store_id=order.store_id, bought=bought, limit=limit
                )
            )
        if order_id is not None:
            raise Invalid("orderId applies only to PAY_SUCCESS")
        if store_id is not None:
            if store_id not in app.catalog.stores:
                raise NotFound(f"unknown store {store_id}")
            return recommendation_of(await app.store_lists.get(store_id, limit=limit, surface=surface))
        member_id = require_member(info)
        return recommendation_of(await app.recommender.for_member(member_id, limit=limit, surface=surface))


@strawberry.type
class Subscription:
    @strawberry.subscription(description="What a smart screen should show now; a new list on every change")
    async def screen(self, info: Info[Any, Any], device_id: str) -> AsyncGenerator[ScreenUpdate, None]:
        app = services(info)
        params = info.context.get("connection_params") or {}
        device = app.devices.authenticate(params.get("authorization") if isinstance(params, dict) else None)
        if device is None or device.id != device_id or device.kind != "screen":
            raise Forbidden(
                "a valid screen token for this device is required (connection_init.authorization)"
            )
        store = app.catalog.stores[device.store_id]
        async for recs in app.hub.updates(device.store_id):
            yield ScreenUpdate(
                device_id=device.id,
                store_id=store.id,
                store_name=store.name,
                audience=recs.audience,
                cause_event_id=recs.cause_event_id,
                generated_at_ms=float(recs.generated_ms),
                recommendation=recommendation_of(recs),
            )
