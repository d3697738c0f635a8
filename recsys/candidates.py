"""Where candidates come from besides vector search, and how strongly each source vouches for an item.

Each source is a small generator of `sku → strength in [0, 1]`; the pool merges them and the ranker adds
`Weights` × strength per source to the personal score, so a staff pick or a trending item can rise in a
list without pushing strong personal interest out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum


class Source(StrEnum):
    POPULAR = "popular"
    TRENDING = "trending"
    STAFF_PICK = "staff_pick"


REASONS: dict[Source, str] = {Source.STAFF_PICK: "店员推荐", Source.TRENDING: "本场正在热卖"}
"""What a shopper is told about an item only a source vouches for (most specific first)."""


def by_rank(skus: Sequence[str]) -> dict[str, float]:
    """First 1.0, then evenly down towards 0: for sources that only order their items."""
    n = len(skus)
    return {sku: 1.0 - i / n for i, sku in enumerate(skus)} if n else {}


def by_share(scores: Mapping[str, float]) -> dict[str, float]:
    """Scaled so the strongest is 1.0: for sources with counts (trending, bought together)."""
    top = max(scores.values(), default=0.0)
    return {sku: value / top for sku, value in scores.items()} if top > 0 else {}


class Pool:
    def __init__(self) -> None:
        self._strengths: dict[str, dict[Source, float]] = {}

    def add(self, source: Source, strengths: Mapping[str, float]) -> None:
        for sku, strength in strengths.items():
            self._strengths.setdefault(sku, {})[source] = strength

    @property
    def skus(self) -> list[str]:
        return list(self._strengths)

    def strength(self, sku: str, source: Source) -> float:
        return self._strengths.get(sku, {}).get(source, 0.0)

    def reason(self, sku: str) -> str | None:
        sources = self._strengths.get(sku, {})
        return next((text for source, text in REASONS.items() if source in sources), None)
