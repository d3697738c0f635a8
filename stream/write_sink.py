"""A Bytewax sink that applies the dataflow's absolute writes (see guang.domain.writes)."""

from __future__ import annotations

from collections.abc import Callable

from bytewax.outputs import DynamicSink, StatelessSinkPartition

from guang.adapters.ports import FeatureWriter
from guang.domain.writes import Write


class _WritePartition(StatelessSinkPartition[Write]):
    def __init__(self, writer: FeatureWriter) -> None:
        self._writer = writer

    def write_batch(self, items: list[Write]) -> None:
        self._writer.apply(items)

    def close(self) -> None:
        self._writer.close()


class WriteSink(DynamicSink[Write]):
    def __init__(self, writer_factory: Callable[[], FeatureWriter]) -> None:
        self._writer_factory = writer_factory

    def build(self, step_id: str, worker_index: int, worker_count: int) -> _WritePartition:
        return _WritePartition(self._writer_factory())
