"""Pure rules of the places domain: delivery ETA, deals, store ranking in mall mode; seeded activities."""

from __future__ import annotations

from guang.domain.models import Coupon, GeoPoint, Store
from guang.places.rules import (
    PACKING_MIN,
    StoreFacts,
    coupon_applies,
    deal_headline,
    deal_path,
    deal_products,
    delivery_eta_min,
    rank_stores,
)
from guang.seed.generator import generate
from guang.services.catalog import CatalogProduct


def _product(sku: str, price_fen: int, popularity: int = 0) -> CatalogProduct:
    return CatalogProduct(
        id=sku, point_id=int(sku.rsplit("-", 1)[-1]), name=f"修身直筒牛仔裤 深蓝{sku}", category="牛仔裤",
        brand_id="b1", brand_name="B", season="all", price_fen=price_fen, popularity=popularity,
    )  # fmt: skip


def _coupon(**fields: object) -> Coupon:
    base: dict[str, object] = {
        "id": "c1", "title": "t", "brand_id": "b1", "store_id": None, "mall_id": "m1", "discount_fen": 3000,
        "min_spend_fen": 29900, "radius_m": 3000, "starts_ms": 0, "ends_ms": 1,
    }  # fmt: skip
    return Coupon.model_validate({**base, **fields})


STORE = Store(id="s1", name="S", brand_id="b1", mall_id="m1", floor="L2", location=GeoPoint.at(lat=0, lng=0))


def test_delivery_eta_is_packing_plus_riding_the_road_distance() -> None:
    assert delivery_eta_min(0) == PACKING_MIN
    # 3 km straight → 3.9 km of road at 15 km/h = 15.6 min → 16, plus packing.
    assert delivery_eta_min(3000) == PACKING_MIN + 16
    assert delivery_eta_min(1000) < delivery_eta_min(2000) < delivery_eta_min(5000)


def test_store_coupons_apply_to_their_store_brand_coupons_to_the_brand_in_their_mall() -> None:
    assert coupon_applies(_coupon(store_id="s1"), STORE)
    assert not coupon_applies(_coupon(store_id="s2"), STORE)
    assert coupon_applies(_coupon(), STORE)
    assert coupon_applies(_coupon(mall_id=None), STORE)
    assert not coupon_applies(_coupon(mall_id="m2"), STORE)
    assert not coupon_applies(_coupon(brand_id="b2"), STORE)


def test_deals_prefer_popular_products_the_coupon_can_be_used_on() -> None:
    ranked = [_product("sku-1", 19900, 90), _product("sku-2", 39900, 80), _product("sku-3", 59900, 70)]
    assert [p.id for p in deal_products(_coupon(), ranked, 2)] == ["sku-2", "sku-3"]
    assert [p.id for p in deal_products(_coupon(min_spend_fen=99900), ranked, 2)] == ["sku-1", "sku-2"]
    assert deal_products(_coupon(), [], 2) == []


def test_deal_headline_and_path() -> None:
    assert deal_headline(_coupon(), _product("sku-2", 39900)) == "修身直筒牛仔裤 券后¥369｜满299减30"
    assert deal_headline(_coupon(), _product("sku-1", 19900)) == "修身直筒牛仔裤 ¥199｜满299减30"
    assert deal_path(sku_id="sku-2", store_id="s1", coupon_id="c1") == (
        "pages/goods/detail?sku=sku-2&store=s1&coupon=c1"
    )


def test_stores_rank_by_popularity_alone_and_by_interest_when_known() -> None:
    stores = [
        StoreFacts("s-popular", "L1", 100.0, frozenset({"牛仔裤", "T恤"})),
        StoreFacts("s-beauty", "L2", 40.0, frozenset({"口红"})),
    ]
    anonymous = rank_stores(stores, {})
    assert [r.store_id for r in anonymous] == ["s-popular", "s-beauty"]
    assert anonymous[0].score == 1.0 and "人气" in anonymous[0].reason
    personal = rank_stores(stores, {"口红": 0.8, "T恤": 0.2})
    assert [r.store_id for r in personal] == ["s-beauty", "s-popular"]
    assert personal[0].reason == "你最近在看口红，这家有货"
    assert rank_stores([], {"口红": 1.0}) == []


def test_seeded_activities_are_two_to_four_per_mall_around_now() -> None:
    now = 1_790_000_000_000
    data = generate(seed=7, scale=0.02, now_ms=now)
    for mall in data.malls:
        mine = [a for a in data.activities if a.mall_id == mall.id]
        assert 2 <= len(mine) <= 4
        assert all(a.starts_ms < a.ends_ms and abs(a.starts_ms - now) <= 36 * 3_600_000 for a in mine)
        assert all(a.title and a.description and a.location for a in mine)
    assert len({a.id for a in data.activities}) == len(data.activities)
