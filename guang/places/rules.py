"""Pure rules of the places domain: delivery ETA, which coupons make deals, how mall stores are ranked."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from guang.domain.models import Coupon
from guang.services.catalog import CatalogProduct

# 到家 ETA: the store packs the order, then a rider covers the road distance, which is taken to be
# ROUTE_FACTOR times the straight line, at RIDER_KMH.
PACKING_MIN = 15
RIDER_KMH = 15.0
ROUTE_FACTOR = 1.3

# Mall mode: how much the shopper's interest counts against the store's popularity.
INTEREST_WEIGHT = 0.7


def delivery_eta_min(distance_m: float) -> int:
    """Minutes from order to door: PACKING_MIN + road distance (ROUTE_FACTOR × straight) at RIDER_KMH."""
    riding_min = distance_m * ROUTE_FACTOR / 1000.0 / RIDER_KMH * 60.0
    return PACKING_MIN + math.ceil(riding_min)


def deal_products(coupon: Coupon, ranked: Sequence[CatalogProduct], n: int) -> list[CatalogProduct]:
    """The `n` most popular products (of `ranked`, most popular first) the coupon can be used on alone
    (price ≥ its minimum spend); the most popular ones when none reaches it."""
    usable = [p for p in ranked if p.price_fen >= coupon.min_spend_fen]
    return (usable or list(ranked))[:n]


def _yuan(fen: int) -> str:
    return f"{fen // 100}" if fen % 100 == 0 else f"{fen / 100:.2f}"


def deal_headline(coupon: Coupon, product: CatalogProduct) -> str:
    """A short Chinese headline, e.g. `修身直筒牛仔裤 券后¥269｜满299减30`."""
    short = product.name.split(" ")[0]
    terms = f"满{_yuan(coupon.min_spend_fen)}减{_yuan(coupon.discount_fen)}"
    if coupon.min_spend_fen <= product.price_fen:
        return f"{short} 券后¥{_yuan(product.price_fen - coupon.discount_fen)}｜{terms}"
    return f"{short} ¥{_yuan(product.price_fen)}｜{terms}"


def deal_path(*, sku_id: str, store_id: str, coupon_id: str) -> str:
    """Where the brand's own mini-program opens the product, with the coupon to apply."""
    return f"pages/goods/detail?sku={sku_id}&store={store_id}&coupon={coupon_id}"


@dataclass(frozen=True)
class StoreFacts:
    store_id: str
    floor: str
    popularity: float
    categories: frozenset[str]


@dataclass(frozen=True)
class RankedStore:
    store_id: str
    score: float
    reason: str


def rank_stores(stores: Sequence[StoreFacts], interest: Mapping[str, float]) -> list[RankedStore]:
    """Stores worth visiting: popularity (normalised to the best store) alone for an unknown shopper;
    with interest (category → weight, summing to 1), INTEREST_WEIGHT × the interest in the categories the
    store has in stock + the rest × popularity. Ties by store id."""
    top = max((s.popularity for s in stores), default=0.0)
    ranked = []
    for s in stores:
        popularity = s.popularity / top if top > 0 else 0.0
        matched = {c: interest[c] for c in s.categories if interest.get(c, 0.0) > 0}
        if interest:
            score = INTEREST_WEIGHT * sum(matched.values()) + (1 - INTEREST_WEIGHT) * popularity
        else:
            score = popularity
        if matched:
            best = max(matched.items(), key=lambda kv: (kv[1], kv[0]))[0]
            reason = f"你最近在看{best}，这家有货"
        elif popularity >= 0.8:
            reason = f"本场人气店铺 · {s.floor}"
        else:
            reason = f"{s.floor} · 顺路逛逛"
        ranked.append(RankedStore(s.store_id, round(score, 4), reason))
    return sorted(ranked, key=lambda r: (-r.score, r.store_id))
