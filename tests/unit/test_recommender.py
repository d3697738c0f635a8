"""The recommender's choices with in-memory fakes of the feature store and the vector index."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

import numpy as np
import pytest

from guang.adapters.ports import Progress, StoreChange, VectorHit, VectorPoint, VectorQuery
from guang.domain.features import LastDwell, ShopperHistory, SubjectFeatures
from guang.services.catalog import Catalog, CatalogProduct, CatalogStore, CatalogZone
from recsys.candidates import Deal, deal_strengths
from recsys.models import Audience, Surface
from recsys.ranking import weights_by_surface
from recsys.service import Recommender

CATEGORIES = {"牛仔裤": np.array([1.0, 0.0]), "外套": np.array([0.0, 1.0])}


class FakeVectors:
    """Exact cosine search over a handful of points, honouring the store and category filters."""

    def __init__(self, points: list[VectorPoint]) -> None:
        self.points = points

    def ensure_collection(self, dim: int) -> None: ...
    def upsert(self, points: Sequence[VectorPoint], progress: Progress | None = None) -> None: ...
    def count(self) -> int:
        return len(self.points)

    def optimize(self) -> None: ...
    def close(self) -> None: ...

    def search_many(self, queries: Sequence[VectorQuery]) -> list[list[VectorHit]]:
        results = []
        for q in queries:
            ok = [
                p for p in self.points
                if (not q.filter.store_id or q.filter.store_id in p.payload["store_ids"])
                and (not q.filter.categories or p.payload["category"] in q.filter.categories)
            ]  # fmt: skip
            scored = sorted(ok, key=lambda p: -float(np.dot(p.vector, q.vector)))[: q.limit]
            results.append([VectorHit(p.id, float(np.dot(p.vector, q.vector)), p.payload) for p in scored])
        return results


class FakeFeatures:
    def __init__(
        self,
        present: list[SubjectFeatures],
        best: list[str],
        history: ShopperHistory | None = None,
        trending: dict[str, float] | None = None,
    ) -> None:
        self.present, self.best, self.history = present, best, history or ShopperHistory()
        self.hot = trending or {}

    async def trending(self, mall_id: str, *, top: int) -> dict[str, float]:
        return dict(sorted(self.hot.items(), key=lambda kv: -kv[1])[:top])

    async def subjects(self, subject_ids: Sequence[str]) -> list[SubjectFeatures]:
        return [f for f in self.present if f.subject_id in subject_ids]

    async def audience(
        self, subject_ids: Sequence[str], *, surface: str, day: str
    ) -> tuple[list[SubjectFeatures], ShopperHistory]:
        return await self.subjects(subject_ids), self.history

    async def store_context(
        self, store_id: str, *, since_ms: int, people: int, best: int, surface: str, day: str
    ) -> tuple[list[SubjectFeatures], list[str], ShopperHistory]:
        present = [f for f in self.present if f.ts_ms >= since_ms][:people]
        return present, self.best[:best], self.history

    async def set_store_best(self, best: Mapping[str, Mapping[str, float]]) -> None: ...
    async def replace_face_consents(self, member_ids: Sequence[str]) -> None: ...
    async def store_changes(self) -> AsyncIterator[StoreChange]:
        return
        yield

    async def ping(self) -> bool:
        return True

    async def close(self) -> None: ...


def catalog_and_vectors() -> tuple[Catalog, FakeVectors]:
    products, points = [], []
    for n in range(1, 21):
        category = "牛仔裤" if n % 2 else "外套"
        in_store = ["s1"] if n <= 16 else ["s2"]
        products.append(
            CatalogProduct(f"sku-{n:06d}", n, f"商品{n}", category, "b1", "品牌", "all", 9900, 100 - n)
        )
        jitter = np.array([0.05 * n, 0.0]) if category == "外套" else np.array([0.0, 0.05 * n])
        vector = CATEGORIES[category] + jitter
        points.append(VectorPoint(n, (vector / np.linalg.norm(vector)).tolist(),
                                  {"category": category, "store_ids": in_store}))  # fmt: skip
    catalog = Catalog(
        products,
        [CatalogStore("s1", "店一", "b1", "m1")],
        [CatalogZone("z-coat", "s1", "外套区", "外套")],
        CATEGORIES,
    )
    return catalog, FakeVectors(points)


def recommender(
    present: list[SubjectFeatures],
    best: list[str],
    *,
    trending: dict[str, float] | None = None,
    picks: dict[str, list[str]] | None = None,
) -> Recommender:
    catalog, vectors = catalog_and_vectors()

    async def staff_picks() -> Mapping[str, Sequence[str]]:
        return picks or {}

    return Recommender(
        catalog=catalog,
        features=FakeFeatures(present, best, trending=trending),
        vectors=vectors,
        half_life_s=600,
        presence_window_s=120,
        staff_picks=staff_picks,
    )


async def test_nobody_known_shows_the_store_best_sellers() -> None:
    recs = await recommender([], best=["sku-000003", "sku-000001"]).for_store("s1", limit=6)
    assert recs.audience is Audience.STORE_BEST
    assert [i.product.id for i in recs.items] == ["sku-000001", "sku-000003"]
    assert all(i.reason == "本店热销" for i in recs.items)


async def test_a_shopper_at_the_coat_wall_gets_coats_in_stock_here_with_the_reason() -> None:
    shopper = SubjectFeatures(
        subject_id="v:1",
        ts_ms=int(time.time() * 1000),
        category_scores={"外套": 4.0},
        last_dwell=LastDwell("s1", "z-coat", "外套", 40_000),
        store_id="s1",
        last_event_id="e9",
    )
    recs = await recommender([shopper], best=["sku-000001"]).for_store("s1", limit=6)
    assert recs.audience is Audience.PERSONAL and recs.cause_event_id == "e9"
    assert len(recs.items) == 6
    assert {i.product.category for i in recs.items} == {"外套"}
    assert all(int(i.product.id[-2:]) <= 16 for i in recs.items), "only items in stock at this store"
    assert recs.items[0].reason == "因为你在外套区停留了40秒"
    assert recs.rec_id.startswith("rec_")


async def test_what_the_shopper_bought_or_was_shown_too_often_today_is_left_out() -> None:
    shopper = SubjectFeatures(
        subject_id="u:m1", ts_ms=int(time.time() * 1000), category_scores={"外套": 4.0}, store_id="s1"
    )
    catalog, vectors = catalog_and_vectors()
    everything = await recommender([shopper], best=[]).for_store("s1", limit=8)
    first, second = everything.items[0].product.id, everything.items[1].product.id
    history = ShopperHistory(bought=frozenset({first}), shown_today={second: 3})
    features = FakeFeatures([shopper], [], history)
    ruled = Recommender(
        catalog=catalog, features=features, vectors=vectors, half_life_s=600, presence_window_s=120
    )
    ids = [item.product.id for item in (await ruled.for_store("s1", limit=8)).items]
    assert first not in ids and second not in ids and len(ids) == 8


async def test_a_staff_pick_and_a_mall_trend_rise_among_the_best_sellers_with_their_reasons() -> None:
    best = [f"sku-{n:06d}" for n in range(1, 9)]
    recs = await recommender(
        [], best, trending={"sku-000007": 40.0, "sku-000003": 10.0}, picks={"s1": ["sku-000008"]}
    ).for_store("s1", limit=4)
    reasons = {item.product.id: item.reason for item in recs.items}
    assert reasons["sku-000008"] == "店员推荐"
    assert reasons["sku-000007"] == "本场正在热卖"
    assert recs.items[0].product.id in {"sku-000007", "sku-000008"}, "a vouched-for item leads equals"


async def test_weights_per_surface_and_a_brand_boost_come_from_settings() -> None:
    catalog, vectors = catalog_and_vectors()
    best = [f"sku-{n:06d}" for n in range(1, 9)]

    def build(**settings: Any) -> Recommender:
        features = FakeFeatures([], best)
        return Recommender(
            catalog=catalog, features=features, vectors=vectors, half_life_s=600, presence_window_s=120,
            **settings,
        )  # fmt: skip

    async def top_score(r: Recommender, surface: Surface) -> float:
        return (await r.for_store("s1", limit=3, surface=surface)).items[0].score

    plain, tuned = build(), build(surface_weights=weights_by_surface({"SCREEN": {"popularity": 0.0}}))
    assert await top_score(tuned, Surface.SCREEN) < await top_score(plain, Surface.SCREEN)
    assert await top_score(tuned, Surface.FEED) == await top_score(plain, Surface.FEED)
    boosted = build(brand_boosts={"b1": 1.0})
    assert await top_score(boosted, Surface.SCREEN) == pytest.approx(
        await top_score(plain, Surface.SCREEN) + 1.0
    )
    with pytest.raises(ValueError, match="unknown ranking weight"):
        weights_by_surface({"SCREEN": {"popularityy": 0.1}})


async def test_a_live_coupon_lifts_the_item_it_discounts_most_with_the_coupon_as_reason() -> None:
    plain, vectors = catalog_and_vectors()
    prices = {"sku-000005": 12_000, "sku-000007": 30_000}
    products = [
        dataclasses.replace(p, price_fen=prices.get(p.id, p.price_fen)) for p in plain.products.values()
    ]
    catalog = Catalog(products, list(plain.stores.values()), list(plain.zones.values()), plain.centroids)
    stocked = {"s1": [f"sku-{n:06d}" for n in range(1, 17)]}

    async def in_stock() -> Mapping[str, Sequence[str]]:
        return stocked

    async def deals() -> Mapping[str, Deal]:
        return {"s1": Deal(title="满100减20", min_spend_fen=10_000, discount_fen=2_000)}

    best = FakeFeatures([], ["sku-000001", "sku-000002", "sku-000003"])
    recommender = Recommender(
        catalog=catalog, features=best, vectors=vectors, half_life_s=600, presence_window_s=120,
        in_stock=in_stock, deals=deals,
    )  # fmt: skip
    reasons = {i.product.id: i.reason for i in (await recommender.for_store("s1", limit=6)).items}

    assert reasons["sku-000005"] == "可用券：满100减20", "¥120 with ¥20 off: the biggest saving for its price"
    assert deal_strengths({"a": 12_000, "b": 30_000, "c": 9_900}, Deal("", 10_000, 2_000), top=5) == {
        "a": 1.0,
        "b": pytest.approx(0.4),
    }, "an item below the minimum spend is not discounted on its own"
