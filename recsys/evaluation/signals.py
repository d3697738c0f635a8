"""Shared statistics over everyone's history: the offline twins of the live Redis signals.

Popularity (orders containing an item), buyers per item, and co-purchase counts between items (the live
`f:sku:*:co` sorted sets), with a cosine-normalised copy for item-kNN.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from recsys.evaluation.data import Basket


@dataclass(frozen=True)
class Signals:
    orders: np.ndarray
    """Per item: baskets that contain it."""
    buyers: np.ndarray
    """Per item: distinct users who bought it."""
    co: sp.csr_matrix
    """Item × item: baskets that contain both (diagonal 0)."""
    cosine: sp.csr_matrix
    """`co` / sqrt(orders_i · orders_j)."""
    popular: np.ndarray
    """Item indices, most ordered first (ties: lower index first)."""
    again_next: np.ndarray
    """Per item: share of its purchases (but a user's newest basket) followed by one in the next basket."""
    tastes: sp.csr_matrix
    """User (position in the histories) × item: recency-decayed purchase counts, rows of unit length."""

    def neighbours(self, user: int, *, k: int) -> np.ndarray:
        """Per item: Σ over the k users most like `user` (cosine of tastes) of similarity × their taste."""
        me = self.tastes[user]
        similarity = np.asarray((self.tastes @ me.T).todense()).ravel()
        similarity[user] = 0.0
        if k < len(similarity):
            similarity[np.argpartition(-similarity, k)[k:]] = 0.0
        return np.asarray(self.tastes.T @ similarity).ravel()

    @property
    def repeat_share(self) -> np.ndarray:
        """Per item: share of its purchases that were a user buying it again."""
        return np.divide(
            self.orders - self.buyers, self.orders, out=np.zeros(len(self.orders)), where=self.orders > 0
        )


def build_signals(histories: Sequence[Sequence[Basket]], n_items: int) -> Signals:
    """Statistics over the given baskets only (never the held-out ones)."""
    rows: list[int] = []
    cols: list[int] = []
    user_cols: list[int] = []
    followed = np.zeros(n_items)
    chances = np.zeros(n_items)
    n_baskets = 0
    for baskets in histories:
        bought: set[int] = set()
        for k, basket in enumerate(baskets):
            if k + 1 < len(baskets):
                chances[list(basket.items)] += 1
                followed[list(set(basket.items).intersection(baskets[k + 1].items))] += 1
            rows.extend([n_baskets] * len(basket.items))
            cols.extend(basket.items)
            bought.update(basket.items)
            n_baskets += 1
        user_cols.extend(bought)
    ones = np.ones(len(rows), dtype=np.float64)
    incidence = sp.csr_matrix((ones, (rows, cols)), shape=(n_baskets, n_items))
    incidence.data[:] = 1.0  # an item listed twice in a basket still counts once
    orders = np.asarray(incidence.sum(axis=0)).ravel()
    buyers = np.bincount(np.asarray(user_cols, dtype=np.int64), minlength=n_items).astype(np.float64)
    co = (incidence.T @ incidence).tocsr()
    co.setdiag(0.0)
    co.eliminate_zeros()
    inv = np.divide(1.0, np.sqrt(orders), out=np.zeros(n_items), where=orders > 0)
    cosine = sp.csr_matrix(sp.diags(inv) @ co @ sp.diags(inv))
    tastes = sp.vstack([taste(baskets, n_items) for baskets in histories]).tocsr() if histories else None
    popular = np.lexsort((np.arange(n_items), -orders))
    again_next = np.divide(followed, chances, out=np.full(n_items, np.nan), where=chances > 0)
    return Signals(
        orders=orders,
        buyers=buyers,
        co=co,
        cosine=cosine,
        popular=popular,
        again_next=again_next,
        tastes=tastes if tastes is not None else sp.csr_matrix((0, n_items)),
    )


TASTE_DECAY = 0.9


def taste(history: Sequence[Basket], n_items: int) -> sp.csr_matrix:
    """One row: Σ over baskets of TASTE_DECAY^(baskets since) per item bought, scaled to unit length."""
    weights: dict[int, float] = {}
    n = len(history)
    for k, basket in enumerate(history):
        w = TASTE_DECAY ** (n - 1 - k)
        for item in basket.items:
            weights[item] = weights.get(item, 0.0) + w
    values = np.fromiter(weights.values(), dtype=np.float64, count=len(weights))
    norm = float(np.sqrt((values**2).sum())) or 1.0
    cols = np.fromiter(weights, dtype=np.int64, count=len(weights))
    return sp.csr_matrix((values / norm, (np.zeros(len(cols), dtype=np.int64), cols)), shape=(1, n_items))
