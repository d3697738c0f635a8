"""Nearby malls and stores, the current mall, reportLocation, store pages, follows, deals and mall mode."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from guang.adapters.redis_features import RedisFeatureWriter
from guang.domain.features import SubjectFeatures
from guang.domain.geo import distance_m
from guang.domain.models import Activity, Coupon, GeoPoint, Mall, Product, Store
from guang.places.rules import delivery_eta_min
from tests.integration.api.conftest import ApiStack, GraphQLFailed

# A test area far from every seeded mall: our own malls and stores, so counts and orders are ours alone.
HOME = (43.80, 87.60)
M_PER_DEG = 111_320.0


def north(metres: float, east: float = 0.0) -> tuple[float, float]:
    """The point `metres` north and `east` metres east of HOME."""
    lat = HOME[0] + metres / M_PER_DEG
    return round(lat, 6), round(HOME[1] + east / (M_PER_DEG * math.cos(math.radians(HOME[0]))), 6)


TEST_MALLS = {  # id: (metres north of HOME, geofence radius)
    "mall-tp-home": (0.0, 300.0),
    "mall-tp-north": (2_000.0, 250.0),
    "mall-tp-south": (-1_500.0, 3_000.0),
}
TEST_STORES = {  # id: (metres north of HOME, brand)
    "store-tp-1": (100.0, "brand-01"),
    "store-tp-2": (400.0, "brand-02"),
    "store-tp-3": (900.0, "brand-01"),
    "store-tp-4": (1_500.0, "brand-02"),
    "store-tp-5": (2_500.0, "brand-01"),
    "store-tp-far": (4_000.0, "brand-01"),
}
STOCKED = {"store-tp-1": 6, "store-tp-2": 6}  # test stores given stock (of seeded products)

NEARBY_STORES = """query(
  $lat: Float!, $lng: Float!, $r: Int, $b: String, $c: String, $first: Int!, $after: String
) {
  nearbyStores(lat: $lat, lng: $lng, radiusM: $r, brandId: $b, category: $c, first: $first, after: $after) {
    edges { cursor node { id name floor brandName mallName distanceM } } pageInfo { hasNextPage endCursor }
  }
}"""
NEARBY_MALLS = """query($lat: Float!, $lng: Float!, $r: Int, $first: Int!, $after: String) {
  nearbyMalls(lat: $lat, lng: $lng, radiusM: $r, first: $first, after: $after) {
    nodes { id distanceM } pageInfo { hasNextPage endCursor }
  }
}"""
REPORT = """mutation($lat: Float!, $lng: Float!) {
  reportLocation(lat: $lat, lng: $lng, accuracyM: 12.5, source: GPS) { eventId mall { id name } }
}"""
CONSENT = "mutation { setConsent(kind: LOCATION, granted: true) { id } }"
STORE = """query($id: String!, $lat: Float, $lng: Float) {
  store(id: $id, lat: $lat, lng: $lng) {
    id name floor distanceM followerCount followedByMe
    brand { id name appId } mall { id name }
    inStore { pickup appointment }
    delivery { available radiusM distanceM inRange etaMin }
    staff(first: 10) { nodes { id name title } }
    posts(first: 3) { nodes { id text staffName publishedAtMs products { id } } pageInfo { hasNextPage } }
  }
}"""
FOLLOW = "mutation($s: String!) { followStore(storeId: $s) { id followerCount followedByMe } }"
UNFOLLOW = "mutation($s: String!) { unfollowStore(storeId: $s) { id followerCount followedByMe } }"
MY_FOLLOWS = """query($first: Int!, $after: String) {
  myFollowedStores(first: $first, after: $after) {
    nodes { id name brandName mallName } pageInfo { hasNextPage endCursor }
  }
}"""
DEALS = """query($lat: Float!, $lng: Float!, $first: Int!, $after: String) {
  deals(lat: $lat, lng: $lng, first: $first, after: $after) {
    nodes { id headline appId path couponId distanceM discountFen minSpendFen product { id priceFen }
            store { id brandId distanceM } }
    pageInfo { hasNextPage endCursor }
  }
}"""
MALL_TODAY = """query($m: String!) {
  mallToday(mallId: $m) {
    mall { id name }
    activities(first: 10) { nodes { id title startsAtMs endsAtMs location } }
    stores(first: 10) { nodes { score reason store { id name floor } } }
    coupons(first: 20) { nodes { id discountFen remainingStock } }
  }
}"""


def _now() -> int:
    return int(time.time() * 1000)


async def _test_area(api: ApiStack) -> None:
    """Insert our malls and stores once (idempotent) and make the places service see them."""
    docs = api.services.container.documents
    for mall_id, (metres, radius) in TEST_MALLS.items():
        lat, lng = north(metres)
        mall = Mall(
            id=mall_id, name=f"测试广场{mall_id[-4:]}", city_id="city-test", district="测试区",
            location=GeoPoint.at(lat=lat, lng=lng), radius_m=radius,
        )  # fmt: skip
        await docs.insert_one("malls", {"_id": mall.id, **mall.model_dump(mode="json")})
    for store_id, (metres, brand) in TEST_STORES.items():
        lat, lng = north(metres)
        store = Store(
            id=store_id, name=f"测试店{store_id[-1]}", brand_id=brand, mall_id="mall-tp-home", floor="L1",
            location=GeoPoint.at(lat=lat, lng=lng), services=["pickup"],
        )  # fmt: skip
        await docs.insert_one("stores", {"_id": store.id, **store.model_dump(mode="json")})
    for store_id in STOCKED:
        for product in _stocked(api, store_id):
            level = {"store_id": store_id, "qty": 5}
            await docs.update_one("products", {"_id": product.id}, {"$addToSet": {"stock": level}})
    await api.services.places.refresh(stock=True)


def _stocked(api: ApiStack, store_id: str) -> list[Product]:
    """The test store's stock: its brand's STOCKED most popular products."""
    brand = TEST_STORES[store_id][1]
    mine = [p for p in api.data.products if p.brand_id == brand]
    return sorted(mine, key=lambda p: (-p.popularity, p.id))[: STOCKED[store_id]]


def _seed_mall(api: ApiStack, mall_id: str = "mall-01") -> tuple[float, float]:
    mall = next(m for m in api.data.malls if m.id == mall_id)
    return mall.location.coordinates[1], mall.location.coordinates[0]


async def _codes(api: ApiStack, query: str, variables: dict[str, Any], token: str | None = None) -> list[str]:
    with pytest.raises(GraphQLFailed) as failed:
        await api.gql(query, variables, token=token)
    return failed.value.codes


class _Counting:
    """The places service's documents, recording each call (`method:collection`)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.inner, name)

        async def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(f"{name}:{args[0] if args else ''}")
            return await method(*args, **kwargs)

        return call


@contextmanager
def _reads(api: ApiStack) -> Iterator[list[str]]:
    """The document calls the places service makes inside the block."""
    places = api.services.places
    counting = _Counting(places._documents)
    places._documents = counting
    try:
        yield counting.calls
    finally:
        places._documents = counting.inner


# ---------------------------------------------------------------- nearby


async def test_nearby_stores_are_sorted_by_distance_in_metres(api: ApiStack) -> None:
    await _test_area(api)
    data = await api.gql(NEARBY_STORES, {"lat": HOME[0], "lng": HOME[1], "first": 10})
    nodes = [e["node"] for e in data["nearbyStores"]["edges"]]
    assert [n["id"] for n in nodes] == ["store-tp-1", "store-tp-2", "store-tp-3", "store-tp-4", "store-tp-5"]
    for node in nodes:
        lat, lng = north(TEST_STORES[node["id"]][0])
        assert abs(node["distanceM"] - distance_m(HOME[0], HOME[1], lat, lng)) <= 0.5
    card = nodes[0]
    assert card["brandName"] == next(b.name for b in api.data.brands if b.id == "brand-01")
    assert card["mallName"] == "测试广场home" and card["floor"] == "L1" and card["name"] == "测试店1"
    wider = await api.gql(NEARBY_STORES, {"lat": HOME[0], "lng": HOME[1], "r": 5000, "first": 10})
    assert wider["nearbyStores"]["edges"][-1]["node"]["id"] == "store-tp-far"


async def test_nearby_stores_filter_by_brand_and_category(api: ApiStack) -> None:
    await _test_area(api)
    mine = await api.gql(NEARBY_STORES, {"lat": HOME[0], "lng": HOME[1], "b": "brand-02", "first": 10})
    assert [e["node"]["id"] for e in mine["nearbyStores"]["edges"]] == ["store-tp-2", "store-tp-4"]
    lat, lng = _seed_mall(api)
    seeded = {s.id: s for s in api.data.stores if s.mall_id == "mall-01"}
    in_stock: dict[str, set[str]] = {s: set() for s in seeded}
    for product in api.data.products:
        for level in product.stock:
            if level.store_id in seeded and level.qty > 0:
                in_stock[level.store_id].add(product.category)
    for store_id, categories in in_stock.items():
        only_here = sorted(categories - set().union(*(c for s, c in in_stock.items() if s != store_id)))
        found = await api.gql(NEARBY_STORES, {"lat": lat, "lng": lng, "c": only_here[0], "first": 10})
        assert [e["node"]["id"] for e in found["nearbyStores"]["edges"]] == [store_id]
    none = await api.gql(NEARBY_STORES, {"lat": lat, "lng": lng, "c": "不存在的品类", "first": 10})
    assert none["nearbyStores"]["edges"] == []


async def test_nearby_stores_pages_do_not_overlap(api: ApiStack) -> None:
    await _test_area(api)
    seen: list[str] = []
    after = None
    for _ in range(3):
        page = await api.gql(NEARBY_STORES, {"lat": HOME[0], "lng": HOME[1], "first": 2, "after": after})
        seen += [e["node"]["id"] for e in page["nearbyStores"]["edges"]]
        after = page["nearbyStores"]["pageInfo"]["endCursor"]
        if not page["nearbyStores"]["pageInfo"]["hasNextPage"]:
            break
    assert seen == ["store-tp-1", "store-tp-2", "store-tp-3", "store-tp-4", "store-tp-5"]


async def test_nearby_malls_sorted_with_radius_and_pages(api: ApiStack) -> None:
    await _test_area(api)
    found = await api.gql(NEARBY_MALLS, {"lat": HOME[0], "lng": HOME[1], "first": 10})
    nodes = found["nearbyMalls"]["nodes"]
    assert [n["id"] for n in nodes] == ["mall-tp-home", "mall-tp-south", "mall-tp-north"]
    for node in nodes:
        lat, lng = north(TEST_MALLS[node["id"]][0])
        assert abs(node["distanceM"] - distance_m(HOME[0], HOME[1], lat, lng)) <= 0.5
    near = await api.gql(NEARBY_MALLS, {"lat": HOME[0], "lng": HOME[1], "r": 1000, "first": 10})
    assert [n["id"] for n in near["nearbyMalls"]["nodes"]] == ["mall-tp-home"]
    first = await api.gql(NEARBY_MALLS, {"lat": HOME[0], "lng": HOME[1], "first": 2})
    rest = await api.gql(
        NEARBY_MALLS,
        {"lat": HOME[0], "lng": HOME[1], "first": 2, "after": first["nearbyMalls"]["pageInfo"]["endCursor"]},
    )
    assert first["nearbyMalls"]["pageInfo"]["hasNextPage"] is True
    assert [n["id"] for n in first["nearbyMalls"]["nodes"] + rest["nearbyMalls"]["nodes"]] == [
        "mall-tp-home", "mall-tp-south", "mall-tp-north",
    ]  # fmt: skip
    assert rest["nearbyMalls"]["pageInfo"]["hasNextPage"] is False


async def test_bad_positions_and_radii_are_refused(api: ApiStack) -> None:
    for variables in (
        {"lat": 91.0, "lng": 0.0, "first": 5},
        {"lat": 0.0, "lng": -181.0, "first": 5},
        {"lat": HOME[0], "lng": HOME[1], "r": 0, "first": 5},
        {"lat": HOME[0], "lng": HOME[1], "r": 50_001, "first": 5},
        {"lat": HOME[0], "lng": HOME[1], "first": 0},
        {"lat": HOME[0], "lng": HOME[1], "first": 5, "after": "not-a-cursor"},
    ):
        assert await _codes(api, NEARBY_STORES, variables) == ["INVALID_ARGUMENT"], variables
    assert await _codes(api, NEARBY_MALLS, {"lat": 0.0, "lng": 200.0, "first": 5}) == ["INVALID_ARGUMENT"]
    query = "query($lat: Float!) { currentMall(lat: $lat, lng: 0) { id } }"
    assert await _codes(api, query, {"lat": -95.0}) == ["INVALID_ARGUMENT"]


async def test_current_mall_is_the_nearest_geofence_holding_the_point(api: ApiStack) -> None:
    await _test_area(api)
    query = (
        "query($lat: Float!, $lng: Float!) { currentMall(lat: $lat, lng: $lng) { id geofenceM distanceM } }"
    )
    lat, lng = north(50.0)  # inside both mall-tp-home (300 m) and mall-tp-south (3 km)
    assert (await api.gql(query, {"lat": lat, "lng": lng}))["currentMall"]["id"] == "mall-tp-home"
    lat, lng = north(-1_000.0)  # inside mall-tp-south's wide geofence only
    assert (await api.gql(query, {"lat": lat, "lng": lng}))["currentMall"]["id"] == "mall-tp-south"
    lat, lng = north(0.0, east=4_500.0)
    assert (await api.gql(query, {"lat": lat, "lng": lng}))["currentMall"] is None
    seeded = await api.gql(query, dict(zip(("lat", "lng"), _seed_mall(api), strict=True)))
    assert seeded["currentMall"]["id"] == "mall-01"


# ---------------------------------------------------------------- reportLocation


async def test_report_location_puts_one_location_event_on_the_bus(api: ApiStack) -> None:
    token = await api.new_shopper()
    await api.gql(CONSENT, token=token)
    member_id = await api.subject_of(token)
    lat, lng = _seed_mall(api)
    report = (await api.gql(REPORT, {"lat": lat, "lng": lng}, token=token))["reportLocation"]
    assert report["mall"]["id"] == "mall-01"
    events = [e for e in await api.bus_events() if e["event_id"] == report["eventId"]]
    assert len(events) == 1
    event = events[0]
    assert event["type"] == "location" and event["user_id"] == member_id and event["mall_id"] == "mall-01"
    assert (event["lat"], event["lng"], event["accuracy_m"], event["source"]) == (lat, lng, 12.5, "gps")
    mine = [e for e in await api.bus_events() if e.get("user_id") == member_id and e["type"] == "location"]
    assert len(mine) == 1
    outside = (await api.gql(REPORT, {"lat": 0.5, "lng": 0.5}, token=token))["reportLocation"]
    assert outside["mall"] is None and outside["eventId"] != report["eventId"]


async def test_report_location_needs_a_consenting_shopper(api: ApiStack) -> None:
    lat, lng = _seed_mall(api)
    no_consent = await api.new_shopper()
    member_id = await api.subject_of(no_consent)
    assert await _codes(api, REPORT, {"lat": lat, "lng": lng}, token=no_consent) == ["FORBIDDEN"]
    assert not [e for e in await api.bus_events() if e.get("user_id") == member_id]
    assert await _codes(api, REPORT, {"lat": lat, "lng": lng}) == ["UNAUTHENTICATED"]
    staff = await api.login(f"staff-openid-{api.data.staff[0].id}")
    assert await _codes(api, REPORT, {"lat": lat, "lng": lng}, token=staff) == ["FORBIDDEN"]
    consenting = await api.new_shopper()
    await api.gql(CONSENT, token=consenting)
    assert await _codes(api, REPORT, {"lat": 100.0, "lng": lng}, token=consenting) == ["INVALID_ARGUMENT"]
    bad_accuracy = REPORT.replace("12.5", "-1")
    assert await _codes(api, bad_accuracy, {"lat": lat, "lng": lng}, token=consenting) == ["INVALID_ARGUMENT"]


# ---------------------------------------------------------------- store page


async def test_store_page_has_services_delivery_staff_and_posts(api: ApiStack) -> None:
    store = next(s for s in api.data.stores if "delivery" in s.services)
    brand = next(b for b in api.data.brands if b.id == store.brand_id)
    lat, lng = _seed_mall(api, store.mall_id)
    page = (await api.gql(STORE, {"id": store.id, "lat": lat, "lng": lng}))["store"]
    assert (page["name"], page["floor"]) == (store.name, store.floor)
    assert page["brand"] == {"id": brand.id, "name": brand.name, "appId": brand.mini_program_app_id}
    assert page["mall"]["id"] == store.mall_id
    assert page["inStore"] == {
        "pickup": "pickup" in store.services,
        "appointment": "appointment" in store.services,
    }
    metres = distance_m(lat, lng, store.location.coordinates[1], store.location.coordinates[0])
    assert page["distanceM"] == round(metres)
    assert page["delivery"] == {
        "available": True, "radiusM": store.delivery_radius_m, "distanceM": round(metres), "inRange": True,
        "etaMin": delivery_eta_min(metres),
    }  # fmt: skip
    far_lat, far_lng = north(0.0)
    far = (await api.gql(STORE, {"id": store.id, "lat": far_lat, "lng": far_lng}))["store"]["delivery"]
    assert far["inRange"] is False and far["etaMin"] is None and far["distanceM"] > 1_000_000
    plain = (await api.gql(STORE, {"id": store.id}))["store"]
    assert plain["distanceM"] is None and plain["delivery"]["distanceM"] is None
    staff = sorted((s for s in api.data.staff if s.store_id == store.id), key=lambda s: s.id)
    assert page["staff"]["nodes"] == [{"id": s.id, "name": s.name, "title": s.title} for s in staff]
    posts = page["posts"]["nodes"]
    assert posts, "seeded stores have 店员说 posts"
    assert [p["publishedAtMs"] for p in posts] == sorted((p["publishedAtMs"] for p in posts), reverse=True)
    seeded_posts = {p.id: p for p in api.data.staff_posts}
    for post in posts:
        if post["id"] in seeded_posts:
            assert seeded_posts[post["id"]].store_id == store.id
            assert [p["id"] for p in post["products"]] == seeded_posts[post["id"]].product_ids


async def test_store_products_are_in_stock_and_page_without_overlap(api: ApiStack) -> None:
    store = api.data.stores[0]
    stocked = {p.id: p for p in api.data.products for lv in p.stock if lv.store_id == store.id and lv.qty > 0}
    query = """query($id: String!, $after: String) {
      store(id: $id) { products(first: 5, after: $after) { nodes { id } pageInfo { hasNextPage endCursor } } }
    }"""
    first = (await api.gql(query, {"id": store.id}))["store"]["products"]
    second = (await api.gql(query, {"id": store.id, "after": first["pageInfo"]["endCursor"]}))["store"][
        "products"
    ]
    ids = [p["id"] for p in first["nodes"] + second["nodes"]]
    assert len(ids) == 10 and len(set(ids)) == 10 and first["pageInfo"]["hasNextPage"]
    assert all(i in stocked for i in ids)
    popularity = [stocked[i].popularity for i in ids]
    assert popularity == sorted(popularity, reverse=True)
    assert popularity[0] == max(p.popularity for p in stocked.values())


async def test_half_a_position_is_refused_on_the_store_page(api: ApiStack) -> None:
    store = api.data.stores[0]
    lat, lng = _seed_mall(api, store.mall_id)
    assert await _codes(api, STORE, {"id": store.id, "lat": lat}) == ["INVALID_ARGUMENT"]
    assert await _codes(api, STORE, {"id": store.id, "lng": lng}) == ["INVALID_ARGUMENT"]
    assert await _codes(api, STORE, {"id": store.id, "lat": 91.0, "lng": lng}) == ["INVALID_ARGUMENT"]


async def test_unknown_store_is_not_found(api: ApiStack) -> None:
    assert await _codes(api, STORE, {"id": "store-nope"}) == ["NOT_FOUND"]
    token = await api.new_shopper()
    assert await _codes(api, FOLLOW, {"s": "store-nope"}, token=token) == ["NOT_FOUND"]


# ---------------------------------------------------------------- follows


async def test_follow_is_idempotent_private_and_emits_one_follow(api: ApiStack) -> None:
    store_id = api.data.stores[1].id
    alice, bob = await api.new_shopper(), await api.new_shopper()
    before = (await api.gql(STORE, {"id": store_id}))["store"]["followerCount"]
    followed = (await api.gql(FOLLOW, {"s": store_id}, token=alice))["followStore"]
    assert followed == {"id": store_id, "followerCount": before + 1, "followedByMe": True}
    again = (await api.gql(FOLLOW, {"s": store_id}, token=alice))["followStore"]
    assert again["followerCount"] == before + 1
    alice_id = await api.subject_of(alice)
    follows = [
        e for e in await api.bus_events()
        if e.get("user_id") == alice_id and e["type"] == "interaction" and e["action"] == "follow"
    ]  # fmt: skip
    assert len(follows) == 1 and follows[0]["target_type"] == "store" and follows[0]["target_id"] == store_id
    mine = (await api.gql(MY_FOLLOWS, {"first": 10}, token=alice))["myFollowedStores"]["nodes"]
    assert [s["id"] for s in mine] == [store_id]
    assert (await api.gql(MY_FOLLOWS, {"first": 10}, token=bob))["myFollowedStores"]["nodes"] == []
    seen_by_bob = (await api.gql(STORE, {"id": store_id}, token=bob))["store"]
    assert seen_by_bob["followedByMe"] is False and seen_by_bob["followerCount"] == before + 1
    assert (await api.gql(STORE, {"id": store_id}))["store"]["followedByMe"] is False
    gone = (await api.gql(UNFOLLOW, {"s": store_id}, token=alice))["unfollowStore"]
    assert gone == {"id": store_id, "followerCount": before, "followedByMe": False}
    assert (await api.gql(UNFOLLOW, {"s": store_id}, token=alice))["unfollowStore"]["followerCount"] == before
    assert (await api.gql(MY_FOLLOWS, {"first": 10}, token=alice))["myFollowedStores"]["nodes"] == []


async def test_follows_need_a_shopper(api: ApiStack) -> None:
    store_id = api.data.stores[0].id
    assert await _codes(api, FOLLOW, {"s": store_id}) == ["UNAUTHENTICATED"]
    assert await _codes(api, UNFOLLOW, {"s": store_id}) == ["UNAUTHENTICATED"]
    assert await _codes(api, MY_FOLLOWS, {"first": 5}) == ["UNAUTHENTICATED"]
    admin = await api.login(f"brand-openid-{api.data.brands[0].id}")
    assert await _codes(api, FOLLOW, {"s": store_id}, token=admin) == ["FORBIDDEN"]
    assert await _codes(api, MY_FOLLOWS, {"first": 5}, token=admin) == ["FORBIDDEN"]


async def test_my_followed_stores_latest_first_in_pages(api: ApiStack) -> None:
    token = await api.new_shopper()
    order = [s.id for s in api.data.stores[:3]]
    for store_id in order:
        await api.gql(FOLLOW, {"s": store_id}, token=token)
    first = (await api.gql(MY_FOLLOWS, {"first": 2}, token=token))["myFollowedStores"]
    after = first["pageInfo"]["endCursor"]
    rest = (await api.gql(MY_FOLLOWS, {"first": 2, "after": after}, token=token))["myFollowedStores"]
    ids = [s["id"] for s in first["nodes"] + rest["nodes"]]
    assert sorted(ids) == sorted(order)
    member_id = await api.subject_of(token)
    follows = await api.services.container.documents.find("store_follows", {"member_id": member_id})
    followed_at = {f["store_id"]: f["followed_ms"] for f in follows}
    assert [followed_at[i] for i in ids] == sorted(followed_at.values(), reverse=True)
    assert first["pageInfo"]["hasNextPage"] and not rest["pageInfo"]["hasNextPage"]
    card = first["nodes"][0]
    store = next(s for s in api.data.stores if s.id == card["id"])
    assert card["name"] == store.name and card["mallName"] and card["brandName"]


# ---------------------------------------------------------------- deals


async def _coupon(api: ApiStack, **fields: Any) -> Coupon:
    now = _now()
    base: dict[str, Any] = {
        "title": "测试券", "brand_id": "brand-01", "store_id": None, "mall_id": None, "discount_fen": 1000,
        "min_spend_fen": 1000, "radius_m": 5000, "starts_ms": now - 3_600_000, "ends_ms": now + 3_600_000,
    }  # fmt: skip
    coupon = Coupon.model_validate({**base, **fields})
    await api.services.container.documents.insert_one("coupons", {"_id": coupon.id, **coupon.model_dump()})
    return coupon


async def test_deals_pair_live_nearby_coupons_with_popular_stock(api: ApiStack) -> None:
    await _test_area(api)
    hour, now = 3_600_000, _now()
    # A brand coupon for brand-01 in mall-tp-home (store-tp-1, 3, 5; only store-tp-1 has stock) and a
    # store coupon of store-tp-2; then ones that must not make deals.
    await _coupon(api, id="cpn-tp-brand", mall_id="mall-tp-home", discount_fen=2000, min_spend_fen=0)
    await _coupon(api, id="cpn-tp-store", brand_id="brand-02", store_id="store-tp-2", discount_fen=3000)
    await _coupon(api, id="cpn-tp-past", store_id="store-tp-1", starts_ms=now - 5 * hour, ends_ms=now - hour)
    await _coupon(
        api, id="cpn-tp-future", store_id="store-tp-1", starts_ms=now + hour, ends_ms=now + 5 * hour
    )
    await _coupon(api, id="cpn-tp-exit", store_id="store-tp-1", kind="exit")
    await _coupon(api, id="cpn-tp-gone", store_id="store-tp-1", claimed=1000, total_stock=1000)
    await _coupon(api, id="cpn-tp-short", brand_id="brand-02", store_id="store-tp-2", radius_m=300)
    deals = (await api.gql(DEALS, {"lat": HOME[0], "lng": HOME[1], "first": 50}))["deals"]["nodes"]
    expected = [
        (coupon, store, p.id)
        for coupon, store in (("cpn-tp-brand", "store-tp-1"), ("cpn-tp-store", "store-tp-2"))
        for p in _stocked(api, store)[:2]
    ]
    assert [(d["couponId"], d["store"]["id"], d["product"]["id"]) for d in deals] == expected
    brands = {b.id: b for b in api.data.brands}
    for deal in deals:
        store_id, sku, coupon_id = deal["store"]["id"], deal["product"]["id"], deal["couponId"]
        assert deal["appId"] == brands[deal["store"]["brandId"]].mini_program_app_id
        assert deal["path"] == f"pages/goods/detail?sku={sku}&store={store_id}&coupon={coupon_id}"
        assert "满" in deal["headline"] and "减" in deal["headline"]
        lat, lng = north(TEST_STORES[store_id][0])
        assert abs(deal["distanceM"] - distance_m(HOME[0], HOME[1], lat, lng)) <= 0.5
    product = _stocked(api, "store-tp-1")[0]
    assert f"券后¥{(product.price_fen - 2000) // 100}" in deals[0]["headline"]
    assert (await api.gql(DEALS, {"lat": 0.0, "lng": 0.0, "first": 5}))["deals"]["nodes"] == []


async def test_deals_page_without_overlap_and_refuse_bad_positions(api: ApiStack) -> None:
    await _test_area(api)
    await _coupon(api, id="cpn-tp-brand", mall_id="mall-tp-home", discount_fen=2000, min_spend_fen=0)
    await _coupon(api, id="cpn-tp-store", brand_id="brand-02", store_id="store-tp-2", discount_fen=3000)
    where = {"lat": HOME[0], "lng": HOME[1]}
    everything = [d["id"] for d in (await api.gql(DEALS, {**where, "first": 50}))["deals"]["nodes"]]
    assert len(everything) == 4
    first = (await api.gql(DEALS, {**where, "first": 3}))["deals"]
    after = first["pageInfo"]["endCursor"]
    second = (await api.gql(DEALS, {**where, "first": 3, "after": after}))["deals"]
    assert first["pageInfo"]["hasNextPage"] and not second["pageInfo"]["hasNextPage"]
    assert [d["id"] for d in first["nodes"] + second["nodes"]] == everything
    assert await _codes(api, DEALS, {"lat": 95.0, "lng": 0.0, "first": 2}) == ["INVALID_ARGUMENT"]


# ---------------------------------------------------------------- mall mode


async def test_mall_today_lists_todays_activities_and_live_coupons(api: ApiStack) -> None:
    await _test_area(api)
    docs = api.services.container.documents
    hour, now = 3_600_000, _now()
    for activity_id, starts, ends in (
        ("act-tp-now", now - hour, now + hour),
        ("act-tp-over", now - 3 * hour, now - 2 * hour),
        ("act-tp-next-week", now + 7 * 24 * hour, now + 7 * 24 * hour + hour),
    ):
        activity = Activity(
            id=activity_id, mall_id="mall-tp-north", title="测试市集", description="", starts_ms=starts,
            ends_ms=ends, location="中庭",
        )  # fmt: skip
        await docs.insert_one("activities", {"_id": activity.id, **activity.model_dump()})
    north_mall = "mall-tp-north"
    await _coupon(api, id="cpn-tp-mall-big", mall_id=north_mall, discount_fen=9000)
    await _coupon(api, id="cpn-tp-mall-small", mall_id=north_mall, discount_fen=500)
    await _coupon(api, id="cpn-tp-mall-old", mall_id=north_mall, starts_ms=now - 5 * hour, ends_ms=now - hour)
    await _coupon(api, id="cpn-tp-mall-exit", mall_id=north_mall, kind="exit")
    await _coupon(api, id="cpn-tp-mall-gone", mall_id=north_mall, discount_fen=100, claimed=5, total_stock=5)
    today = (await api.gql(MALL_TODAY, {"m": north_mall}))["mallToday"]
    assert today["mall"]["id"] == north_mall
    assert [a["id"] for a in today["activities"]["nodes"]] == ["act-tp-now"]
    assert [(c["id"], c["remainingStock"] == 0) for c in today["coupons"]["nodes"]] == [
        ("cpn-tp-mall-big", False), ("cpn-tp-mall-small", False), ("cpn-tp-mall-gone", True),
    ]  # fmt: skip
    seeded = (await api.gql(MALL_TODAY, {"m": "mall-01"}))["mallToday"]
    assert {s["store"]["id"] for s in seeded["stores"]["nodes"]} == {
        s.id for s in api.data.stores if s.mall_id == "mall-01"
    }
    assert await _codes(api, MALL_TODAY, {"m": "mall-nope"}) == ["NOT_FOUND"]


async def test_mall_today_stores_follow_the_shoppers_live_interests(api: ApiStack) -> None:
    anonymous = (await api.gql(MALL_TODAY, {"m": "mall-01"}))["mallToday"]["stores"]["nodes"]
    assert len(anonymous) >= 2
    scores = [s["score"] for s in anonymous]
    assert scores == sorted(scores, reverse=True) and all(s["reason"] for s in anonymous)
    underdog = anonymous[-1]["store"]["id"]
    others = {s["store"]["id"] for s in anonymous[:-1]}
    carried: dict[str, set[str]] = {}
    for product in api.data.products:
        for level in product.stock:
            if level.qty > 0:
                carried.setdefault(level.store_id, set()).add(product.category)
    favourite = sorted(carried[underdog] - set().union(*(carried[s] for s in others)))[0]
    token = await api.new_shopper()
    assert (await api.gql(MALL_TODAY, {"m": "mall-01"}, token=token))["mallToday"]["stores"][
        "nodes"
    ] == anonymous
    writer = RedisFeatureWriter(api.settings.kv_url)
    try:
        member_id = await api.subject_of(token)
        features = SubjectFeatures(
            subject_id=f"u:{member_id}", ts_ms=_now(), category_scores={favourite: 3.0}
        )
        writer.write([features])
    finally:
        writer.close()
    personal = (await api.gql(MALL_TODAY, {"m": "mall-01"}, token=token))["mallToday"]["stores"]["nodes"]
    assert personal[0]["store"]["id"] == underdog
    assert favourite in personal[0]["reason"]
    stranger = await api.new_shopper()
    assert (await api.gql(MALL_TODAY, {"m": "mall-01"}, token=stranger))["mallToday"]["stores"][
        "nodes"
    ] == anonymous


# ---------------------------------------------------------------- the directory, not the documents


async def test_pages_read_the_directory_and_one_query_per_list(api: ApiStack) -> None:
    await _test_area(api)
    token = await api.new_shopper()
    for store_id in ("store-tp-1", "store-tp-2", "store-tp-3"):
        await api.gql(FOLLOW, {"s": store_id}, token=token)
    current = "query($lat: Float!, $lng: Float!) { currentMall(lat: $lat, lng: $lng) { id } }"
    here = {"lat": HOME[0], "lng": HOME[1]}
    with _reads(api) as calls:
        assert len((await api.gql(NEARBY_STORES, {**here, "first": 10}))["nearbyStores"]["edges"]) == 5
        assert len((await api.gql(NEARBY_MALLS, {**here, "first": 10}))["nearbyMalls"]["nodes"]) == 3
        assert (await api.gql(current, here))["currentMall"]["id"] == "mall-tp-home"
    assert calls == []
    with _reads(api) as calls:
        follows = (await api.gql(MY_FOLLOWS, {"first": 10}, token=token))["myFollowedStores"]["nodes"]
    assert len(follows) == 3 and calls == ["find:store_follows"]
    store = api.data.stores[0]
    lat, lng = _seed_mall(api, store.mall_id)
    with _reads(api) as calls:
        page = (await api.gql(STORE, {"id": store.id, "lat": lat, "lng": lng}, token=token))["store"]
    assert page["staff"]["nodes"] and page["posts"]["nodes"]
    # the posts, the follower count and the shopper's own follow; staff, names and products from memory
    assert sorted(calls) == ["count:store_follows", "find:staff_posts", "find_one:store_follows"]
    with _reads(api) as calls:
        await api.gql(DEALS, {"lat": lat, "lng": lng, "first": 10})
    assert calls == ["find:coupons"]
    with _reads(api) as calls:
        await api.gql(MALL_TODAY, {"m": store.mall_id})
    assert calls == ["find:activities"]  # its coupons are the coupons service's: one query, as nearby


async def test_a_cheap_refresh_sees_a_new_store_and_keeps_stock(api: ApiStack) -> None:
    await _test_area(api)
    lat, lng = north(0.0, east=30_000.0)  # far from every other test store
    store = Store(
        id="store-tp-new", name="新开的店", brand_id="brand-02", mall_id="mall-tp-home", floor="B1",
        location=GeoPoint.at(lat=lat, lng=lng), services=["delivery"],
    )  # fmt: skip
    await api.services.container.documents.insert_one(
        "stores", {"_id": store.id, **store.model_dump(mode="json")}
    )
    near = {"lat": lat, "lng": lng, "r": 50, "first": 10}
    assert (await api.gql(NEARBY_STORES, near))["nearbyStores"]["edges"] == []  # not in the directory yet
    await api.services.places.refresh()
    assert [e["node"]["id"] for e in (await api.gql(NEARBY_STORES, near))["nearbyStores"]["edges"]] == [
        "store-tp-new"
    ]
    products = "query($id: String!) { store(id: $id) { products(first: 20) { nodes { id } } } }"
    stocked = (await api.gql(products, {"id": "store-tp-1"}))["store"]["products"]["nodes"]
    assert [p["id"] for p in stocked] == [p.id for p in _stocked(api, "store-tp-1")]
