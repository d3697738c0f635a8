"""Pure rules of the places domain: delivery ETA, deals, store ranking in mall mode; seeded activities."""

from __future__ import annotations

import pytest

from guang.coupons.rules import applies_to as coupon_applies
from guang.domain.errors import Invalid
from guang.domain.geo import distance_m, position
from guang.domain.models import Brand, Coupon, GeoPoint, Mall, Staff, Store
from guang.places.directory import Directory, Stock
from guang.places.rules import (
    PACKING_MIN,
    StoreFacts,
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


# ---------------------------------------------------------------- optional positions and the directory


def test_a_position_is_both_coordinates_or_neither() -> None:
    assert position(None, None) is None
    assert position(31.2, 121.4) == (31.2, 121.4)
    for lat, lng in ((31.2, None), (None, 121.4), (95.0, 0.0), (float("nan"), 0.0)):
        with pytest.raises(Invalid):
            position(lat, lng)


def _mall(mall_id: str, lat: float, radius_m: float) -> Mall:
    return Mall(
        id=mall_id, name=mall_id, city_id="c", district="d", location=GeoPoint.at(lat=lat, lng=121.0),
        radius_m=radius_m,
    )  # fmt: skip


def _store(store_id: str, lat: float, *, brand_id: str = "b1", mall_id: str = "m1") -> Store:
    return Store(
        id=store_id, name=store_id, brand_id=brand_id, mall_id=mall_id, floor="L1",
        location=GeoPoint.at(lat=lat, lng=121.0), services=["pickup"],
    )  # fmt: skip


def _directory() -> Directory:
    brands = {
        b: Brand(id=b, name=b, sector="apparel", mini_program_app_id=f"wx-{b}", guide_commission_rate=0.05)
        for b in ("b1", "b2")
    }
    malls = {m.id: m for m in (_mall("m1", 31.0, 300.0), _mall("m2", 31.01, 2_000.0))}
    stores = {
        s.id: s
        for s in (
            _store("s-b", 31.001),
            _store("s-a", 31.001),  # same place as s-b: ties go by id
            _store("s-c", 31.003, brand_id="b2", mall_id="m2"),
            _store("s-orphan", 31.0, mall_id="m-gone"),  # its mall is unknown: never listed
        )
    }
    staff = {
        p.id: p
        for p in (
            Staff(id="st-2", name="二", store_id="s-a", title="导购", wecom_user_id="w2"),
            Staff(id="st-1", name="一", store_id="s-a", title="店长", wecom_user_id="w1"),
        )
    }
    stock = Stock(
        in_stock={"s-c": ["sku-1"]}, categories={"s-c": frozenset({"牛仔裤"})}, popularity={"s-c": 3.0}
    )
    return Directory(malls, brands, stores, staff, stock)


def test_directory_sorts_stores_by_distance_in_memory() -> None:
    d = _directory()
    rows = d.stores_near(lat=31.0, lng=121.0, radius_m=1_000)
    assert [s.id for s, _ in rows] == ["s-a", "s-b", "s-c"]
    assert [round(m) for _, m in rows] == [
        round(distance_m(31.0, 121.0, lat, 121.0)) for lat in (31.001,) * 2 + (31.003,)
    ]
    assert [s.id for s, _ in d.stores_near(lat=31.0, lng=121.0, radius_m=200)] == ["s-a", "s-b"]
    assert [s.id for s, _ in d.stores_near(lat=31.0, lng=121.0, radius_m=1_000, brand_id="b2")] == ["s-c"]
    assert [s.id for s, _ in d.stores_near(lat=31.0, lng=121.0, radius_m=1_000, category="牛仔裤")] == ["s-c"]
    assert d.card(rows[0][0], rows[0][1]).brand.mini_program_app_id == d.app_id("b1") == "wx-b1"


def test_directory_finds_malls_geofences_and_rosters() -> None:
    d = _directory()
    assert [m.id for m, _ in d.malls_near(lat=31.0, lng=121.0, radius_m=5_000)] == ["m1", "m2"]
    assert d.mall_at(lat=31.0005, lng=121.0).id == "m1"  # type: ignore[union-attr]
    assert d.mall_at(lat=31.008, lng=121.0).id == "m2"  # type: ignore[union-attr]  # outside m1's 300 m
    assert d.mall_at(lat=32.0, lng=121.0) is None
    assert [s.id for s in d.stores_in("m1")] == ["s-a", "s-b"] and d.stores_in("m-none") == []
    assert [p.id for p in d.staff_of("s-a")] == ["st-1", "st-2"] and d.staff_of("s-c") == []
