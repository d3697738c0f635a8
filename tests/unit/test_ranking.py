from __future__ import annotations

import numpy as np

from guang.domain.features import LastDwell, SubjectFeatures
from guang.services.catalog import CatalogProduct, CatalogZone
from recsys.ranking import Weights, blend_interest, query_vector, reason, score

NOW = 1_790_000_000_000


def product(pid: str, category: str, popularity: int = 0) -> CatalogProduct:
    return CatalogProduct(pid, int(pid[-1]), pid, category, "b1", "品牌", "all", 19900, popularity)


def person(
    subject: str, categories: dict[str, float], ts: int = NOW, dwell: LastDwell | None = None
) -> SubjectFeatures:
    return SubjectFeatures(subject_id=subject, ts_ms=ts, category_scores=categories, last_dwell=dwell)


def test_the_newest_person_counts_most_in_a_group() -> None:
    interest = blend_interest(
        [person("v:new", {"外套": 1.0}), person("v:old", {"牛仔裤": 1.0}, ts=NOW - 1000)],
        now_ms=NOW,
        half_life_s=600,
    )
    assert interest.categories["外套"] > interest.categories["牛仔裤"] > 0
    assert abs(sum(interest.categories.values()) - 1.0) < 1e-9


def test_interest_outranks_popularity_and_the_taste_vector_follows_it() -> None:
    interest = blend_interest([person("v:1", {"外套": 3.0})], now_ms=NOW, half_life_s=600)
    coat, jeans = product("sku-1", "外套"), product("sku-2", "牛仔裤", popularity=100)
    assert score(coat, 0.5, interest, 100, Weights()) > score(jeans, 0.5, interest, 100, Weights())
    centroids = {"外套": np.array([1.0, 0.0]), "牛仔裤": np.array([0.0, 1.0])}
    vector = query_vector(interest, centroids)
    assert vector is not None and np.allclose(vector, [1.0, 0.0])


def test_reasons_name_the_shelf_then_the_interest_then_the_store() -> None:
    zones = {"z1": CatalogZone("z1", "s1", "牛仔裤区", "牛仔裤")}
    shopper = person("v:1", {"牛仔裤": 1.0, "外套": 0.5}, dwell=LastDwell("s1", "z1", "牛仔裤", 40_400))
    assert reason(product("sku-1", "牛仔裤"), [shopper], zones) == "因为你在牛仔裤区停留了40秒"
    assert reason(product("sku-2", "外套"), [shopper], zones) == "你最近关注外套"
    assert reason(product("sku-3", "跑鞋"), [shopper], zones) == "本店热销"
