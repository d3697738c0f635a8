"""Top-k metrics for next-basket recommendation.

recall@k = |top-k ∩ held-out| / |held-out| (the plain denominator, the same for every method; a basket
larger than k cannot reach 1). NDCG@k with binary gains, the ideal list putting min(k, |held-out|) hits
first. Coverage = share of the catalogue recommended to at least one user.
"""

from __future__ import annotations

import math
from collections.abc import Sequence, Set
from dataclasses import dataclass


@dataclass(frozen=True)
class Scores:
    recall: float
    ndcg: float
    coverage: float
    users: int


def recall_at_k(recommended: Sequence[int], held_out: Set[int], k: int) -> float:
    if not held_out:
        return 0.0
    return len(set(recommended[:k]) & held_out) / len(held_out)


def ndcg_at_k(recommended: Sequence[int], held_out: Set[int], k: int) -> float:
    if not held_out:
        return 0.0
    dcg = sum(1.0 / math.log2(rank + 2) for rank, item in enumerate(recommended[:k]) if item in held_out)
    ideal = sum(1.0 / math.log2(rank + 2) for rank in range(min(k, len(held_out))))
    return dcg / ideal


def coverage(recommendations: Sequence[Sequence[int]], n_items: int, k: int) -> float:
    if n_items <= 0:
        return 0.0
    return len({item for recs in recommendations for item in recs[:k]}) / n_items


def score(
    recommendations: Sequence[Sequence[int]], held_out: Sequence[Set[int]], *, n_items: int, k: int
) -> Scores:
    """Mean recall@k and NDCG@k over users, and catalogue coverage."""
    if len(recommendations) != len(held_out):
        raise ValueError("one recommendation list per held-out basket")
    n = len(held_out)
    return Scores(
        recall=sum(recall_at_k(r, t, k) for r, t in zip(recommendations, held_out, strict=True)) / max(n, 1),
        ndcg=sum(ndcg_at_k(r, t, k) for r, t in zip(recommendations, held_out, strict=True)) / max(n, 1),
        coverage=coverage(recommendations, n_items, k),
        users=n,
    )
