"""A Bytewax source over the event bus that resumes from its snapshotted position.

Like Bytewax's own Kafka connector, the read position lives in the dataflow snapshot, so a recovered
run re-reads exactly what its restored state has not seen (at-least-once; steps de-duplicate).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from bytewax.inputs import FixedPartitionedSource, StatefulSourcePartition

from guang.adapters.ports import BusMessage, EventLogReader
from guang.adapters.redis_bus import START

IDLE_POLL = timedelta(milliseconds=2)
COMMIT_EVERY_S = 0.5
PARTITION = "events"


class _BusPartition(StatefulSourcePartition[BusMessage, str]):
    def __init__(self, reader: EventLogReader, position: str, batch: int, stop_at: str | None) -> None:
        self._reader = reader
        self._position = position
        self._batch = batch
        self._stop_at = stop_at
        self._idle = False
        self._committed_at = 0.0

    def next_batch(self) -> list[BusMessage]:
        messages = self._reader.read_after(self._position, self._batch)
        self._idle = not messages
        if messages:
            self._position = messages[-1].position
        if time.monotonic() - self._committed_at > COMMIT_EVERY_S:
            self._reader.commit_position(self._position)
            self._committed_at = time.monotonic()
        if messages:
            return messages
        if self._stop_at is not None and _not_before(self._position, self._stop_at):
            self._reader.commit_position(self._position)
            raise StopIteration
        return messages

    def next_awake(self) -> datetime | None:
        return datetime.now(UTC) + IDLE_POLL if self._idle else None

    def snapshot(self) -> str:
        return self._position


def _not_before(position: str, target: str) -> bool:
    def key(p: str) -> tuple[int, int]:
        ms, _, seq = p.partition("-")
        return int(ms), int(seq or 0)

    return key(position) >= key(target)


class BusSource(FixedPartitionedSource[BusMessage, str]):
    """`stop_at_end=True` makes a finite run (tests, benchmarks) that ends once caught up."""

    def __init__(
        self, reader_factory: Callable[[], EventLogReader], *, batch: int = 1000, stop_at_end: bool = False
    ):
        self._reader_factory = reader_factory
        self._batch = batch
        self._stop_at_end = stop_at_end

    def list_parts(self) -> list[str]:
        return [PARTITION]

    def build_part(self, step_id: str, for_part: str, resume_state: str | None) -> _BusPartition:
        reader = self._reader_factory()
        stop_at = reader.last_position() if self._stop_at_end else None
        return _BusPartition(reader, resume_state or START, self._batch, stop_at)
