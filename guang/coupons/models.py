"""Coupon claims (one document per claim) and the views the API shows of campaigns and claims."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from guang.domain.models import Coupon, Domain

ClaimStatus = Literal["claimed", "redeemed", "expired"]
"""What a shopper sees: `expired` is a claim never redeemed whose coupon has ended."""


class CouponClaim(Domain):
    """A document of `coupon_claims`; `_id` is the claim id, the code a till or a staff member scans."""

    id: str
    coupon_id: str
    member_id: str
    status: Literal["claimed", "redeemed"] = "claimed"
    claimed_ms: int
    coupon_ends_ms: int
    """Copied from the coupon so 我的 can filter claimed/expired in the query itself."""
    redeemed_ms: int | None = None
    redeemed_by: str | None = None
    """`staff:<id>`, `device:<id>` or `order` (redeemed by a paid order, see `order_id`)."""
    redeemed_store_id: str | None = None
    order_id: str | None = None
    reserved_order_id: str | None = None
    """The pending order whose checkout holds this claim (see rules.RESERVATION_MS)."""
    reserved_ms: int | None = None


@dataclass(frozen=True)
class CouponOffer:
    """A campaign as a shopper sees it: names, stock left and, when known, distance and own quota left."""

    coupon: Coupon
    brand_name: str
    store_name: str | None
    mall_name: str | None
    remaining_stock: int
    distance_m: float | None = None
    claimable: int | None = None
    """How many more the calling shopper may claim (None when the caller is not a shopper)."""


@dataclass(frozen=True)
class ClaimedCoupon:
    claim: CouponClaim
    offer: CouponOffer
    status: ClaimStatus


@dataclass(frozen=True)
class ExitOffer:
    """The 回来再逛 coupon offered as a shopper leaves a mall, with a short reason."""

    offer: CouponOffer
    reason: str
