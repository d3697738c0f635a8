from __future__ import annotations

from guang.domain.events import DwellEvent, PaymentEvent, PaymentItem
from guang.domain.writes import Delete, Put, Write, ZPut
from stream.purchases import (
    CoPurchase,
    CouponRedemptions,
    GuideLedger,
    PartnerCounts,
    PurchaseConfig,
    PurchaseHistory,
    Seen,
    commission_fen,
    copurchase_fanout,
    coupon_fanout,
    guide_fanout,
    update_copurchase,
    update_coupon_redemptions,
    update_guide_ledger,
    update_purchase_history,
)

T0 = 1_790_000_000_000
CONFIG = PurchaseConfig(commission_rate_by_store={"s-nike": 0.05})


def pay(
    event_id: str,
    order_id: str = "o1",
    *,
    skus: tuple[tuple[str, int], ...] = (("sku-a", 1),),
    amount: int = 10_000,
    ts: int = T0,
    store: str = "s1",
    guide: str | None = None,
    coupons: tuple[str, ...] = (),
    user: str | None = None,
) -> PaymentEvent:
    return PaymentEvent(
        type="payment", event_id=event_id, ts_ms=ts, store_id=store, order_id=order_id, amount_fen=amount,
        items=[PaymentItem(sku_id=sku, qty=qty, price_fen=100) for sku, qty in skus], channel="wechatpay",
        guide_id=guide, coupon_ids=list(coupons), user_id=user, visitor_id=None if user else "v1",
    )  # fmt: skip


def history(
    events: list[PaymentEvent], config: PurchaseConfig = CONFIG
) -> tuple[PurchaseHistory, list[list[Write]]]:
    state: PurchaseHistory | None = None
    writes = []
    for event in events:
        state, out = update_purchase_history(state, event, config=config)
        writes.append(out)
    assert state is not None
    return state, writes


def copurchase(events: list[PaymentEvent], config: PurchaseConfig = CONFIG) -> list[list[Write]]:
    """Run fan-out and the per-SKU step as the dataflow would, one list of writes per payment."""
    states: dict[str, PartnerCounts | None] = {}
    writes = []
    for event in events:
        out: list[Write] = []
        for sku, message in copurchase_fanout(event):
            states[sku], step_out = update_copurchase(states.get(sku), message, config=config)
            out += step_out
        writes.append(out)
    return writes


def test_history_emits_last_bought_time_per_sku_and_order_totals() -> None:
    order = pay("e1", skus=(("sku-a", 2), ("sku-b", 1), ("sku-a", 1)), amount=25_900)
    state, [writes] = history([order])
    ttl = CONFIG.visitor_ttl_s
    assert writes == [
        Put(key="f:subj:v:v1:bought", field="sku-a", value=T0, ttl_s=ttl),
        Put(key="f:subj:v:v1:bought", field="sku-b", value=T0, ttl_s=ttl),
        Put(key="f:subj:v:v1:orders", field="count", value=1, ttl_s=ttl),
        Put(key="f:subj:v:v1:orders", field="spend_fen", value=25_900, ttl_s=ttl),
    ]
    assert state.skus["sku-a"].qty == 3 and state.skus["sku-b"].qty == 1


def test_an_anonymous_visitors_purchase_keys_expire_and_a_members_are_kept() -> None:
    config = PurchaseConfig(visitor_ttl_s=3600)
    _, [visitor] = history([pay("e1")], config)
    _, [member] = history([pay("e2", user="m1")], config)
    assert {w.ttl_s for w in visitor if isinstance(w, Put)} == {3600}
    assert {w.ttl_s for w in member if isinstance(w, Put)} == {None}
    assert {w.key for w in member} == {"f:subj:u:m1:bought", "f:subj:u:m1:orders"}


def test_a_repeated_event_id_or_a_retried_order_id_counts_once() -> None:
    state, writes = history(
        [
            pay("e1", "o1", user="m1"),
            pay("e1", "o1", user="m1"),  # the same event delivered twice
            pay("e2", "o1", user="m1"),  # POS retries the order under a new event id
            pay("e3", "o2", user="m1", skus=(("sku-b", 1),), amount=5_000, ts=T0 + 1_000),
        ]
    )
    assert writes[1] == [] and writes[2] == []
    assert writes[3] == [
        Put(key="f:subj:u:m1:bought", field="sku-b", value=T0 + 1_000),
        Put(key="f:subj:u:m1:orders", field="count", value=2),
        Put(key="f:subj:u:m1:orders", field="spend_fen", value=15_000),
    ]
    assert state.skus["sku-a"].qty == 1


def test_a_late_payment_does_not_move_the_last_bought_time_back() -> None:
    _, writes = history(
        [pay("e2", "o2", ts=T0 + 60_000), pay("e1", "o1", skus=(("sku-a", 1), ("sku-b", 1)), ts=T0)]
    )
    assert writes[1][:2] == [
        Put(key="f:subj:v:v1:bought", field="sku-a", value=T0 + 60_000, ttl_s=CONFIG.visitor_ttl_s),
        Put(key="f:subj:v:v1:bought", field="sku-b", value=T0, ttl_s=CONFIG.visitor_ttl_s),
    ]


def test_history_keeps_the_most_recent_skus_and_deletes_the_evicted_field() -> None:
    config = PurchaseConfig(max_bought_skus=2)
    state, writes = history(
        [pay(f"e{i}", f"o{i}", skus=((f"sku-{i}", 1),), ts=T0 + i) for i in range(3)], config=config
    )
    assert writes[2][:2] == [
        Put(key="f:subj:v:v1:bought", field="sku-2", value=T0 + 2, ttl_s=config.visitor_ttl_s),
        Delete(key="f:subj:v:v1:bought", member="sku-0"),
    ]
    assert set(state.skus) == {"sku-1", "sku-2"}


def test_a_three_item_order_gives_three_pairs_in_both_directions() -> None:
    [writes] = copurchase([pay("e1", skus=(("a", 1), ("b", 2), ("c", 1)))])
    assert writes == [
        ZPut(key="f:sku:a:co", member="b", score=1),
        ZPut(key="f:sku:a:co", member="c", score=1),
        ZPut(key="f:sku:b:co", member="a", score=1),
        ZPut(key="f:sku:b:co", member="c", score=1),
        ZPut(key="f:sku:c:co", member="a", score=1),
        ZPut(key="f:sku:c:co", member="b", score=1),
    ]


def test_copurchase_counts_accumulate_and_retries_count_once() -> None:
    writes = copurchase(
        [
            pay("e1", "o1", skus=(("a", 1), ("b", 1), ("c", 1))),
            pay("e1", "o1", skus=(("a", 1), ("b", 1), ("c", 1))),
            pay("e2", "o1", skus=(("a", 1), ("b", 1), ("c", 1))),
            pay("e3", "o2", skus=(("b", 1), ("a", 1), ("b", 1)), ts=T0 + 1),
        ]
    )
    assert writes[1] == [] and writes[2] == []
    assert writes[3] == [
        ZPut(key="f:sku:b:co", member="a", score=2),
        ZPut(key="f:sku:a:co", member="b", score=2),
    ]


def test_single_sku_and_bulk_orders_have_no_copurchase() -> None:
    assert copurchase_fanout(pay("e1", skus=(("a", 1), ("a", 3)))) == []
    bulk = pay("e2", skus=tuple((f"sku-{i}", 1) for i in range(5)))
    assert copurchase_fanout(bulk, max_skus=4) == []
    assert len(copurchase_fanout(bulk, max_skus=5)) == 5


def test_partner_eviction_keeps_the_bound_and_drops_the_weakest() -> None:
    config = PurchaseConfig(max_partners=2)
    state: PartnerCounts | None = None
    steps = [("o1", ["b"]), ("o2", ["b"]), ("o3", ["c"]), ("o4", ["d"]), ("o5", ["e"])]
    writes = []
    for i, (order, others) in enumerate(steps):
        state, out = update_copurchase(state, CoPurchase("a", order, f"e{i}", T0 + i, others), config=config)
        writes.append(out)
    assert writes[3] == [ZPut(key="f:sku:a:co", member="d", score=1), Delete(key="f:sku:a:co", member="c")]
    assert writes[4] == [ZPut(key="f:sku:a:co", member="e", score=1), Delete(key="f:sku:a:co", member="d")]
    assert state is not None and {sku: p.together for sku, p in state.partners.items()} == {"b": 2, "e": 1}


def test_commission_uses_the_store_rate_and_is_attributed_once() -> None:
    state: GuideLedger | None = None
    events = [
        pay("e1", "o1", store="s-nike", amount=12_345, guide="g1"),
        pay("e2", "o1", store="s-nike", amount=12_345, guide="g1"),  # WeChat Pay retry
        pay("e3", "o2", store="s-other", amount=10_050, guide="g1"),  # default rate, 301.5 rounds up
    ]
    writes = []
    for event in events:
        [(guide, payment)] = guide_fanout(event)
        assert guide == "g1"
        state, out = update_guide_ledger(state, payment, config=CONFIG)
        writes.append(out)
    assert writes[0] == [
        Put(key="f:guide:g1:ledger", field="o1", value=617),
        Put(key="f:guide:g1:totals", field="orders", value=1),
        Put(key="f:guide:g1:totals", field="sales_fen", value=12_345),
        Put(key="f:guide:g1:totals", field="commission_fen", value=617),
    ]
    assert writes[1] == []
    assert writes[2] == [
        Put(key="f:guide:g1:ledger", field="o2", value=302),
        Put(key="f:guide:g1:totals", field="orders", value=2),
        Put(key="f:guide:g1:totals", field="sales_fen", value=22_395),
        Put(key="f:guide:g1:totals", field="commission_fen", value=919),
    ]
    assert commission_fen(1, 0.5) == 1 and commission_fen(0, 0.03) == 0


def test_coupon_redemptions_count_once_per_order() -> None:
    states: dict[str, CouponRedemptions | None] = {}
    events = [
        pay("e1", "o1", coupons=("c1", "c1", "c2")),  # listed twice on one order: still one redemption
        pay("e2", "o1", coupons=("c1", "c2")),  # retried order
        pay("e3", "o2", coupons=("c1",), ts=T0 + 5),
    ]
    writes = []
    for event in events:
        out: list[Write] = []
        for coupon, message in coupon_fanout(event):
            states[coupon], step_out = update_coupon_redemptions(states.get(coupon), message, config=CONFIG)
            out += step_out
        writes.append(out)
    assert writes[0] == [
        Put(key="f:coupon:c1:redeemed", field="o1", value=T0),
        Put(key="f:coupon:c1:stats", field="redemptions", value=1),
        Put(key="f:coupon:c2:redeemed", field="o1", value=T0),
        Put(key="f:coupon:c2:stats", field="redemptions", value=1),
    ]
    assert writes[1] == []
    assert writes[2] == [
        Put(key="f:coupon:c1:redeemed", field="o2", value=T0 + 5),
        Put(key="f:coupon:c1:stats", field="redemptions", value=2),
    ]


def test_non_payment_events_and_payments_without_guide_are_ignored() -> None:
    dwell = DwellEvent(
        type="dwell", event_id="d1", ts_ms=T0, store_id="s1", visitor_id="v1", zone_id="z1",
        sku_ids=["sku-a"], dwell_ms=5_000,
    )  # fmt: skip
    assert update_purchase_history(None, dwell, config=CONFIG) == (None, [])
    assert update_guide_ledger(None, dwell, config=CONFIG) == (None, [])
    assert copurchase_fanout(dwell) == [] and coupon_fanout(dwell) == [] and guide_fanout(dwell) == []
    assert guide_fanout(pay("e1")) == [] and update_guide_ledger(None, pay("e1"), config=CONFIG) == (None, [])


def test_the_dedupe_window_is_bounded() -> None:
    seen = Seen()
    assert all(seen.first_time(f"e{i}", f"o{i}", window=3) for i in range(5))
    assert list(seen.event_ids) == ["e2", "e3", "e4"] and list(seen.order_ids) == ["o2", "o3", "o4"]
    assert not seen.first_time("e9", "o4", window=3)
    assert seen.first_time("e0", "o0", window=3)  # forgotten beyond the window
