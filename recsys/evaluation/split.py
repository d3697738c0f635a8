"""Hold out a basket per user: the last one for the test, an earlier one for training the ranker."""

from __future__ import annotations

from dataclasses import dataclass

from recsys.evaluation.data import Basket, Dataset


@dataclass(frozen=True)
class Holdout:
    """For each kept user: every basket before the held-out one, the held-out items, and when the held-out
    basket was bought (what a live system knows as "now" when it recommends, never the items)."""

    users: list[int]
    history: list[list[Basket]]
    target: list[frozenset[int]]
    back: int
    at: list[float]

    def __len__(self) -> int:
        return len(self.users)


def holdout(dataset: Dataset, *, back: int = 1) -> Holdout:
    """Hold out each user's `back`-th basket from the end (1 = the last); drop what came after it.

    Users need at least one basket before the held-out one; the others are left out.
    """
    if back < 1:
        raise ValueError("back counts from 1 (the last basket)")
    users, history, target, at = [], [], [], []
    for user, baskets in enumerate(dataset.baskets):
        if len(baskets) < back + 1:
            continue
        users.append(user)
        history.append(baskets[: len(baskets) - back])
        held_out = baskets[len(baskets) - back]
        target.append(frozenset(held_out.items))
        at.append(held_out.time)
    return Holdout(users=users, history=history, target=target, back=back, at=at)
