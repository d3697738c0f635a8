"""Recommendation lists and the smart-screen subscription."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import strawberry
from strawberry.types import Info

from api.graphql.context import require, require_member, services
from api.graphql.types import Product, product_of
from guang.accounts.models import Role
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
    experiment: str | None = strawberry.field(description="The ranking experiment of a personal list")
    arm: str | None = strawberry.field(description="Its arm for this shopper (stable: a hash of the two)")
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
        experiment=recs.experiment,
        arm=recs.arm,
        degraded=recs.degraded,
    )


def _item(item: RecItem) -> RecommendedItem:
    return RecommendedItem(score=item.score, reason=item.reason, product=product_of(item.product))


@strawberry.type
class Query:
    @strawberry.field(
        description=(
            "A recommendation list. FEED (猜你喜欢): the calling shopper's, across the catalog or "
            "in stock in mallId. ARRIVAL, PARKING, EXIT: the shopper's, in stock in mallId. "
            "PAY_SUCCESS: what goes with the shopper's order orderId. GUIDE: for staff, what to show "
            "their store's client memberId. With storeId (SCREEN and the rest): that store's list for "
            "whoever is in it."
        )
    )
    async def recommendations(
        self,
        info: Info[Any, Any],
        surface: Surface,  # type: ignore[valid-type]
        store_id: str | None = None,
        mall_id: str | None = None,
        order_id: str | None = None,
        member_id: str | None = None,
        limit: int = 8,
    ) -> Recommendation:
        app = services(info)
        if not 1 <= limit <= MAX_LIMIT:
            raise Invalid(f"limit must be between 1 and {MAX_LIMIT}")
        _check_arguments(surface, store_id=store_id, mall_id=mall_id, order_id=order_id, member_id=member_id)
        if store_id is not None and store_id not in app.catalog.stores:
            raise NotFound(f"unknown store {store_id}")
        if mall_id is not None and mall_id not in (await app.places.directory()).malls:
            raise NotFound(f"unknown mall {mall_id}")
        recommender = app.recommender
        if surface == SurfaceEnum.PAY_SUCCESS:
            assert order_id is not None
            shopper = require_member(info)
            order = await app.payments.order(order_id=order_id, member_id=shopper)
            bought = [line.sku_id for line in order.items]
            recs = await recommender.after_purchase(
                shopper, store_id=order.store_id, bought=bought, limit=limit
            )
        elif surface == SurfaceEnum.GUIDE:
            assert member_id is not None
            staff = require(info, Role.STAFF)
            assert staff.store_id is not None
            if not await app.staff.is_store_client(store_id=staff.store_id, member_id=member_id):
                raise Forbidden("this shopper is not a client of your store (no advisor there)")
            recs = await recommender.for_member(
                member_id, limit=limit, surface=surface, store_id=staff.store_id
            )
        elif store_id is not None:
            recs = await app.store_lists.get(store_id, limit=limit, surface=surface)
        else:
            shopper = require_member(info)
            recs = await recommender.for_member(shopper, limit=limit, surface=surface, mall_id=mall_id)
        return recommendation_of(recs)


MALL_SURFACES = frozenset({SurfaceEnum.ARRIVAL, SurfaceEnum.PARKING, SurfaceEnum.EXIT})


def _check_arguments(
    surface: SurfaceEnum,
    *,
    store_id: str | None,
    mall_id: str | None,
    order_id: str | None,
    member_id: str | None,
) -> None:
    """Each surface takes the arguments it needs and refuses the ones it would ignore."""
    if (surface == SurfaceEnum.PAY_SUCCESS) != (order_id is not None):
        raise Invalid("PAY_SUCCESS needs orderId (the order just paid); no other surface takes it")
    if (surface == SurfaceEnum.GUIDE) != (member_id is not None):
        raise Invalid("GUIDE needs memberId (your client); no other surface takes it")
    if surface in MALL_SURFACES and mall_id is None:
        raise Invalid(f"{surface.value} needs mallId")
    if store_id is not None and (
        mall_id is not None or surface in (SurfaceEnum.PAY_SUCCESS, SurfaceEnum.GUIDE)
    ):
        raise Invalid(f"storeId cannot be combined with mallId, or used for {surface.value}")


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
