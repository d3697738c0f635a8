"""Fast checks of the deterministic seed generator at a tiny scale."""

from __future__ import annotations

from collections import defaultdict

import pytest

from guang.seed.generator import SeedData, generate

SCALE = 0.02


@pytest.fixture(scope="module")
def data() -> SeedData:
    """One small data set shared by the tests."""
    return generate(seed=7, scale=SCALE)


def test_same_seed_same_output_and_other_seed_differs(data: SeedData) -> None:
    """Generation depends only on seed, scale and now_ms."""
    again = generate(seed=7, scale=SCALE)
    for name in data.counts():
        assert getattr(again, name) == getattr(data, name), name
    other = generate(seed=8, scale=SCALE)
    assert [p.name for p in other.products] != [p.name for p in data.products]


def test_small_scale_sizes(data: SeedData) -> None:
    """The floors hold: a handful of stores and brands, ~1,500 products."""
    counts = data.counts()
    assert counts["cities"] >= 2 and counts["malls"] >= 2
    assert counts["brands"] == 3 and counts["stores"] == 4
    assert 1_000 <= counts["products"] <= 2_000
    assert counts["members"] >= 50 and counts["devices"] == 3 * counts["stores"]


def test_stores_carry_400_to_500_of_their_own_brand(data: SeedData) -> None:
    """Every store stocks 400–500 SKUs, all of its own brand, with qty in 0..50."""
    brand_of_store = {s.id: s.brand_id for s in data.stores}
    carried: dict[str, int] = defaultdict(int)
    for product in data.products:
        for level in product.stock:
            assert product.brand_id == brand_of_store[level.store_id]
            assert 0 <= level.qty <= 50
            carried[level.store_id] += 1
    assert all(400 <= carried[s.id] <= 500 for s in data.stores)


def test_zones_list_in_stock_skus_of_their_category(data: SeedData) -> None:
    """Each store has 4–6 zones; zone SKUs are in stock in that store and of the zone's category."""
    products = {p.id: p for p in data.products}
    zones_per_store: dict[str, int] = defaultdict(int)
    tills = [zone for zone in data.zones if zone.kind == "till"]
    assert sorted(z.store_id for z in tills) == sorted(s.id for s in data.stores)
    for zone in data.zones:
        if zone.kind == "till":
            continue
        zones_per_store[zone.store_id] += 1
        assert 0 < len(zone.sku_ids) <= 12
        for sku in zone.sku_ids:
            product = products[sku]
            assert product.category == zone.category
            assert any(lv.store_id == zone.store_id and lv.qty > 0 for lv in product.stock)
    assert all(4 <= zones_per_store[s.id] <= 6 for s in data.stores)


def test_ids_unique_and_references_resolve(data: SeedData) -> None:
    """Ids are unique per collection and orders, posts and articles point at existing things."""
    for name in data.counts():
        ids = [item.id for item in getattr(data, name)]
        assert len(ids) == len(set(ids)), name
    products = {p.id for p in data.products}
    members = {m.id for m in data.members}
    for order in data.orders:
        assert order.member_id in members and all(it.sku_id in products for it in order.items)
        assert order.amount_fen == sum(it.qty * it.price_fen for it in order.items)
    for post in data.staff_posts:
        assert set(post.product_ids) <= products
    for article in data.articles:
        assert set(article.product_ids) <= products
