"""Business rules applied after scoring: nothing already bought (unless it runs out), nothing shown too
often today on this surface, and no single category or brand crowding the top of the list."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from guang.services.catalog import CatalogProduct

Scored = tuple[CatalogProduct, float]

REPLENISHABLE = frozenset({"咖啡豆", "茶叶", "坚果礼盒", "零食", "饮料", "精华", "面霜", "洁面", "防晒"})


@dataclass(frozen=True)
class RuleConfig:
    daily_cap: int = 3
    """Impressions of one item to one subject on one surface per day."""
    category_penalty: float = 0.12
    brand_penalty: float = 0.08
    replenishable: frozenset[str] = REPLENISHABLE


def drop_bought(ranked: Sequence[Scored], bought: set[str], config: RuleConfig) -> list[Scored]:
    return [(p, s) for p, s in ranked if p.id not in bought or p.category in config.replenishable]


def drop_capped(ranked: Sequence[Scored], shown_today: Mapping[str, int], config: RuleConfig) -> list[Scored]:
    return [(p, s) for p, s in ranked if shown_today.get(p.id, 0) < config.daily_cap]


def diversify(ranked: Sequence[Scored], k: int, config: RuleConfig) -> list[Scored]:
    """Greedy re-rank: each pick lowers the score of the rest of its category and brand a little,
    so strong interest still leads while the tail of the list shows variety."""
    pool = list(ranked)
    picked: list[Scored] = []
    per_category: dict[str, int] = {}
    per_brand: dict[str, int] = {}
    while pool and len(picked) < k:

        def adjusted(item: Scored) -> float:
            product, score = item
            return (
                score
                - config.category_penalty * per_category.get(product.category, 0)
                - config.brand_penalty * per_brand.get(product.brand_id, 0)
            )

        best = max(pool, key=adjusted)
        pool.remove(best)
        picked.append((best[0], adjusted(best)))
        per_category[best[0].category] = per_category.get(best[0].category, 0) + 1
        per_brand[best[0].brand_id] = per_brand.get(best[0].brand_id, 0) + 1
    return picked
