"""Pure intake steps: decode bus entries and hold back events that are too late or from the future.

Nothing is dropped silently: whatever cannot be used becomes a `DeadLetter` with the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pydantic import ValidationError

from guang.adapters.ports import BusMessage, DeadLetter
from guang.domain.events import DwellEvent, Event, FaceEvent, event_from_json


@dataclass(frozen=True)
class Envelope:
    """An event with where it came from on the bus, so a dead letter can point back at it."""

    position: str
    event: Event
    raw: bytes


def decode(message: BusMessage) -> Envelope | DeadLetter:
    try:
        return Envelope(message.position, event_from_json(message.data), message.data)
    except (ValidationError, ValueError) as error:
        reason = f"undecodable bus entry: {str(error).splitlines()[0][:200]}"
        return DeadLetter(message.position, reason, message.data.decode(errors="replace"))


def watermark_key(envelope: Envelope) -> str:
    """Lateness is judged per store (its devices share a clock), else per mall, else per subject."""
    event = envelope.event
    return event.store_id or event.mall_id or event.subject_id


def hold_back_late(
    newest_ms: int | None, envelope: Envelope, *, allowed_lateness_ms: int, max_skew_ms: int, now_ms: int
) -> tuple[int | None, Event | DeadLetter]:
    """Pass an event on unless it is older than the newest seen here minus the allowed lateness,
    or stamped further in the future than clocks can plausibly drift."""
    event = envelope.event
    if event.ts_ms > now_ms + max_skew_ms:
        ahead_s = (event.ts_ms - now_ms) / 1000
        return newest_ms, _letter(
            envelope, f"from the future: ts_ms is {ahead_s:.0f}s ahead of the dataflow clock"
        )
    if newest_ms is not None and event.ts_ms < newest_ms - allowed_lateness_ms:
        behind_s = (newest_ms - event.ts_ms) / 1000
        reason = (
            f"too late: {behind_s:.0f}s behind newer events here (allowed {allowed_lateness_ms / 1000:.0f}s)"
        )
        return newest_ms, _letter(envelope, reason)
    return max(newest_ms or event.ts_ms, event.ts_ms), event


def _letter(envelope: Envelope, reason: str) -> DeadLetter:
    return DeadLetter(
        envelope.position, reason, envelope.raw.decode(errors="replace"), envelope.event.event_id
    )


def face_consent_gate(
    envelope: Envelope, *, has_face_consent: Callable[[str], bool]
) -> Envelope | DeadLetter:
    """A member may be recognised by a camera only with an active face consent; otherwise the event
    (and everything that would be derived from it) is refused."""
    event = envelope.event
    if isinstance(event, FaceEvent | DwellEvent) and event.user_id and not has_face_consent(event.user_id):
        reason = f"no active face consent for member {event.user_id}"
        return DeadLetter(envelope.position, reason, "", event.event_id)  # the face-derived event is not kept
    return envelope
