"""Pure ranking: blend the interests of whoever is present, score candidates, explain the choice."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace

import numpy as np

from guang.domain.features import SubjectFeatures, decay_factor, decayed
from guang.services.catalog import CatalogProduct, CatalogZone

RECENCY_WEIGHTS = (1.0, 0.5, 0.25)


@dataclass(frozen=True)
class Weights:
    similarity: float = 0.35
    category: float = 1.0
    sku: float = 0.5
    popularity: float = 0.05
    trending: float = 0.15
    staff_pick: float = 0.12
    deal: float = 0.08
    """Items a live coupon makes relatively cheapest (see candidates.deal_strengths)."""
    season: float = 0.05
    """In season now; all-season items get half."""


def weights_by_surface(overrides: Mapping[str, Mapping[str, float]]) -> dict[str, Weights]:
    """Per-surface weights from settings (`{"SCREEN": {"popularity": 0.1}}`): the defaults with the named
    ones replaced. An unknown weight name is an error at start-up, not a silently ignored setting."""
    known = {f.name for f in fields(Weights)}
    by_surface = {}
    for surface, changes in overrides.items():
        unknown = set(changes) - known
        if unknown:
            raise ValueError(f"unknown ranking weight(s) for {surface}: {', '.join(sorted(unknown))}")
        by_surface[surface] = replace(Weights(), **changes)
    return by_surface


@dataclass(frozen=True)
class Interest:
    """Interest of the audience, each score map normalised to sum 1."""

    categories: dict[str, float]
    skus: dict[str, float]

    @property
    def empty(self) -> bool:
        return not self.categories and not self.skus


def _normalised(scores: Mapping[str, float]) -> dict[str, float]:
    total = sum(scores.values())
    return {k: v / total for k, v in scores.items()} if total > 0 else {}


def blend_interest(audience: Sequence[SubjectFeatures], *, now_ms: int, half_life_s: float) -> Interest:
    """Newest person counts most; each person's scores are decayed to now."""
    categories: dict[str, float] = {}
    skus: dict[str, float] = {}
    for person, weight in zip(audience, RECENCY_WEIGHTS, strict=False):
        factor = decay_factor(now_ms - person.ts_ms, half_life_s)
        for source, target in ((person.category_scores, categories), (person.sku_scores, skus)):
            for key, value in _normalised(decayed(source, factor, floor=0.0)).items():
                target[key] = target.get(key, 0.0) + weight * value
    return Interest(_normalised(categories), _normalised(skus))


def query_vector(interest: Interest, centroids: Mapping[str, np.ndarray]) -> np.ndarray | None:
    """A taste vector: the interest-weighted mean of category centroids."""
    parts = [centroids[c] * w for c, w in interest.categories.items() if c in centroids]
    if not parts:
        return None
    vector = np.sum(parts, axis=0)
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else None


def score(
    product: CatalogProduct, similarity: float, interest: Interest, max_popularity: int, w: Weights
) -> float:
    return (
        w.similarity * similarity
        + w.category * interest.categories.get(product.category, 0.0)
        + w.sku * interest.skus.get(product.id, 0.0)
        + w.popularity * (product.popularity / max_popularity if max_popularity else 0.0)
    )


def reason(
    product: CatalogProduct,
    audience: Sequence[SubjectFeatures],
    zones: Mapping[str, CatalogZone],
    *,
    otherwise: str = "本店热销",
) -> str:
    """A short reason a shopper understands, from the most specific signal that applies."""
    for person in audience:
        last = person.last_dwell
        if last is not None and last.category == product.category:
            zone = zones.get(last.zone_id)
            place = zone.name if zone else f"{last.category}区"
            return f"因为你在{place}停留了{max(1, round(last.dwell_ms / 1000))}秒"
    for person in audience:
        if product.id in person.sku_scores:
            return "你刚刚看过这件"
        if product.category in person.category_scores:
            return f"你最近关注{product.category}"
    return otherwise


SEASONS_BY_MONTH = ("冬季",) * 2 + ("春季",) * 3 + ("夏季",) * 3 + ("秋季",) * 3 + ("冬季",)
ALL_SEASONS = "四季"


def season_of(ts_ms: int) -> str:
    """The season in China (UTC+8) at `ts_ms`, as the catalog spells it."""
    month = time.gmtime(ts_ms / 1000 + 8 * 3600).tm_mon
    return SEASONS_BY_MONTH[month - 1]


def season_fit(product: CatalogProduct, season: str) -> float:
    return 1.0 if product.season == season else 0.5 if product.season == ALL_SEASONS else 0.0
