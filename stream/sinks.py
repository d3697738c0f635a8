"""One Bytewax sink for every output: it hands each batch to a writer built from the composition root."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Generic, Protocol, TypeVar

from bytewax.outputs import DynamicSink, StatelessSinkPartition

from guang.adapters.ports import FeatureWriter
from guang.domain.features import SubjectFeatures
from guang.domain.writes import Write

X = TypeVar("X")
X_contra = TypeVar("X_contra", contravariant=True)


class BatchWriter(Protocol[X_contra]):
    def write(self, items: Sequence[X_contra]) -> None: ...
    def close(self) -> None: ...


class _Partition(StatelessSinkPartition[X], Generic[X]):
    def __init__(self, writer: BatchWriter[X]) -> None:
        self._writer = writer

    def write_batch(self, items: list[X]) -> None:
        self._writer.write(items)

    def close(self) -> None:
        self._writer.close()


class WriterSink(DynamicSink[X], Generic[X]):
    def __init__(self, writer_factory: Callable[[], BatchWriter[X]]) -> None:
        self._writer_factory = writer_factory

    def build(self, step_id: str, worker_index: int, worker_count: int) -> _Partition[X]:
        return _Partition(self._writer_factory())


class AbsoluteWrites:
    """The feature writer seen as a writer of `Write`s."""

    def __init__(self, writer: FeatureWriter) -> None:
        self._writer = writer

    def write(self, items: Sequence[Write]) -> None:
        self._writer.apply(items)

    def close(self) -> None:
        self._writer.close()


class SubjectFeatureWrites:
    """The feature writer fed keyed subject features; only the newest per subject in a batch is written."""

    def __init__(self, writer: FeatureWriter) -> None:
        self._writer = writer

    def write(self, items: Sequence[tuple[str, SubjectFeatures]]) -> None:
        self._writer.write(list(dict(items).values()))

    def close(self) -> None:
        self._writer.close()
