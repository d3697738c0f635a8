"""Pure coupon rules: time windows, where a coupon applies, claim status, order discounts, exit offers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from guang.coupons.models import ClaimStatus, CouponClaim, CouponOffer
from guang.domain.errors import Conflict, Invalid
from guang.domain.models import Coupon

RESERVATION_MS = 30 * 60_000
"""A checkout holds its coupon claims this long; an order still unpaid after it loses them to the next
checkout or redemption that wants them (released lazily, by the conditional update that takes them)."""
EXIT_OFFER_MS = 2 * 3_600_000
"""An exit coupon can be claimed this long after exitOffer offered it to the shopper outside the mall."""


class StoreLike(Protocol):
    """A catalog store or a `Store` document: what the applicability rule reads."""

    @property
    def id(self) -> str: ...
    @property
    def brand_id(self) -> str: ...
    @property
    def mall_id(self) -> str: ...
    @property
    def name(self) -> str: ...


def live_query(now_ms: int, *, kind: str = "standard") -> dict[str, Any]:
    """The document filter of coupons of `kind` live at `now_ms` (the one definition of "live")."""
    kind_filter: Any = {"$ne": "exit"} if kind == "standard" else kind
    return {"kind": kind_filter, "starts_ms": {"$lte": now_ms}, "ends_ms": {"$gt": now_ms}}


def is_live(coupon: Coupon, now_ms: int) -> bool:
    return coupon.starts_ms <= now_ms < coupon.ends_ms


def remaining_stock(coupon: Coupon) -> int:
    return max(0, coupon.total_stock - coupon.claimed)


def check_window(coupon: Coupon, now_ms: int) -> None:
    """Refuse (CONFLICT) outside the campaign's time window."""
    if now_ms < coupon.starts_ms:
        raise Conflict(f"coupon {coupon.id} cannot be used yet: it starts at {coupon.starts_ms} (epoch ms)")
    if now_ms >= coupon.ends_ms:
        raise Conflict(f"coupon {coupon.id} has expired: it ended at {coupon.ends_ms} (epoch ms)")


def check_radius(coupon: Coupon, distance_m: float) -> None:
    """Refuse (INVALID_ARGUMENT) a position outside the campaign's radius around its store or mall."""
    if distance_m > coupon.radius_m:
        where = "store" if coupon.store_id else "mall"
        raise Invalid(
            f"coupon {coupon.id} is only for shoppers within {coupon.radius_m} m of its {where}; "
            f"you are {distance_m:.0f} m away"
        )


def not_applicable(coupon: Coupon, store: StoreLike) -> str | None:
    """Why `coupon` cannot be used at `store` (None when it can): brand, then store or mall."""
    if coupon.brand_id != store.brand_id:
        return f"coupon {coupon.id} is for brand {coupon.brand_id}, not {store.brand_id} ({store.name})"
    if coupon.store_id is not None and coupon.store_id != store.id:
        return f"coupon {coupon.id} can only be used at store {coupon.store_id}, not {store.id}"
    if coupon.store_id is None and coupon.mall_id is not None and coupon.mall_id != store.mall_id:
        return f"coupon {coupon.id} can only be used in mall {coupon.mall_id}, not {store.mall_id}"
    return None


def applies_to(coupon: Coupon, store: StoreLike) -> bool:
    """Whether `coupon` can be used at `store`: its brand's store it names, or (no store) any store of its
    brand in its mall, or in any mall when it names none."""
    return not_applicable(coupon, store) is None


def reserved_by_other(claim: CouponClaim, order_id: str | None, now_ms: int) -> bool:
    """Whether a live reservation by another order (pending payment) holds the claim."""
    return (
        claim.reserved_order_id is not None
        and claim.reserved_order_id != order_id
        and claim.reserved_ms is not None
        and claim.reserved_ms > now_ms - RESERVATION_MS
    )


def reserved_message(claim: CouponClaim) -> str:
    return (
        f"coupon claim {claim.id} is held by order {claim.reserved_order_id}, which awaits payment; "
        f"it is released {RESERVATION_MS // 60_000} minutes after that checkout if the order stays unpaid"
    )


def claim_status(claim: CouponClaim, now_ms: int) -> ClaimStatus:
    if claim.status == "redeemed":
        return "redeemed"
    return "expired" if now_ms >= claim.coupon_ends_ms else "claimed"


def yuan(fen: int) -> str:
    """`3000` → `30`, `2990` → `29.9`."""
    return f"{fen / 100:.2f}".rstrip("0").rstrip(".")


def exit_reason(coupon: Coupon) -> str:
    if coupon.min_spend_fen > 0:
        return f"下次再来 满{yuan(coupon.min_spend_fen)}减{yuan(coupon.discount_fen)}"
    return f"下次再来 立减{yuan(coupon.discount_fen)}元"


def best_exit(offers: Sequence[CouponOffer], now_ms: int) -> CouponOffer | None:
    """The live exit coupon with stock that the shopper can still claim: largest discount, then lowest
    threshold, then the one that lasts longest."""
    usable = [
        o
        for o in offers
        if o.coupon.kind == "exit" and is_live(o.coupon, now_ms) and o.remaining_stock > 0 and o.claimable
    ]
    usable.sort(
        key=lambda o: (-o.coupon.discount_fen, o.coupon.min_spend_fen, -o.coupon.ends_ms, o.coupon.id)
    )
    return usable[0] if usable else None


def order_discount(
    claims: Sequence[tuple[CouponClaim, Coupon]],
    *,
    member_id: str,
    store: StoreLike,
    amount_fen: int,
    now_ms: int,
) -> int:
    """The total discount of these claims on one order at `store`. Each must be the member's, unredeemed,
    live and valid at the store, and its threshold (满) is met by the order amount; one claim per
    campaign. The total may reach the amount: the caller caps it (a payment is at least 1 fen)."""
    if amount_fen <= 0:
        raise Invalid("amount_fen must be positive")
    total, campaigns = 0, set()
    for claim, coupon in claims:
        if claim.member_id != member_id:
            raise Invalid(f"no coupon claim {claim.id} of yours")
        if claim.status == "redeemed":
            raise Conflict(f"coupon claim {claim.id} was already redeemed")
        if reserved_by_other(claim, None, now_ms):
            raise Conflict(reserved_message(claim))
        check_window(coupon, now_ms)
        why = not_applicable(coupon, store)
        if why:
            raise Invalid(why)
        if amount_fen < coupon.min_spend_fen:
            raise Invalid(
                f"coupon {coupon.id} needs a spend of at least {yuan(coupon.min_spend_fen)} 元; "
                f"this order is {yuan(amount_fen)} 元"
            )
        if coupon.id in campaigns:
            raise Invalid(f"only one claim of coupon {coupon.id} can be used on an order")
        campaigns.add(coupon.id)
        total += coupon.discount_fen
    return total
