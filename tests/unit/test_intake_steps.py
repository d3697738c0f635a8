from __future__ import annotations

from guang.adapters.ports import BusMessage, DeadLetter
from guang.domain.events import DwellEvent, event_to_json
from stream.intake import Envelope, decode, face_consent_gate, hold_back_late, watermark_key

NOW = 1_790_000_000_000
GATE = {"allowed_lateness_ms": 60_000, "max_skew_ms": 5_000, "now_ms": NOW}


def envelope(event_id: str, ts: int) -> Envelope:
    event = DwellEvent(
        type="dwell", event_id=event_id, ts_ms=ts, store_id="s1", visitor_id="v", zone_id="z", dwell_ms=1
    )
    return Envelope(f"{ts}-0", event, event_to_json(event).encode())


def test_a_bus_entry_that_is_not_an_event_becomes_a_dead_letter_with_the_reason() -> None:
    letter = decode(BusMessage("1-0", b'{"type":"dwell"}'))
    assert isinstance(letter, DeadLetter)
    assert letter.position == "1-0" and letter.reason.startswith("undecodable bus entry")
    good = decode(BusMessage("2-0", envelope("e1", NOW).raw))
    assert isinstance(good, Envelope) and good.event.event_id == "e1"
    assert watermark_key(good) == "s1"


def test_out_of_order_within_the_allowed_lateness_passes_and_the_watermark_only_moves_forward() -> None:
    newest, first = hold_back_late(None, envelope("e1", NOW), **GATE)
    newest, earlier = hold_back_late(newest, envelope("e0", NOW - 59_000), **GATE)
    assert newest == NOW
    assert not isinstance(first, DeadLetter) and not isinstance(earlier, DeadLetter)


def test_too_late_and_future_events_are_held_back_with_reasons() -> None:
    newest, _ = hold_back_late(None, envelope("e1", NOW), **GATE)
    newest, late = hold_back_late(newest, envelope("e0", NOW - 61_000), **GATE)
    assert isinstance(late, DeadLetter) and late.event_id == "e0"
    assert late.reason == "too late: 61s behind newer events here (allowed 60s)"
    newest, future = hold_back_late(newest, envelope("e2", NOW + 10_000), **GATE)
    assert isinstance(future, DeadLetter) and future.reason.startswith("from the future: ts_ms is 10s ahead")
    assert newest == NOW


def test_a_member_recognised_without_face_consent_is_refused_and_visitors_pass() -> None:
    consented = {"m-yes"}.__contains__
    member_event = DwellEvent(
        type="dwell", event_id="e9", ts_ms=NOW, store_id="s1", user_id="m-no", zone_id="z", dwell_ms=1
    )
    refused = face_consent_gate(Envelope("9-0", member_event, b"{}"), has_face_consent=consented)
    assert isinstance(refused, DeadLetter) and refused.reason == "no active face consent for member m-no"
    allowed = Envelope("9-1", member_event.model_copy(update={"user_id": "m-yes"}), b"{}")
    assert face_consent_gate(allowed, has_face_consent=consented) is allowed
    visitor = envelope("e10", NOW)
    assert face_consent_gate(visitor, has_face_consent=consented) is visitor
