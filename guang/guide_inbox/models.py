"""An alert in a staff member's inbox, and its plain-JSON form for the recent-alerts log."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

How = Literal["face", "location"]
RECENT_KEPT = 50
"""Alerts kept per staff member for `guideAlerts`, newest first …"""
RECENT_TTL_S = 24 * 3600
"""… for a day after the newest: an inbox of today's arrivals, not a record of people's movements."""
COOLDOWN_S = 600
"""One alert per client and place within this long (a visit), however often they are noticed."""


@dataclass(frozen=True)
class LookedAt:
    """The shelf the client last stood at (cameras; only with an active face consent)."""

    store_id: str
    store_name: str
    zone_id: str
    zone_name: str
    category: str
    dwell_ms: int


@dataclass(frozen=True)
class Suggestion:
    """One item of the GUIDE list: what to show the client, and why."""

    sku_id: str
    score: float
    reason: str


@dataclass(frozen=True)
class GuideAlert:
    """ "Client X just arrived at Y": for one staff member, about one client, at one moment."""

    alert_id: str
    staff_id: str
    member_id: str
    nickname: str
    how: How
    signal: str
    """The dataflow's signal kind: `member_arrival`, `store_enter` or `arrival` (at the mall)."""
    mall_id: str
    mall_name: str
    store_id: str | None
    store_name: str | None
    at_ms: int
    event_id: str
    rec_id: str
    looked_at: LookedAt | None = None
    top_categories: tuple[str, ...] = ()
    suggestions: tuple[Suggestion, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GuideAlert:
        looked = data.get("looked_at")
        return cls(
            **{k: v for k, v in data.items() if k not in ("looked_at", "top_categories", "suggestions")},
            looked_at=LookedAt(**looked) if looked else None,
            top_categories=tuple(data.get("top_categories", ())),
            suggestions=tuple(Suggestion(**s) for s in data.get("suggestions", ())),
        )
