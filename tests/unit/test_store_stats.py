from __future__ import annotations

import pickle
from collections.abc import Mapping, Sequence

import pytest

from guang.domain.events import (
    DwellEvent,
    FaceEvent,
    InteractionEvent,
    LocationEvent,
    PaymentEvent,
    PaymentItem,
)
from guang.domain.writes import Announce, Delete, Put, ZPut
from stream.store_stats import (
    StatsConfig,
    conversion_key,
    dwell_count_key,
    dwell_key,
    footfall_key,
    redemptions_key,
    trending_key,
    update_mall_trending,
    update_store_stats,
)

MIN = 60_000
T0 = 1_789_999_800_000  # a bucket start: a multiple of five minutes
CONFIG = StatsConfig()
TTL = 24 * 3600
SMALL = StatsConfig(retention_ms=30 * MIN, history_ms=60 * MIN)
FOOT, REDEEM, TREND = footfall_key("s1"), redemptions_key("s1"), trending_key("m1")


def face(event_id: str, ts: int = T0, visitor: str = "v1") -> FaceEvent:
    return FaceEvent(
        type="face",
        event_id=event_id,
        ts_ms=ts,
        mall_id="m1",
        store_id="s1",
        visitor_id=visitor,
        action="seen",
    )


def dwell(
    event_id: str,
    ts: int = T0,
    visitor: str = "v1",
    zone: str = "z1",
    ms: int = 10_000,
    skus: Sequence[str] = (),
) -> DwellEvent:
    return DwellEvent(
        type="dwell", event_id=event_id, ts_ms=ts, mall_id="m1", store_id="s1", visitor_id=visitor,
        zone_id=zone, dwell_ms=ms, sku_ids=list(skus),
    )  # fmt: skip


def pay(
    event_id: str,
    ts: int = T0,
    user: str = "m9",
    items: Mapping[str, int] | None = None,
    coupons: Sequence[str] = (),
    store: str | None = "s1",
) -> PaymentEvent:
    lines = [PaymentItem(sku_id=sku, qty=qty, price_fen=100) for sku, qty in (items or {"A": 1}).items()]
    return PaymentEvent(
        type="payment", event_id=event_id, ts_ms=ts, mall_id="m1", store_id=store, user_id=user,
        order_id=f"o-{event_id}", amount_fen=100, items=lines, channel="pos", coupon_ids=list(coupons),
    )  # fmt: skip


def seen(bucket: int, count: int, ttl: int = TTL) -> list[Put]:
    """What a newly seen subject writes: footfall and conversion visitors of its bucket."""
    return [
        Put(FOOT, count, field=str(bucket), ttl_s=ttl),
        Put(conversion_key("s1", bucket), count, field="visitors", ttl_s=ttl),
    ]


def test_the_same_subject_twice_in_a_bucket_counts_once() -> None:
    state, first = update_store_stats(None, face("e1"), config=CONFIG)
    assert first == seen(T0, 1)
    state, again = update_store_stats(state, face("e2", ts=T0 + 4 * MIN), config=CONFIG)
    assert again == []
    state, other = update_store_stats(state, dwell("e3", ts=T0 + 2 * MIN, visitor="v2"), config=CONFIG)
    assert other[:2] == seen(T0, 2)
    state, next_bucket = update_store_stats(state, face("e4", ts=T0 + 5 * MIN), config=CONFIG)
    assert next_bucket == seen(T0 + 5 * MIN, 1)


def test_dwell_totals_per_zone_and_a_duplicate_event_id_counts_once() -> None:
    state, first = update_store_stats(None, dwell("d1", ms=30_000), config=CONFIG)
    assert first == [
        *seen(T0, 1),
        Put(dwell_key("s1", T0), 30_000, field="z1", ttl_s=TTL),
        Put(dwell_count_key("s1", T0), 1, field="z1", ttl_s=TTL),
    ]
    state, duplicate = update_store_stats(state, dwell("d1", ms=30_000), config=CONFIG)
    assert duplicate == []
    state, second = update_store_stats(state, dwell("d2", ts=T0 + 1_000, ms=5_000), config=CONFIG)
    assert second == [
        Put(dwell_key("s1", T0), 35_000, field="z1", ttl_s=TTL),
        Put(dwell_count_key("s1", T0), 2, field="z1", ttl_s=TTL),
    ]
    state, other_zone = update_store_stats(state, dwell("d3", zone="z2", ms=7_000), config=CONFIG)
    assert other_zone == [
        Put(dwell_key("s1", T0), 7_000, field="z2", ttl_s=TTL),
        Put(dwell_count_key("s1", T0), 1, field="z2", ttl_s=TTL),
    ]


def test_an_out_of_order_event_updates_its_own_older_bucket() -> None:
    state, _ = update_store_stats(None, dwell("d1", ts=T0 + 10 * MIN, ms=1_000), config=CONFIG)
    state, late = update_store_stats(state, dwell("d0", ts=T0 + MIN, visitor="v2", ms=2_000), config=CONFIG)
    assert late == [
        *seen(T0, 1),
        Put(dwell_key("s1", T0), 2_000, field="z1", ttl_s=TTL),
        Put(dwell_count_key("s1", T0), 1, field="z1", ttl_s=TTL),
    ]
    assert state is not None and state.newest_ms == T0 + 10 * MIN
    assert sorted(state.buckets) == [T0, T0 + 10 * MIN]
    assert state.buckets[T0 + 10 * MIN].dwell_ms == {"z1": 1_000}


def test_conversion_counts_visitors_and_payers_and_redemptions_count_coupon_ids() -> None:
    state, _ = update_store_stats(None, face("f1", visitor="v1"), config=CONFIG)
    state, _ = update_store_stats(state, dwell("d1", visitor="v2"), config=CONFIG)
    state, paid = update_store_stats(state, pay("p1", user="m1", coupons=["c1"]), config=CONFIG)
    assert paid == [
        Put(conversion_key("s1", T0), 1, field="payers", ttl_s=TTL),
        Put(REDEEM, 1, field=str(T0), ttl_s=TTL),
        Announce("s1", "u:m1", "p1"),  # dashboards watching the store re-read it now
    ]
    state, again = update_store_stats(
        state, pay("p2", ts=T0 + 1, user="m1", coupons=["c2", "c3"]), config=CONFIG
    )
    assert again == [Put(REDEEM, 3, field=str(T0), ttl_s=TTL), Announce("s1", "u:m1", "p2")]
    state, other = update_store_stats(state, pay("p3", user="m2"), config=CONFIG)
    assert other == [
        Put(conversion_key("s1", T0), 2, field="payers", ttl_s=TTL),
        Announce("s1", "u:m2", "p3"),
    ]
    assert state is not None
    bucket = state.buckets[T0]
    assert bucket.visitors == {"v:v1", "v:v2"} and bucket.payers == {"u:m1", "u:m2"}
    assert update_store_stats(state, pay("p4", store=None), config=CONFIG) == (state, [])


def test_events_older_than_the_retention_are_ignored_and_old_hash_fields_are_deleted() -> None:
    state, _ = update_store_stats(None, face("f1"), config=SMALL)
    state, _ = update_store_stats(state, pay("p1", coupons=["c1", "c2"]), config=SMALL)
    state, moved = update_store_stats(state, face("f2", ts=T0 + 30 * MIN, visitor="v2"), config=SMALL)
    assert moved == seen(T0 + 30 * MIN, 1, ttl=3600)
    assert state is not None and list(state.buckets) == [T0 + 30 * MIN] and list(state.faded) == [T0]
    state, too_old = update_store_stats(state, face("f3", ts=T0 + 4 * MIN, visitor="v3"), config=SMALL)
    assert too_old == []
    state, inside = update_store_stats(state, face("f4", ts=T0 + 5 * MIN, visitor="v3"), config=SMALL)
    assert inside == seen(T0 + 5 * MIN, 1, ttl=3600)
    state, history = update_store_stats(state, face("f5", ts=T0 + 60 * MIN), config=SMALL)
    assert history == [
        Delete(FOOT, member=str(T0)),
        Delete(REDEEM, member=str(T0)),
        *seen(T0 + 60 * MIN, 1, ttl=3600),
    ]
    assert state is not None and list(state.buckets) == [T0 + 60 * MIN]
    assert list(state.faded) == [T0 + 5 * MIN, T0 + 30 * MIN]


def test_trending_slides_with_event_time_and_deletes_skus_that_slid_out() -> None:
    state, writes = update_mall_trending(None, pay("p1", items={"A": 2}), config=CONFIG)
    assert writes == [ZPut(TREND, "A", 2.0, ttl_s=3600)]
    state, writes = update_mall_trending(state, dwell("d1", ts=T0 + MIN, skus=["A", "B", "B"]), config=CONFIG)
    assert writes == [ZPut(TREND, "A", 2.2, ttl_s=3600), ZPut(TREND, "B", 0.2, ttl_s=3600)]
    state, _ = update_mall_trending(state, dwell("d2", ts=T0 + 30 * MIN, skus=["B"]), config=CONFIG)
    state, writes = update_mall_trending(state, dwell("d3", ts=T0 + 31 * MIN, skus=["B"]), config=CONFIG)
    assert writes == [ZPut(TREND, "B", 0.6, ttl_s=3600)]
    state, writes = update_mall_trending(state, pay("p2", ts=T0 + 59 * MIN, items={"C": 1}), config=CONFIG)
    assert writes == [ZPut(TREND, "C", 1.0, ttl_s=3600)]
    state, writes = update_mall_trending(state, pay("p3", ts=T0 + 60 * MIN, items={"C": 1}), config=CONFIG)
    assert writes == [
        Delete(TREND, member="A"),
        ZPut(TREND, "B", 0.4, ttl_s=3600),
        ZPut(TREND, "C", 2.0, ttl_s=3600),
    ]
    state, writes = update_mall_trending(state, pay("p4", ts=T0 + 91 * MIN, items={"C": 1}), config=CONFIG)
    assert writes == [Delete(TREND, member="B"), ZPut(TREND, "C", 3.0, ttl_s=3600)]
    assert state is not None and state.totals == {"C": 3.0}
    assert sorted(state.buckets) == [T0 + 55 * MIN, T0 + 60 * MIN, T0 + 90 * MIN]


def test_a_late_event_counts_for_trending_only_inside_the_window_but_still_in_its_store_bucket() -> None:
    state, _ = update_mall_trending(None, pay("p1", ts=T0 + 60 * MIN), config=CONFIG)
    state, inside = update_mall_trending(state, dwell("d1", ts=T0 + 5 * MIN, skus=["A"]), config=CONFIG)
    assert inside == [ZPut(TREND, "A", 1.2, ttl_s=3600)]
    late = pay("p0", ts=T0 + 4 * MIN, items={"A": 5}, coupons=["c1"])
    assert update_mall_trending(state, late, config=CONFIG) == (state, [])
    assert state is not None and state.totals == {"A": 1.2}
    assert update_mall_trending(state, pay("p1", ts=T0 + 60 * MIN), config=CONFIG) == (state, [])
    stats, _ = update_store_stats(None, pay("p1", ts=T0 + 60 * MIN), config=CONFIG)
    _, writes = update_store_stats(stats, late, config=CONFIG)
    assert writes == [
        Put(conversion_key("s1", T0), 1, field="payers", ttl_s=TTL),
        Put(REDEEM, 1, field=str(T0), ttl_s=TTL),
        Announce("s1", late.subject_id, "p0"),
    ]


def test_other_event_types_pass_through_and_state_stays_small_and_picklable() -> None:
    location = LocationEvent(
        type="location", event_id="l1", ts_ms=T0, mall_id="m1", visitor_id="v1", lat=31.2, lng=121.4,
        accuracy_m=10, source="gps",
    )  # fmt: skip
    click = InteractionEvent(
        type="interaction", event_id="i1", ts_ms=T0, visitor_id="v1", action="click", target_type="product",
        target_id="A", surface="FEED",
    )  # fmt: skip
    assert update_store_stats(None, location, config=CONFIG) == (None, [])
    assert update_store_stats(None, click, config=CONFIG) == (None, [])
    assert update_mall_trending(None, face("f1"), config=CONFIG) == (None, [])
    tiny = StatsConfig(max_seen_event_ids=2)
    stats, _ = update_store_stats(None, dwell("d1"), config=tiny)
    trending, _ = update_mall_trending(None, dwell("d1", skus=["A"]), config=tiny)
    for n in range(2, 5):
        stats, _ = update_store_stats(stats, dwell(f"d{n}"), config=tiny)
        trending, _ = update_mall_trending(trending, dwell(f"d{n}", skus=["A"]), config=tiny)
    assert stats is not None and list(stats.seen) == ["d3", "d4"]
    assert trending is not None and list(trending.seen) == ["d3", "d4"]
    assert pickle.loads(pickle.dumps(stats)) == stats
    assert pickle.loads(pickle.dumps(trending)) == trending


def test_the_config_rejects_windows_that_are_not_whole_buckets() -> None:
    with pytest.raises(ValueError):
        StatsConfig(trending_window_ms=7 * MIN)
    with pytest.raises(ValueError):
        StatsConfig(retention_ms=48 * 60 * MIN)


def test_a_payment_retried_with_a_new_event_id_counts_its_coupons_once() -> None:
    first = PaymentEvent(
        type="payment", event_id="p1", ts_ms=T0, store_id="s1", user_id="m1", order_id="o1", amount_fen=100,
        items=[PaymentItem(sku_id="k", qty=1, price_fen=100)], channel="wechatpay", coupon_ids=["c1", "c1"],
    )  # fmt: skip
    state, writes = update_store_stats(None, first, config=StatsConfig())
    state, again = update_store_stats(
        state, first.model_copy(update={"event_id": "p2"}), config=StatsConfig()
    )
    assert [w.value for w in writes if isinstance(w, Put) and w.key.endswith(":redemptions")] == [1]
    assert again == []
