"""Moments derived by the dataflow that other parts act on (ARRIVAL / PARKING / EXIT lists, exit coupons)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

SignalKind = Literal["arrival", "parking_entry", "exit", "store_enter", "store_exit", "member_arrival"]


@dataclass(frozen=True)
class Signal:
    """A fence crossing by a subject, at event time."""

    kind: SignalKind
    subject_id: str
    mall_id: str
    store_id: str | None
    ts_ms: int
    event_id: str

    @property
    def dedupe_id(self) -> str:
        return f"{self.kind}:{self.subject_id}:{self.event_id}"
