"""Baselines: popularity, repeat-purchase and item-kNN on co-purchases.

Ties are broken towards the lower item index (the item seen first in the data), so lists are exact.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from recsys.evaluation.data import Basket
from recsys.evaluation.signals import Signals


def popularity(signals: Signals, *, k: int) -> list[int]:
    """The k items in most baskets, the same list for everyone."""
    return [int(i) for i in signals.popular[:k]]


def purchase_counts(history: Sequence[Basket]) -> tuple[dict[int, int], dict[int, int]]:
    """Per item the user bought: baskets containing it, and the index of the newest such basket."""
    counts: dict[int, int] = {}
    last: dict[int, int] = {}
    for n, basket in enumerate(history):
        for item in basket.items:
            counts[item] = counts.get(item, 0) + 1
            last[item] = n
    return counts, last


def repeat_purchase(history: Sequence[Basket], *, k: int) -> list[int]:
    """The user's own most frequently bought items; ties go to the most recently bought."""
    counts, last = purchase_counts(history)
    return sorted(counts, key=lambda i: (-counts[i], -last[i], i))[:k]


def item_knn(history: Sequence[Basket], signals: Signals, *, k: int) -> list[int]:
    """Items most similar to the user's purchases: Σ over bought items of count × cosine co-purchase.

    An item is not its own neighbour, but items the user already bought may be recommended again.
    """
    counts, _ = purchase_counts(history)
    if not counts:
        return []
    items = np.fromiter(counts, dtype=np.int64)
    weights = np.fromiter(counts.values(), dtype=np.float64)
    scores = np.asarray(signals.cosine[items].T @ weights).ravel()
    ranked = np.lexsort((np.arange(len(scores)), -scores))
    return [int(i) for i in ranked[:k] if scores[i] > 0]
