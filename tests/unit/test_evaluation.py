from __future__ import annotations

import math
from pathlib import Path

import pytest

from recsys.evaluation import baselines
from recsys.evaluation.data import (
    Basket,
    DataError,
    Dataset,
    Purchase,
    build,
    load_instacart,
    load_interactions,
)
from recsys.evaluation.metrics import coverage, ndcg_at_k, recall_at_k, score
from recsys.evaluation.pipeline import OURS, evaluate
from recsys.evaluation.ranker import RankerConfig
from recsys.evaluation.report import write_report
from recsys.evaluation.signals import build_signals
from recsys.evaluation.split import holdout


def baskets(*lists: tuple[int, ...]) -> list[Basket]:
    return [Basket(items, float(t)) for t, items in enumerate(lists)]


# Three users over items 0..4; their last baskets are the test.
TINY = Dataset(
    name="tiny",
    items=["a", "b", "c", "d", "e"],
    users=["u1", "u2", "u3"],
    baskets=[
        baskets((0, 1), (0, 2), (0, 1), (3,)),
        baskets((1, 2), (2,), (4, 2)),
        baskets((0,), (1,)),
    ],
)


# metrics


def test_recall_uses_the_whole_held_out_basket_as_denominator() -> None:
    assert recall_at_k([1, 2, 3], {2, 9}, k=3) == 0.5
    assert recall_at_k([1, 2, 3], {3}, k=2) == 0.0  # only the top k count
    assert recall_at_k(list(range(10)), set(range(20)), k=10) == 0.5  # a big basket cannot reach 1
    assert recall_at_k([1], set(), k=10) == 0.0


def test_ndcg_discounts_by_rank_against_the_ideal_list() -> None:
    assert ndcg_at_k([7, 8], {7}, k=2) == 1.0
    assert ndcg_at_k([8, 7], {7}, k=2) == pytest.approx(1 / math.log2(3))
    # two hits out of a basket of three, at ranks 1 and 3, ideal list = three hits in three slots
    ideal = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert ndcg_at_k([1, 5, 2], {1, 2, 3}, k=3) == pytest.approx((1 + 1 / math.log2(4)) / ideal)


def test_coverage_is_the_share_of_catalogue_recommended() -> None:
    assert coverage([[0, 1], [1, 2]], n_items=8, k=2) == 3 / 8
    assert coverage([[0, 1, 2, 3]], n_items=8, k=2) == 2 / 8
    scores = score([[0, 1], [2, 3]], [{0}, {9, 8}], n_items=4, k=2)
    assert (scores.recall, scores.coverage, scores.users) == (0.5, 1.0, 2)


# split


def test_holdout_keeps_everything_before_the_held_out_basket() -> None:
    test = holdout(TINY)
    assert test.users == [0, 1, 2]
    assert test.target == [frozenset({3}), frozenset({4, 2}), frozenset({1})]
    assert [len(h) for h in test.history] == [3, 2, 1]
    earlier = holdout(TINY, back=2)
    assert earlier.users == [0, 1]  # u3 has nothing before their second-to-last basket
    assert earlier.target == [frozenset({0, 1}), frozenset({2})]
    assert earlier.history[0] == TINY.baskets[0][:2]


# baselines on the history before the last basket


def test_popularity_counts_baskets_and_breaks_ties_by_item_order() -> None:
    signals = build_signals(holdout(TINY).history, TINY.n_items)
    # baskets: a in 4, b in 3, c in 3, d and e in 0
    assert baselines.popularity(signals, k=3) == [0, 1, 2]


def test_repeat_purchase_ranks_by_frequency_then_recency() -> None:
    history = holdout(TINY).history
    assert baselines.repeat_purchase(history[0], k=10) == [0, 1, 2]  # a ×3, then b (newer) before c
    assert baselines.repeat_purchase(history[1], k=1) == [2]
    assert baselines.repeat_purchase(history[2], k=10) == [0]


def test_item_knn_sums_cosine_co_purchase_over_the_history() -> None:
    test = holdout(TINY)
    signals = build_signals(test.history, TINY.n_items)
    # co-purchases: a–b twice, a–c once, b–c once; orders a 4, b 3, c 3
    # u1 bought a ×3, b ×1, c ×1: b = 3·2/√12 + 1/3, c = 3·1/√12 + 1/3, a = 2/√12 + 1/√12
    assert baselines.item_knn(test.history[0], signals, k=10) == [1, 2, 0]
    assert baselines.item_knn(test.history[2], signals, k=10) == [1, 2]  # only a's neighbours, never a


# loading


def test_interactions_csv_without_the_required_columns_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "clicks.csv"
    path.write_text("user,item_id,timestamp\nu1,i1,1\n")
    with pytest.raises(DataError, match=r"lacks the column\(s\) user_id.*user_id,item_id,timestamp"):
        load_interactions(path)


def test_interactions_group_baskets_by_order_or_timestamp(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(
        "user_id,item_id,timestamp,order_id\n"
        "u1,milk,2026-01-02T10:00:00,o2\n"
        "u1,eggs,1767225600,o1\n"
        "u1,milk,1767225600,o1\n"
        "u2,tea,5,\n"
        "u2,milk,5,\n"
        "u2,tea,9,\n"
    )
    data = load_interactions(path)
    assert data.users == ["u1", "u2"]
    assert [[data.items[i] for i in b.items] for b in data.baskets[0]] == [["eggs", "milk"], ["milk"]]
    assert [[data.items[i] for i in b.items] for b in data.baskets[1]] == [["tea", "milk"], ["tea"]]
    assert data.baskets[0][1].time - data.baskets[0][0].time == pytest.approx(34 / 24)


def test_build_orders_baskets_by_sequence_and_items_by_cart_rank() -> None:
    data = build("x", [Purchase("u", "o2", "b", 2, 5.0, 1), Purchase("u", "o1", "c", 1, 0.0, 2),
                       Purchase("u", "o1", "a", 1, 0.0, 1)])  # fmt: skip
    assert [[data.items[i] for i in b.items] for b in data.baskets[0]] == [["a", "c"], ["b"]]


# the whole run on a slice of the real sample


def test_pipeline_on_a_slice_of_the_instacart_sample(tmp_path: Path) -> None:
    sample = load_instacart().head(120)
    config = RankerConfig(train_holdouts=2, models=1, rounds=60, learning_rate=0.1)
    evaluation = evaluate(sample, config=config)
    md, png = write_report(evaluation, tmp_path, stem="slice", command="test", budget=0.4)
    assert md.read_text().count("|") > 20 and png.stat().st_size > 5_000
    names = [m.name for m in evaluation.methods]
    assert names == ["popularity", "repeat-purchase", "item-kNN", OURS]
    assert evaluation.method(OURS).scores.recall >= evaluation.method("repeat-purchase").scores.recall
