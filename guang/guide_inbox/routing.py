"""Pure rules: which signals alert whom, with which consent, and how often.

A face arrival or a store entry alerts the client's advisors who work in *that* store; an arrival at a
mall alerts their advisors in any store of that mall. Staff never learn that a client walked into another
brand's store."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from guang.domain.events import member_subject
from guang.domain.signals import Signal
from guang.guide_inbox.models import How

ALERTING: Mapping[str, How] = {"member_arrival": "face", "store_enter": "location", "arrival": "location"}
"""Signal kinds that alert a guide, and how the client was noticed."""
CONSENT_OF: Mapping[How, str] = {"face": "face_ms", "location": "location_ms"}
"""The member's consent (`consents.<field>`) each way of noticing them needs, at alert time."""
MEMBER_PREFIX = member_subject("")


@dataclass(frozen=True)
class StaffPlace:
    """Where one of the client's advisors works."""

    staff_id: str
    store_id: str
    mall_id: str


def client_of(signal: Signal) -> str | None:
    """The member a signal is about, if it alerts guides at all (visitors and other kinds never do)."""
    if signal.kind not in ALERTING or not signal.subject_id.startswith(MEMBER_PREFIX):
        return None
    return signal.subject_id.removeprefix(MEMBER_PREFIX) or None


def recipients(signal: Signal, advisors: Iterable[StaffPlace]) -> list[StaffPlace]:
    """The advisors this signal concerns: in the store it names, or anywhere in the mall on arrival."""
    if signal.kind == "arrival":
        return [a for a in advisors if a.mall_id == signal.mall_id]
    if signal.store_id:
        return [a for a in advisors if a.store_id == signal.store_id]
    return []


def consented(how: How, consents: Mapping[str, Any] | None) -> bool:
    """Whether the member's consent for this way of noticing them is given now."""
    return bool(consents) and (consents or {}).get(CONSENT_OF[how]) is not None


def place_of(signal: Signal) -> str:
    """The place an alert is about: the store, or the mall for an arrival there."""
    return signal.store_id if signal.kind != "arrival" and signal.store_id else f"mall:{signal.mall_id}"


class Cooldown:
    """At most one alert per (staff, client, place) within `window_ms` of event time, so the camera seeing
    a client again, or their phone entering the store after the camera did, does not alert twice.
    Event time makes every API process decide alike; memory is bounded to `capacity` keys."""

    def __init__(self, *, window_ms: int, capacity: int = 10_000) -> None:
        self._window_ms = window_ms
        self._capacity = capacity
        self._last: OrderedDict[tuple[str, str, str], int] = OrderedDict()

    def admit(self, staff_id: str, member_id: str, place: str, ts_ms: int) -> bool:
        key = (staff_id, member_id, place)
        last = self._last.get(key)
        if last is not None and ts_ms - last < self._window_ms:  # also an older, out-of-order signal
            return False
        self._last[key] = ts_ms
        self._last.move_to_end(key)
        while len(self._last) > self._capacity:
            self._last.popitem(last=False)
        return True
