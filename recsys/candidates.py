"""Where candidates come from besides vector search, and how strongly each source vouches for an item.

Each source is a small generator of `sku → strength in [0, 1]`; the pool merges them and the ranker adds
`Weights` × strength per source to the personal score, so a staff pick or a trending item can rise in a
list without pushing strong personal interest out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum


class Source(StrEnum):
    POPULAR = "popular"
    TRENDING = "trending"
    STAFF_PICK = "staff_pick"
    DEAL = "deal"


REASONS: dict[Source, str] = {
    Source.STAFF_PICK: "店员推荐",
    Source.TRENDING: "本场正在热卖",
    Source.DEAL: "有券可用",
}
"""What a shopper is told about an item only a source vouches for (most specific first); a source may
give a more precise text per item (a deal names its coupon)."""


@dataclass(frozen=True)
class Deal:
    """A live coupon usable at a store: 满 `min_spend_fen` 减 `discount_fen`."""

    title: str
    min_spend_fen: int
    discount_fen: int


def deal_strengths(prices: Mapping[str, int], deal: Deal, *, top: int) -> dict[str, float]:
    """The `top` items the coupon makes relatively cheapest on their own (price ≥ its minimum spend),
    strongest 1.0: a candidate source that surfaces what a coupon really discounts."""
    saving = {
        sku: deal.discount_fen / price
        for sku, price in prices.items()
        if price > 0 and price >= deal.min_spend_fen and deal.discount_fen > 0
    }
    chosen = sorted(saving, key=lambda sku: (-saving[sku], sku))[:top]
    return by_share({sku: saving[sku] for sku in chosen})


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
        self._texts: dict[tuple[str, Source], str] = {}

    def add(self, source: Source, strengths: Mapping[str, float], *, text: str | None = None) -> None:
        """`text`: what to tell a shopper about these items instead of the source's usual reason."""
        for sku, strength in strengths.items():
            self._strengths.setdefault(sku, {})[source] = strength
            if text:
                self._texts[(sku, source)] = text

    @property
    def skus(self) -> list[str]:
        return list(self._strengths)

    def strength(self, sku: str, source: Source) -> float:
        return self._strengths.get(sku, {}).get(source, 0.0)

    def reason(self, sku: str) -> str | None:
        sources = self._strengths.get(sku, {})
        return next(
            (self._texts.get((sku, source), text) for source, text in REASONS.items() if source in sources),
            None,
        )
