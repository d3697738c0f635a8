from __future__ import annotations

import pickle

import pytest

from guang.domain.events import InteractionEvent, PaymentEvent, PaymentItem
from guang.domain.experiments import DEFAULT_EXPERIMENTS
from guang.domain.writes import Put, Write
from stream.interactions import (
    CtrCounts,
    CtrMessage,
    FreqCounter,
    InteractionConfig,
    SubjectInteractions,
    ctr,
    ctr_fanout,
    local_day,
    update_ctr,
    update_subject_interactions,
)

DAY = 1_790_006_400_000  # 2026-09-22 00:00 in UTC+8, still 2026-09-21 (16:00) in UTC
HOUR = 3_600_000
T = DAY + 10 * HOUR
CONFIG = InteractionConfig()
TTL = 2 * 86_400
ENGAGE = "f:subj:v:v1:engage"


def ev(
    event_id: str,
    action: str = "impression",
    *,
    ts: int = T,
    surface: str = "FEED",
    target: tuple[str, str] = ("product", "sku-a"),
    user: str | None = None,
) -> InteractionEvent:
    return InteractionEvent.model_validate(
        {
            "type": "interaction", "event_id": event_id, "ts_ms": ts, "action": action,
            "target_type": target[0], "target_id": target[1], "surface": surface, "rec_id": "r1",
            "user_id": user, "visitor_id": None if user else "v1",
        }
    )  # fmt: skip


def freq(day: str, field: str, value: int) -> Put:
    return Put(f"f:subj:v:v1:freq:{day}", value, field=field, ttl_s=TTL)


def subject_run(
    events: list[InteractionEvent], config: InteractionConfig = CONFIG
) -> tuple[SubjectInteractions, list[list[Write]]]:
    state: SubjectInteractions | None = None
    writes = []
    for event in events:
        state, out = update_subject_interactions(state, event, config=config)
        writes.append(out)
    assert state is not None
    return state, writes


def ctr_run(events: list[InteractionEvent]) -> tuple[dict[str, CtrCounts | None], list[list[Write]]]:
    """Fan-out and the per-group step as the dataflow runs them, one list of writes per event."""
    states: dict[str, CtrCounts | None] = {}
    writes = []
    for event in events:
        out: list[Write] = []
        for group, message in ctr_fanout(event, experiments=DEFAULT_EXPERIMENTS):
            states[group], step_out = update_ctr(states.get(group), message, config=CONFIG)
            out += step_out
        writes.append(out)
    return states, writes


def test_impressions_per_surface_and_target_and_engagement_duplicates_count_once() -> None:
    state, writes = subject_run(
        [
            ev("e1"),
            ev("e1"),  # redelivered
            ev("e2", ts=T + 60_000),
            ev("e3", surface="SCREEN"),
            ev("e4", "click"),
            ev("e4", "click"),
            ev("e5", "like"),
            ev("e6", "claim", target=("coupon", "c1")),
            ev("e7", "click", target=("article", "a1")),
        ]
    )
    assert writes == [
        [freq("2026-09-22", "FEED:product:sku-a", 1)],
        [],
        [freq("2026-09-22", "FEED:product:sku-a", 2)],
        [freq("2026-09-22", "SCREEN:product:sku-a", 1)],
        [Put(ENGAGE, 1, field="clicks")],
        [],
        [Put(ENGAGE, 1, field="likes")],
        [Put(ENGAGE, 1, field="claims")],
        [Put(ENGAGE, 2, field="clicks")],
    ]
    [counters] = state.days.values()
    assert counters == {
        "SCREEN:product:sku-a": FreqCounter(1, T, 0),
        "FEED:product:sku-a": FreqCounter(2, T + 60_000, 1),
        "FEED:article:a1": FreqCounter(0, None, 1),
    }
    assert state.engage == {"clicks": 2, "likes": 1, "claims": 1}


def test_the_day_rolls_over_at_midnight_utc_plus_8_and_only_two_days_are_kept() -> None:
    assert (local_day(DAY - 1), local_day(DAY)) == ("2026-09-21", "2026-09-22")
    field = "FEED:product:sku-a"
    state, writes = subject_run(
        [
            ev("e1", ts=DAY - 1),
            ev("e2", ts=DAY),  # the same UTC day, but a new day in UTC+8: counts from 1 again
            ev("e3", ts=DAY - 2 * HOUR),  # late, yesterday is still kept
            ev("e4", ts=DAY + 24 * HOUR),  # the day after: the 21st is dropped
            ev("e5", ts=DAY - 3 * HOUR),  # late beyond the kept days: no frequency count
            ev("e6", "click", ts=DAY - 3 * HOUR),  # but a click still counts as engagement
            ev("e7", ts=DAY + 2 * HOUR),
        ]
    )
    assert writes == [
        [freq("2026-09-21", field, 1)],
        [freq("2026-09-22", field, 1)],
        [freq("2026-09-21", field, 2)],
        [freq("2026-09-23", field, 1)],
        [],
        [Put(ENGAGE, 1, field="clicks")],
        [freq("2026-09-22", field, 2)],
    ]
    assert [local_day(d * 86_400_000) for d in state.days] == ["2026-09-22", "2026-09-23"]
    assert state.days[max(state.days)] == {field: FreqCounter(1, DAY + 24 * HOUR, 0)}


def test_targets_per_day_and_remembered_event_ids_are_bounded() -> None:
    tiny = InteractionConfig(dedupe_window=3, max_targets_per_day=2)
    a, b, c = (("product", name) for name in "abc")
    state, writes = subject_run(
        [ev("e1", target=a), ev("e2", target=b), ev("e3", target=a), ev("e4", target=c), ev("e5", target=b)],
        config=tiny,
    )
    assert writes[3] == [freq("2026-09-22", "FEED:product:c", 1)]
    assert writes[4] == [freq("2026-09-22", "FEED:product:b", 1)]  # b was least recently touched
    [counters] = state.days.values()
    assert list(counters) == ["FEED:product:c", "FEED:product:b"]
    assert list(state.seen) == ["e3", "e4", "e5"]
    assert pickle.loads(pickle.dumps(state)) == state


def test_ctr_fanout_emits_the_surface_group_and_one_arm_group_per_experiment() -> None:
    # Pinned by tests/unit/test_experiments.py: u:m1 is in control, u:m3 in treatment of ranker-v1.
    assert ctr_fanout(ev("i1", user="m1"), experiments=DEFAULT_EXPERIMENTS) == [
        ("surface:FEED", CtrMessage("surface:FEED", "impression", "i1", T)),
        ("arm:ranker-v1:control:FEED", CtrMessage("arm:ranker-v1:control:FEED", "impression", "i1", T)),
    ]
    assert ctr_fanout(ev("i1", user="m3"), experiments=()) == [
        ("surface:FEED", CtrMessage("surface:FEED", "impression", "i1", T))
    ]
    assert ctr_fanout(ev("l1", "like"), experiments=DEFAULT_EXPERIMENTS) == []


def test_ctr_per_surface_and_per_arm() -> None:
    feed, screen = "f:ctr:surface:FEED", "f:ctr:surface:SCREEN"
    control, treatment = "f:ctr:arm:ranker-v1:control:FEED", "f:ctr:arm:ranker-v1:treatment:FEED"
    states, writes = ctr_run(
        [
            ev("i1", user="m1"),
            ev("i2", user="m3"),
            ev("i2", user="m3"),  # redelivered
            ev("c1", "click", user="m1"),
            ev("i3", user="m1", surface="SCREEN"),
            ev("k1", "claim", user="m3", target=("coupon", "c1")),
            ev("k2", "consult", user="m1", target=("staff", "g1")),
            ev("l1", "share", user="m1"),
        ]
    )
    assert writes == [
        [
            Put(feed, 1, field="impressions"),
            Put(feed, 0.0, field="ctr"),
            Put(control, 1, field="impressions"),
            Put(control, 0.0, field="ctr"),
        ],
        [
            Put(feed, 2, field="impressions"),
            Put(feed, 0.0, field="ctr"),
            Put(treatment, 1, field="impressions"),
            Put(treatment, 0.0, field="ctr"),
        ],
        [],
        [
            Put(feed, 1, field="clicks"),
            Put(feed, 0.5, field="ctr"),
            Put(control, 1, field="clicks"),
            Put(control, 1.0, field="ctr"),
        ],
        [
            Put(screen, 1, field="impressions"),
            Put(screen, 0.0, field="ctr"),
            Put("f:ctr:arm:ranker-v1:control:SCREEN", 1, field="impressions"),
            Put("f:ctr:arm:ranker-v1:control:SCREEN", 0.0, field="ctr"),
        ],
        [Put(feed, 1, field="conversions"), Put(treatment, 1, field="conversions")],
        [Put(feed, 2, field="conversions"), Put(control, 1, field="conversions")],
        [],
    ]
    counts = states["surface:FEED"]
    assert counts is not None and (counts.impressions, counts.clicks, counts.conversions) == (2, 1, 2)
    assert pickle.loads(pickle.dumps(counts)) == counts
    assert (ctr(1, 3), ctr(2, 3), ctr(5, 0)) == (0.333333, 0.666667, 0.0)


def test_ctr_step_ignores_actions_it_does_not_count() -> None:
    assert update_ctr(None, CtrMessage("surface:FEED", "like", "l1", T), config=CONFIG) == (None, [])


def test_non_interaction_events_are_ignored() -> None:
    payment = PaymentEvent(
        type="payment", event_id="p1", ts_ms=T, store_id="s1", visitor_id="v1", order_id="o1",
        amount_fen=100, items=[PaymentItem(sku_id="sku-a", qty=1, price_fen=100)], channel="pos",
    )  # fmt: skip
    assert update_subject_interactions(None, payment, config=CONFIG) == (None, [])
    assert ctr_fanout(payment, experiments=DEFAULT_EXPERIMENTS) == []


def test_the_config_rejects_empty_bounds() -> None:
    with pytest.raises(ValueError):
        InteractionConfig(keep_days=0)
    with pytest.raises(ValueError):
        InteractionConfig(dedupe_window=0)
