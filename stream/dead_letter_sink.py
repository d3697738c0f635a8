"""A Bytewax sink for dead letters."""

from __future__ import annotations

from collections.abc import Callable

from bytewax.outputs import DynamicSink, StatelessSinkPartition

from guang.adapters.ports import DeadLetter, DeadLetterWriter


class _DeadLetterPartition(StatelessSinkPartition[DeadLetter]):
    def __init__(self, writer: DeadLetterWriter) -> None:
        self._writer = writer

    def write_batch(self, items: list[DeadLetter]) -> None:
        self._writer.write(items)

    def close(self) -> None:
        self._writer.close()


class DeadLetterSink(DynamicSink[DeadLetter]):
    def __init__(self, writer_factory: Callable[[], DeadLetterWriter]) -> None:
        self._writer_factory = writer_factory

    def build(self, step_id: str, worker_index: int, worker_count: int) -> _DeadLetterPartition:
        return _DeadLetterPartition(self._writer_factory())
