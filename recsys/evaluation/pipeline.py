"""One evaluation run: hold out each user's last basket, recommend k items per method, score them."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

from recsys.evaluation import baselines, ranker
from recsys.evaluation.data import Dataset
from recsys.evaluation.metrics import Scores, score
from recsys.evaluation.ranker import RankerConfig
from recsys.evaluation.signals import build_signals
from recsys.evaluation.split import holdout

Advance = Callable[[int], None]
ProgressFactory = Callable[[str, int], AbstractContextManager[Advance]]
"""Opens a progress bar for a step (description, total) and yields the function that advances it."""

OURS = "ours (LightGBM)"


@dataclass(frozen=True)
class MethodResult:
    name: str
    scores: Scores
    seconds: float


@dataclass(frozen=True)
class Training:
    holdouts: int
    queries: int
    rows: int
    positives: int
    importance: list[tuple[str, float]]


@dataclass(frozen=True)
class Evaluation:
    dataset: str
    users: int
    items: int
    baskets: int
    purchases: int
    evaluated_users: int
    k: int
    methods: list[MethodResult]
    training: Training
    config: RankerConfig
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def method(self, name: str) -> MethodResult:
        return next(m for m in self.methods if m.name == name)


@contextlib.contextmanager
def _no_progress(description: str, total: int) -> Iterator[Advance]:
    yield lambda n: None


def evaluate(
    dataset: Dataset,
    *,
    k: int = 10,
    config: RankerConfig | None = None,
    progress: ProgressFactory | None = None,
) -> Evaluation:
    """Score the baselines and our ranker on each user's last basket, trained on earlier ones only."""
    config = config or RankerConfig()
    bar = progress or _no_progress
    started = time.perf_counter()
    test = holdout(dataset, back=1)
    if not len(test):
        raise ValueError("no user has two baskets or more: nothing to hold out")
    signals = build_signals(test.history, dataset.n_items)
    methods: list[MethodResult] = []

    def scored(name: str, recommendations: Sequence[Sequence[int]], since: float) -> None:
        result = score(recommendations, test.target, n_items=dataset.n_items, k=k)
        methods.append(MethodResult(name, result, time.perf_counter() - since))

    t = time.perf_counter()
    scored("popularity", [baselines.popularity(signals, k=k)] * len(test), t)
    t = time.perf_counter()
    scored("repeat-purchase", [baselines.repeat_purchase(h, k=k) for h in test.history], t)
    t = time.perf_counter()
    with bar("item-kNN", len(test)) as advance:
        knn = []
        for history in test.history:
            knn.append(baselines.item_knn(history, signals, k=k))
            advance(1)
    scored("item-kNN", knn, t)

    t = time.perf_counter()
    train_users = sum(len(holdout(dataset, back=b)) for b in range(2, 2 + config.train_holdouts))
    with bar("ranker: training features", train_users) as advance:
        data = ranker.training_set(dataset, config, advance)
    with bar("ranker: LightGBM models", config.models) as advance:
        model = ranker.train(data, config, advance)
    with bar("ranker: recommending", len(test)) as advance:
        ours = ranker.recommend(model, test.history, signals, at=test.at, k=k, advance=advance)
    scored(OURS, ours, t)

    return Evaluation(
        dataset=dataset.name,
        users=len(dataset.users),
        items=dataset.n_items,
        baskets=dataset.n_baskets,
        purchases=dataset.n_purchases,
        evaluated_users=len(test),
        k=k,
        methods=methods,
        training=Training(
            holdouts=config.train_holdouts,
            queries=data.queries,
            rows=len(data.labels),
            positives=data.positives,
            importance=model.importance(),
        ),
        config=config,
        seconds=time.perf_counter() - started,
    )
