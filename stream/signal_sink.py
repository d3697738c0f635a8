"""A Bytewax sink for derived signals (arrival, parking entry, exit …)."""

from __future__ import annotations

from collections.abc import Callable

from bytewax.outputs import DynamicSink, StatelessSinkPartition

from guang.adapters.ports import SignalWriter
from guang.domain.signals import Signal


class _SignalPartition(StatelessSinkPartition[Signal]):
    def __init__(self, writer: SignalWriter) -> None:
        self._writer = writer

    def write_batch(self, items: list[Signal]) -> None:
        self._writer.write(items)

    def close(self) -> None:
        self._writer.close()


class SignalSink(DynamicSink[Signal]):
    def __init__(self, writer_factory: Callable[[], SignalWriter]) -> None:
        self._writer_factory = writer_factory

    def build(self, step_id: str, worker_index: int, worker_count: int) -> _SignalPartition:
        return _SignalPartition(self._writer_factory())
