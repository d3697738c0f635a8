from __future__ import annotations

from guang.domain.events import DwellEvent, FaceEvent, PaymentEvent, PaymentItem
from guang.domain.features import SubjectFeatures
from stream.linking import MAX_LINKED_VISITS, Link, Transfer, combine, update_till, update_view
from stream.steps import InterestConfig, update_subject

T0 = 1_790_000_000_000
TILL = frozenset({"z-till"})
CONSENTED = {"m1", "m2"}.__contains__
CONFIG = InterestConfig(half_life_s=600.0, zone_categories={"z-jeans": "牛仔裤"})


def at_till(visitor: str, ts: int, event_id: str = "f1") -> FaceEvent:
    return FaceEvent(
        type="face",
        event_id=event_id,
        ts_ms=ts,
        store_id="s1",
        visitor_id=visitor,
        zone_id="z-till",
        action="seen",
    )


def pays(member: str, ts: int, event_id: str = "p1") -> PaymentEvent:
    item = PaymentItem(sku_id="sku-1", qty=1, price_fen=19900)
    return PaymentEvent(
        type="payment", event_id=event_id, ts_ms=ts, store_id="s1", user_id=member, order_id="o1",
        amount_fen=19900, items=[item], channel="pos",
    )  # fmt: skip


def test_the_visitor_at_the_till_when_a_member_pays_is_linked_once() -> None:
    state, links = update_till(None, at_till("v1", T0), till_zones=TILL, has_face_consent=CONSENTED)
    state, links = update_till(
        state, at_till("v2", T0 - 100_000, "f0"), till_zones=TILL, has_face_consent=CONSENTED
    )
    state, links = update_till(state, pays("m1", T0 + 20_000), till_zones=TILL, has_face_consent=CONSENTED)
    assert links == [Link("v:v1", "u:m1", "s1", T0 + 20_000, "p1")]
    _, again = update_till(state, pays("m1", T0 + 21_000, "p2"), till_zones=TILL, has_face_consent=CONSENTED)
    assert again == []


def test_a_sighting_reported_after_the_payment_still_links_and_far_apart_ones_do_not() -> None:
    state, _ = update_till(None, pays("m1", T0), till_zones=TILL, has_face_consent=CONSENTED)
    state, links = update_till(state, at_till("v1", T0 + 10_000), till_zones=TILL, has_face_consent=CONSENTED)
    assert [(link.visitor, link.member) for link in links] == [("v:v1", "u:m1")]
    _, none = update_till(None, at_till("v9", T0 - 600_000), till_zones=TILL, has_face_consent=CONSENTED)
    _, none = update_till(_, pays("m2", T0), till_zones=TILL, has_face_consent=CONSENTED)
    assert none == []


def test_a_linked_visitors_dwell_counts_for_the_member() -> None:
    dwell = DwellEvent(type="dwell", event_id="d1", ts_ms=T0 - 60_000, store_id="s1", visitor_id="v1",
                       zone_id="z-jeans", dwell_ms=40_000)  # fmt: skip
    visitor, out = update_subject(None, dwell, config=CONFIG)
    assert [type(o) for o in out] == [SubjectFeatures]
    visitor, out = update_subject(visitor, Link("v:v1", "u:m1", "s1", T0, "p1"), config=CONFIG)
    (transfer,) = out
    assert isinstance(transfer, Transfer) and transfer.member == "u:m1"
    view, merged = update_view(None, SubjectFeatures(subject_id="u:m1", ts_ms=T0), half_life_s=600.0)
    view, merged = update_view(view, transfer, half_life_s=600.0)
    assert merged.subject_id == "u:m1"
    assert merged.category_scores == {"牛仔裤": 4.0 * 0.5 ** (60 / 600)}
    assert update_subject(visitor, Link("v:v1", "u:m1", "s1", T0, "p1"), config=CONFIG)[1] == []


def test_combining_decays_every_part_to_the_newest() -> None:
    own = SubjectFeatures(subject_id="u:m1", ts_ms=T0, category_scores={"外套": 1.0})
    visit = SubjectFeatures(
        subject_id="v:v1", ts_ms=T0 - 600_000, category_scores={"外套": 2.0, "牛仔裤": 2.0}
    )
    merged = combine("u:m1", own, {"v:v1": visit}, half_life_s=600.0)
    assert merged.category_scores == {"外套": 2.0, "牛仔裤": 1.0}
    assert merged.ts_ms == T0


def test_a_member_keeps_only_the_most_recent_linked_visits() -> None:
    view = None
    for n in range(MAX_LINKED_VISITS + 3):
        visit = SubjectFeatures(subject_id=f"v:{n}", ts_ms=T0 + n, category_scores={f"c{n}": 1.0})
        view, merged = update_view(view, Transfer("u:m1", f"v:{n}", visit, T0 + n), half_life_s=600.0)
    assert view is not None and len(view.linked) == MAX_LINKED_VISITS
    assert "c0" not in merged.category_scores and f"c{MAX_LINKED_VISITS + 2}" in merged.category_scores


def test_a_payment_links_one_visitor_only_and_never_a_member_without_face_consent() -> None:
    state, _ = update_till(None, at_till("v1", T0 - 5_000), till_zones=TILL, has_face_consent=CONSENTED)
    state, links = update_till(state, pays("m1", T0), till_zones=TILL, has_face_consent=CONSENTED)
    _, later = update_till(
        state, at_till("v2", T0 + 20_000, "f2"), till_zones=TILL, has_face_consent=CONSENTED
    )
    assert [link.visitor for link in links] == ["v:v1"] and later == []
    state, _ = update_till(None, at_till("v1", T0), till_zones=TILL, has_face_consent=CONSENTED)
    _, none = update_till(state, pays("m9", T0), till_zones=TILL, has_face_consent=CONSENTED)
    assert none == []
