"""Pure coupon rules: windows, radius, where a coupon applies, claim status, order discounts, exit offers."""

from __future__ import annotations

from typing import Any

import pytest

from guang.coupons import rules
from guang.coupons.models import CouponClaim, CouponOffer
from guang.domain.errors import Conflict, Invalid
from guang.domain.models import Coupon
from guang.services.catalog import CatalogStore

NOW = 1_790_000_000_000
STORE = CatalogStore(id="store-001", name="拾衣记（静安店）", brand_id="brand-01", mall_id="mall-01")
SAME_BRAND_ELSEWHERE = CatalogStore(
    id="store-004", name="拾衣记（杭州店）", brand_id="brand-01", mall_id="mall-02"
)
OTHER_BRAND = CatalogStore(id="store-003", name="跃界", brand_id="brand-03", mall_id="mall-01")


def coupon(**fields: Any) -> Coupon:
    values: dict[str, Any] = {
        "id": "cpn-1", "title": "满100减10", "brand_id": "brand-01", "store_id": "store-001",
        "mall_id": "mall-01", "discount_fen": 1000, "min_spend_fen": 10_000, "radius_m": 3000,
        "starts_ms": NOW - 1000, "ends_ms": NOW + 1000,
    }  # fmt: skip
    return Coupon(**{**values, **fields})


def claim(c: Coupon, **fields: Any) -> CouponClaim:
    values: dict[str, Any] = {
        "id": f"clm-{c.id}", "coupon_id": c.id, "member_id": "m-1", "claimed_ms": NOW - 10,
        "coupon_ends_ms": c.ends_ms,
    }  # fmt: skip
    return CouponClaim(**{**values, **fields})


def offer(c: Coupon, claimable: int = 1, remaining: int = 10) -> CouponOffer:
    return CouponOffer(c, "拾衣记", None, "静安嘉里中心", remaining, claimable=claimable)


def test_the_window_includes_its_start_and_excludes_its_end() -> None:
    c = coupon(starts_ms=NOW, ends_ms=NOW + 10)
    assert rules.is_live(c, NOW) and not rules.is_live(c, NOW + 10) and not rules.is_live(c, NOW - 1)
    with pytest.raises(Conflict, match="cannot be used yet"):
        rules.check_window(c, NOW - 1)
    with pytest.raises(Conflict, match="expired"):
        rules.check_window(c, NOW + 10)


def test_a_position_outside_the_radius_is_refused_with_the_distance() -> None:
    rules.check_radius(coupon(radius_m=3000), 3000.0)
    with pytest.raises(Invalid, match="within 3000 m of its store; you are 3001 m away"):
        rules.check_radius(coupon(radius_m=3000), 3001.0)
    with pytest.raises(Invalid, match="of its mall"):
        rules.check_radius(coupon(store_id=None), 4000.0)


def test_store_coupons_apply_at_their_store_and_mall_coupons_at_the_brands_stores_in_that_mall() -> None:
    assert rules.not_applicable(coupon(), STORE) is None
    assert "store-001" in (rules.not_applicable(coupon(), SAME_BRAND_ELSEWHERE) or "")
    assert "brand" in (rules.not_applicable(coupon(), OTHER_BRAND) or "")
    mall_wide = coupon(store_id=None)
    assert rules.not_applicable(mall_wide, STORE) is None
    assert "mall-01" in (rules.not_applicable(mall_wide, SAME_BRAND_ELSEWHERE) or "")
    assert rules.not_applicable(mall_wide, OTHER_BRAND) is not None


def test_claim_status_is_expired_only_for_unredeemed_claims_of_ended_coupons() -> None:
    c = coupon()
    assert rules.claim_status(claim(c), NOW) == "claimed"
    assert rules.claim_status(claim(c), c.ends_ms) == "expired"
    assert rules.claim_status(claim(c, status="redeemed"), c.ends_ms + 1) == "redeemed"


def test_order_discount_sums_one_claim_per_campaign_when_every_rule_holds() -> None:
    ten, thirty = coupon(), coupon(id="cpn-2", store_id=None, discount_fen=3000, min_spend_fen=20_000)
    pairs = [(claim(ten), ten), (claim(thirty), thirty)]
    kw: dict[str, Any] = {"member_id": "m-1", "store": STORE, "now_ms": NOW}
    assert rules.order_discount([], amount_fen=100, **kw) == 0
    assert rules.order_discount(pairs, amount_fen=30_000, **kw) == 4000
    with pytest.raises(Invalid, match="at least 200 元; this order is 150 元"):
        rules.order_discount(pairs, amount_fen=15_000, **kw)
    with pytest.raises(Invalid, match="of yours"):
        rules.order_discount(pairs, amount_fen=30_000, **{**kw, "member_id": "m-2"})
    with pytest.raises(Conflict, match="already redeemed"):
        rules.order_discount([(claim(ten, status="redeemed"), ten)], amount_fen=30_000, **kw)
    with pytest.raises(Conflict, match="expired"):
        rules.order_discount(pairs, amount_fen=30_000, **{**kw, "now_ms": ten.ends_ms})
    with pytest.raises(Invalid, match="brand"):
        rules.order_discount(pairs, amount_fen=30_000, **{**kw, "store": OTHER_BRAND})
    with pytest.raises(Invalid, match="only one claim"):
        rules.order_discount([(claim(ten), ten), (claim(ten, id="clm-x"), ten)], amount_fen=30_000, **kw)
    free = coupon(min_spend_fen=0, discount_fen=5000)
    assert rules.order_discount([(claim(free), free)], amount_fen=3000, **kw) == 5000  # the caller caps it


def test_the_best_exit_offer_is_the_largest_live_discount_i_can_still_claim() -> None:
    small = coupon(id="cpn-s", kind="exit", store_id=None, discount_fen=1000)
    big = coupon(id="cpn-b", kind="exit", store_id=None, discount_fen=8000, min_spend_fen=59_900)
    big_cheaper = coupon(id="cpn-c", kind="exit", store_id=None, discount_fen=8000, min_spend_fen=39_900)
    ended = coupon(id="cpn-e", kind="exit", store_id=None, discount_fen=9000, ends_ms=NOW)
    standard = coupon(id="cpn-x", discount_fen=9900)
    offers = [offer(small), offer(big), offer(big_cheaper), offer(ended), offer(standard)]
    best = rules.best_exit(offers, NOW)
    assert best is not None and best.coupon.id == "cpn-c"
    assert rules.exit_reason(best.coupon) == "下次再来 满399减80"
    used_up = [offer(big_cheaper, claimable=0), offer(big, remaining=0), offer(small)]
    assert (rules.best_exit(used_up, NOW) or offer(standard)).coupon.id == "cpn-s"
    assert rules.best_exit([offer(small, claimable=0)], NOW) is None
    assert rules.exit_reason(coupon(min_spend_fen=0, discount_fen=1550)) == "下次再来 立减15.5元"
