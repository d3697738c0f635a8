"""A Bytewax sink that writes subject features to Redis, one pipeline per batch."""

from __future__ import annotations

from collections.abc import Callable

from bytewax.outputs import DynamicSink, StatelessSinkPartition

from guang.adapters.ports import FeatureWriter
from guang.domain.features import SubjectFeatures


class _FeaturePartition(StatelessSinkPartition[tuple[str, SubjectFeatures]]):
    def __init__(self, writer: FeatureWriter) -> None:
        self._writer = writer

    def write_batch(self, items: list[tuple[str, SubjectFeatures]]) -> None:
        latest: dict[str, SubjectFeatures] = {}
        for subject_id, features in items:
            latest[subject_id] = features
        self._writer.write(list(latest.values()))

    def close(self) -> None:
        self._writer.close()


class FeatureSink(DynamicSink[tuple[str, SubjectFeatures]]):
    def __init__(self, writer_factory: Callable[[], FeatureWriter]) -> None:
        self._writer_factory = writer_factory

    def build(self, step_id: str, worker_index: int, worker_count: int) -> _FeaturePartition:
        return _FeaturePartition(self._writer_factory())
