"""Candidates and features for our ranker, from one user's history and the shared signals.

Candidates: everything the user bought, their strongest co-purchase partners, and the popular items.
Features are the kinds of signals the live system keeps (purchase history `f:subj:*:bought`, co-purchase
`f:sku:*:co`, popularity), computed from the history alone: nothing of the held-out basket.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from recsys.evaluation.data import Basket
from recsys.evaluation.signals import Signals

PARTNERS = 30
POPULAR = 10
NEIGHBOURS = 50
DECAYS = (0.9, 0.7, 0.5)
NAN = float("nan")
RELATIVE = (
    "neighbours",
    "bought_decayed_best",
    "bought_orders",
    "bought_share_since_first",
    *(f"bought_decayed_{d}" for d in DECAYS),
)
"""Features also given relative to the user's other candidates: rank (0 = highest) and value / max."""

FEATURES = (
    # the user
    "user_orders",
    "user_basket_mean",
    "user_last_basket",
    "user_distinct_items",
    "user_repeat_share",
    "user_days_between_orders",
    "user_days_to_now",
    "user_days_to_now_vs_usual_gap",
    # the user × item purchase history
    "bought_orders",
    "bought_share",
    "bought_share_since_first",
    "orders_since_last",
    "orders_since_first",
    *(f"bought_decayed_{d}" for d in DECAYS),
    "bought_in_last_3",
    "streak",
    "cart_position",
    "days_since_last",
    "days_since_last_vs_usual_gap",
    "orders_since_last_vs_usual_gap",
    "bought_again_next",
    "days_since_last_at_now",
    "days_since_last_at_now_vs_usual_gap",
    # the item
    "item_orders",
    "item_buyers",
    "item_repeat_share",
    "item_again_next",
    # co-purchase with what the user bought
    "co_history",
    "co_last_basket",
    "co_history_rank",
    "neighbours",
    "user_best_decay",
    "bought_decayed_best",
    *(f"{name}_{kind}_in_user" for name in RELATIVE for kind in ("rank", "vs_max")),
)


@dataclass(frozen=True)
class Candidates:
    """One user's candidate items and their feature rows (columns as `FEATURES`)."""

    items: np.ndarray
    features: np.ndarray


def candidates(history: Sequence[Basket], signals: Signals, *, user: int, at: float) -> Candidates:
    """Candidate items for one user with one feature row each; `user` is their row in the signals, `at`
    the time of the basket being predicted (the request's "now"; never its items)."""
    n = len(history)
    stats = _history_stats(history)
    bought = np.fromiter(stats, dtype=np.int64)
    counts = np.array([len(stats[int(i)].baskets) for i in bought], dtype=np.float64)
    co_history = np.asarray(signals.cosine[bought].T @ counts).ravel() if len(bought) else None
    last_items = np.asarray(history[-1].items, dtype=np.int64) if n else np.empty(0, dtype=np.int64)
    co_last = np.asarray(signals.cosine[last_items].sum(axis=0)).ravel() if len(last_items) else None
    like_me = signals.neighbours(user, k=NEIGHBOURS)

    chosen: dict[int, None] = dict.fromkeys(int(i) for i in bought)
    if co_history is not None:
        for i in np.argsort(-co_history, kind="stable")[: PARTNERS + len(chosen)]:
            if len(chosen) >= len(bought) + PARTNERS or co_history[i] <= 0:
                break
            chosen.setdefault(int(i), None)
    for i in signals.popular[:POPULAR]:
        chosen.setdefault(int(i), None)
    items = np.fromiter(chosen, dtype=np.int64)

    zeros = np.zeros(signals.orders.shape[0])
    co_h = co_history if co_history is not None else zeros
    co_l = co_last if co_last is not None else zeros
    co_rank = np.empty(len(items))
    co_rank[np.argsort(-co_h[items], kind="stable")] = np.arange(len(items))

    user_row = _user_row(history, at)
    best = best_decay(history)
    by_best = _decayed(history, best)
    now = history[-1].time if n else 0.0
    rows = np.empty((len(items), len(FEATURES) - 2 * len(RELATIVE)))
    repeat_share = signals.repeat_share
    for r, item in enumerate(items):
        own = _item_row(stats.get(int(item)), n, now, at)
        rows[r] = (
            *user_row,
            *own,
            signals.orders[item],
            signals.buyers[item],
            repeat_share[item],
            signals.again_next[item],
            co_h[item],
            co_l[item],
            co_rank[r],
            like_me[item],
            best,
            by_best.get(int(item), 0.0),
        )
    return Candidates(items=items, features=np.hstack([rows, _relative(rows)]))


_RELATIVE_COLUMNS = [FEATURES.index(name) for name in RELATIVE]


def _relative(rows: np.ndarray) -> np.ndarray:
    out = np.empty((len(rows), 2 * len(RELATIVE)))
    for j, col in enumerate(_RELATIVE_COLUMNS):
        values = np.nan_to_num(rows[:, col])
        rank = np.empty(len(values))
        rank[np.argsort(-values, kind="stable")] = np.arange(len(values))
        top = values.max() if len(values) else 0.0
        out[:, 2 * j] = rank
        out[:, 2 * j + 1] = values / top if top > 0 else 0.0
    return out


class _Bought:
    """What one user's history says about one item."""

    __slots__ = ("baskets", "cart", "decayed", "times")

    def __init__(self) -> None:
        self.baskets: list[int] = []
        self.times: list[float] = []
        self.decayed = [0.0] * len(DECAYS)
        self.cart = 0.0


def _history_stats(history: Sequence[Basket]) -> dict[int, _Bought]:
    n = len(history)
    stats: dict[int, _Bought] = {}
    for k, basket in enumerate(history):
        age = n - 1 - k
        weights = [d**age for d in DECAYS]
        last_pos = max(len(basket.items) - 1, 1)
        for pos, item in enumerate(basket.items):
            s = stats.get(item)
            if s is None:
                s = stats[item] = _Bought()
            s.baskets.append(k)
            s.times.append(basket.time)
            s.cart += pos / last_pos
            for j, w in enumerate(weights):
                s.decayed[j] += w
    return stats


def _user_row(history: Sequence[Basket], at: float) -> tuple[float, ...]:
    n = len(history)
    sizes = [len(b.items) for b in history]
    seen: set[int] = set()
    repeats = later = 0
    for k, basket in enumerate(history):
        if k:
            repeats += sum(1 for i in basket.items if i in seen)
            later += len(basket.items)
        seen.update(basket.items)
    usual = (history[-1].time - history[0].time) / (n - 1) if n > 1 else NAN
    to_now = at - history[-1].time if n else NAN
    return (
        float(n),
        float(np.mean(sizes)) if n else 0.0,
        float(sizes[-1]) if n else 0.0,
        float(len(seen)),
        repeats / later if later else NAN,
        usual,
        to_now,
        to_now / usual if n > 1 and usual > 0 else NAN,
    )


def _item_row(s: _Bought | None, n: int, now: float, at: float) -> tuple[float, ...]:
    """`now` is the time of the user's newest basket in the history, `at` that of the one predicted."""
    if s is None:
        return (0.0, 0.0, 0.0, NAN, NAN, *(0.0 for _ in DECAYS), 0.0, 0.0, NAN, NAN, NAN, NAN, NAN, NAN, NAN)
    count, first, last = len(s.baskets), s.baskets[0], s.baskets[-1]
    streak = 0
    while streak < count and s.baskets[count - 1 - streak] == n - 1 - streak:
        streak += 1
    since_last = now - s.times[-1]
    usual_gap = (s.times[-1] - s.times[0]) / (count - 1) if count > 1 else 0.0
    usual_orders = (last - first) / (count - 1) if count > 1 else 0.0
    chances = count - (last == n - 1)
    followed = sum(1 for a, b in zip(s.baskets, s.baskets[1:], strict=False) if b == a + 1)
    return (
        float(count),
        count / n,
        count / (n - first),
        float(n - 1 - last),
        float(n - 1 - first),
        *s.decayed,
        float(sum(1 for k in s.baskets[-3:] if k >= n - 3)),
        float(streak),
        s.cart / count,
        since_last,
        since_last / usual_gap if usual_gap > 0 else NAN,
        (n - 1 - last) / usual_orders if usual_orders > 0 else NAN,
        followed / chances if chances else NAN,
        at - s.times[-1],
        (at - s.times[-1]) / usual_gap if usual_gap > 0 else NAN,
    )


DECAY_CHOICES = (0.5, 0.7, 0.8, 0.9, 0.95, 1.0)
DECAY_TRIALS = 5
"""How many of the user's own newest history baskets test each decay (never the held-out basket)."""


def _decayed(history: Sequence[Basket], decay: float) -> dict[int, float]:
    n = len(history)
    scores: dict[int, float] = {}
    for k, basket in enumerate(history):
        w = decay ** (n - 1 - k)
        for item in basket.items:
            scores[item] = scores.get(item, 0.0) + w
    return scores


def best_decay(history: Sequence[Basket], *, k: int = 10) -> float:
    """The decay whose top k of the earlier baskets best predicted the user's own newest baskets."""
    n = len(history)
    hits = dict.fromkeys(DECAY_CHOICES, 0.0)
    for t in range(max(1, n - DECAY_TRIALS), n):
        target = set(history[t].items)
        for decay in DECAY_CHOICES:
            scores = _decayed(history[:t], decay)
            top = sorted(scores, key=lambda i: -scores[i])[:k]
            hits[decay] += len(target.intersection(top)) / len(target)
    return max(DECAY_CHOICES, key=lambda d: (hits[d], d == 0.9))
