"""Pure coupon rules: windows, radius, where a coupon applies, claim status, order discounts, exit offers."""

from __future__ import annotations

from typing import Any

import pytest

from guang.coupons import rules
from guang.coupons.models import CouponClaim, CouponOffer
from guang.domain.errors import Conflict, Invalid
from guang.domain.models import Coupon, GeoPoint, Store
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


def test_applies_to_is_the_one_applicability_rule_for_catalog_stores_and_store_documents() -> None:
    document = Store(
        id="store-001", name="拾衣记（静安店）", brand_id="brand-01", mall_id="mall-01", floor="L1",
        location=GeoPoint(type="Point", coordinates=(121.45, 31.22)),
    )  # fmt: skip
    brand_wide = coupon(store_id=None, mall_id=None)
    mall_wide = coupon(store_id=None)
    for where in (STORE, document):
        assert rules.applies_to(coupon(), where) and rules.applies_to(mall_wide, where)
        assert rules.applies_to(brand_wide, where)
    assert not rules.applies_to(coupon(), SAME_BRAND_ELSEWHERE)
    assert not rules.applies_to(mall_wide, SAME_BRAND_ELSEWHERE) and rules.applies_to(
        brand_wide, SAME_BRAND_ELSEWHERE
    )
    assert not rules.applies_to(mall_wide, OTHER_BRAND)


def test_live_query_lists_standard_or_exit_coupons_live_now() -> None:
    assert rules.live_query(NOW) == {
        "kind": {"$ne": "exit"},
        "starts_ms": {"$lte": NOW},
        "ends_ms": {"$gt": NOW},
    }
    assert rules.live_query(NOW, kind="exit")["kind"] == "exit"


def test_a_claim_held_by_a_pending_order_gives_no_discount_until_the_hold_expires() -> None:
    c = coupon()
    held = claim(c, reserved_order_id="o-1", reserved_ms=NOW - 60_000)
    with pytest.raises(Conflict, match="held by order o-1"):
        rules.order_discount([(held, c)], member_id="m-1", store=STORE, amount_fen=20_000, now_ms=NOW)
    assert rules.reserved_by_other(held, "o-2", NOW) and not rules.reserved_by_other(held, "o-1", NOW)
    stale = claim(c, reserved_order_id="o-1", reserved_ms=NOW - rules.RESERVATION_MS - 1)
    assert not rules.reserved_by_other(stale, None, NOW)
    assert (
        rules.order_discount([(stale, c)], member_id="m-1", store=STORE, amount_fen=20_000, now_ms=NOW)
        == 1000
    )
