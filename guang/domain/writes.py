"""The write model of the dataflow: absolute values, never increments.

Steps keep counters in their own (recoverable) state and emit the resulting values, so a replay after
recovery writes the same values again instead of counting twice. One sink applies them all.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Put:
    """Set `key` (or one `field` of the hash at `key`) to `value`; optional expiry in seconds."""

    key: str
    value: str | int | float
    field: str | None = None
    ttl_s: int | None = None


@dataclass(frozen=True)
class ZPut:
    """Set the score of `member` in the sorted set at `key` (a ranking: trending, co-purchase, ...)."""

    key: str
    member: str
    score: float
    ttl_s: int | None = None


@dataclass(frozen=True)
class Delete:
    """Remove `key`, or only `member` of the sorted set / `field` of the hash at `key`."""

    key: str
    member: str | None = None


@dataclass(frozen=True)
class Announce:
    """Tell whoever watches `store_id` (screens, dashboards) that its figures changed, after the writes
    before it in the same batch. A replay announces again, which only causes a re-read."""

    store_id: str
    subject_id: str
    event_id: str


Write = Put | ZPut | Delete | Announce
