"""What the guide inbox reads from and writes to: the dataflow's signals, and a log of recent alerts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from guang.domain.signals import Signal
from guang.guide_inbox.models import GuideAlert


class SignalFeed(Protocol):
    """The dataflow's signals stream, tailed from the moment of the first read."""

    def follow(self) -> AsyncIterator[Signal]:
        """Signals appended from now on, in order; after an error, calling again resumes where it was."""
        ...

    async def close(self) -> None: ...


class AlertLog(Protocol):
    """Each staff member's recent alerts, newest first, bounded in number and age, shared by every API
    process (each records every alert; the log keeps it once)."""

    async def record(self, alert: GuideAlert) -> bool:
        """Add the alert unless its id was recorded before; whether it was added."""
        ...

    async def recent(self, staff_id: str, *, skip: int, limit: int) -> list[GuideAlert]: ...
    async def close(self) -> None: ...
