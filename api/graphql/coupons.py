"""Coupons: nearby campaigns, claim, 我的 coupons, staff redemption (核销), the exit offer."""

from __future__ import annotations

from enum import Enum
from typing import Any

import strawberry
from strawberry.types import Info

from api.graphql.context import principal, require, require_member, services
from api.graphql.pagination import Connection, connection, page_bounds, paginate
from guang.accounts.models import Role
from guang.coupons.models import ClaimedCoupon, CouponOffer
from guang.coupons.models import ClaimStatus as ClaimStatusValue
from guang.coupons.models import ExitOffer as ExitOfferModel


@strawberry.enum(description="standard: listed nearby; exit: 回来再逛, offered as a shopper leaves a mall")
class CouponKind(Enum):
    STANDARD = "standard"
    EXIT = "exit"


@strawberry.enum(description="A claim's state as the shopper sees it")
class ClaimStatus(Enum):
    CLAIMED = "claimed"
    REDEEMED = "redeemed"
    EXPIRED = "expired"


@strawberry.type(description="A geo-targeted coupon campaign around a store, or a mall when storeId is null")
class Coupon:
    id: str
    title: str
    kind: CouponKind
    brand_id: str
    brand_name: str
    store_id: str | None
    store_name: str | None
    mall_id: str | None
    mall_name: str | None
    discount_fen: int
    min_spend_fen: int
    radius_m: int
    starts_ms: float
    ends_ms: float
    per_user_quota: int
    total_stock: int
    remaining_stock: int
    distance_m: float | None = strawberry.field(description="From the position asked about (nearby lists)")
    claimable_by_me: int | None = strawberry.field(
        description="How many more the calling shopper may claim; null unless the caller is a shopper"
    )


@strawberry.type(description="A claimed coupon; its id is the code a till or a staff member redeems")
class CouponClaim:
    id: str
    status: ClaimStatus
    coupon: Coupon
    claimed_ms: float
    redeemed_ms: float | None
    redeemed_store_id: str | None
    order_id: str | None


@strawberry.type(description="The coupon offered as a shopper leaves a mall")
class ExitOffer:
    coupon: Coupon
    reason: str


def coupon_of(o: CouponOffer) -> Coupon:
    c = o.coupon
    return Coupon(
        id=c.id, title=c.title, kind=CouponKind(c.kind), brand_id=c.brand_id, brand_name=o.brand_name,
        store_id=c.store_id, store_name=o.store_name, mall_id=c.mall_id, mall_name=o.mall_name,
        discount_fen=c.discount_fen, min_spend_fen=c.min_spend_fen, radius_m=c.radius_m,
        starts_ms=float(c.starts_ms), ends_ms=float(c.ends_ms), per_user_quota=c.per_user_quota,
        total_stock=c.total_stock, remaining_stock=o.remaining_stock, distance_m=o.distance_m,
        claimable_by_me=o.claimable,
    )  # fmt: skip


def claim_of(c: ClaimedCoupon) -> CouponClaim:
    claim = c.claim
    return CouponClaim(
        id=claim.id, status=ClaimStatus(c.status), coupon=coupon_of(c.offer),
        claimed_ms=float(claim.claimed_ms),
        redeemed_ms=float(claim.redeemed_ms) if claim.redeemed_ms is not None else None,
        redeemed_store_id=claim.redeemed_store_id, order_id=claim.order_id,
    )  # fmt: skip


def exit_offer_of(e: ExitOfferModel) -> ExitOffer:
    return ExitOffer(coupon=coupon_of(e.offer), reason=e.reason)


def _shopper_or_none(info: Info[Any, Any]) -> str | None:
    who = principal(info)
    return who.member_id if who is not None else None


@strawberry.type
class Query:
    @strawberry.field(
        description="Live coupons with stock whose store (or mall) is within the coupon's radius, "
        "nearest first"
    )
    async def nearby_coupons(
        self, info: Info[Any, Any], lat: float, lng: float, first: int = 10, after: str | None = None
    ) -> Connection[Coupon]:
        skip, limit = page_bounds(first, after)
        offers = await services(info).coupons.nearby(lat=lat, lng=lng, member_id=_shopper_or_none(info))
        return connection(offers[skip : skip + limit], skip=skip, first=first, node=coupon_of)

    @strawberry.field(description="One coupon campaign")
    async def coupon(self, info: Info[Any, Any], id: str) -> Coupon:
        offer = await services(info).coupons.coupon(coupon_id=id, member_id=_shopper_or_none(info))
        return coupon_of(offer)

    @strawberry.field(description="我的 coupons: the calling shopper's own claims, newest first")
    async def my_coupons(
        self,
        info: Info[Any, Any],
        status: ClaimStatus | None = None,
        first: int = 10,
        after: str | None = None,
    ) -> Connection[CouponClaim]:
        member_id = require_member(info)
        coupons = services(info).coupons

        async def fetch(skip: int, limit: int) -> list[ClaimedCoupon]:
            value: ClaimStatusValue | None = status.value if status is not None else None
            return await coupons.my_claims(member_id=member_id, status=value, skip=skip, limit=limit)

        return await paginate(fetch, first=first, after=after, node=claim_of)

    @strawberry.field(
        description="The best exit (回来再逛) coupon of a mall for the calling shopper, offered once they "
        "have left: pass your current position; null while it is inside the mall "
        "(its radiusM around the mall) or when nothing is left to claim. "
        "An offered exit coupon can be claimed for 2 hours."
    )
    async def exit_offer(
        self, info: Info[Any, Any], mall_id: str, lat: float, lng: float
    ) -> ExitOffer | None:
        offer = await services(info).coupons.exit_offer(
            mall_id=mall_id, member_id=require_member(info), lat=lat, lng=lng
        )
        return exit_offer_of(offer) if offer is not None else None


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Claim a coupon at your position (required: coupons are geo-targeted); quota and stock "
        "are exact under concurrency"
    )
    async def claim_coupon(self, info: Info[Any, Any], coupon_id: str, lat: float, lng: float) -> CouponClaim:
        claimed = await services(info).coupons.claim(
            coupon_id=coupon_id, member_id=require_member(info), lat=lat, lng=lng
        )
        return claim_of(claimed)

    @strawberry.mutation(description="核销: staff redeem a shopper's claim at their store, exactly once")
    async def redeem_coupon(self, info: Info[Any, Any], claim_id: str) -> CouponClaim:
        who = require(info, Role.STAFF)
        assert who.store_id is not None
        redeemed = await services(info).coupons.redeem(
            claim_id=claim_id, store_id=who.store_id, by=f"staff:{who.subject_id}"
        )
        return claim_of(redeemed)
