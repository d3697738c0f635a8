"""The small interfaces business code depends on. Each has an embedded and a server implementation."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from guang.domain.features import ShopperHistory, SubjectFeatures
from guang.domain.signals import Signal
from guang.domain.writes import Write


class BackendUnavailable(RuntimeError):
    """A backing store (Redis, Qdrant …) did not answer. Adapters raise it instead of their client's own
    errors, so serving code can degrade (DESIGN §5) without knowing which client library sits below."""


Progress = Callable[[int], None]
"""Called with the number of items just finished, for progress bars on long batch work."""


@dataclass(frozen=True)
class VectorPoint:
    id: int
    vector: Sequence[float]
    payload: Mapping[str, Any]


@dataclass(frozen=True)
class VectorFilter:
    """What every vector query can be restricted to. `store_id` means in stock at that store."""

    store_id: str | None = None
    store_ids: Sequence[str] = ()
    """In stock at any of these stores (a mall's, say)."""
    categories: Sequence[str] = ()
    exclude_ids: Sequence[int] = ()


@dataclass(frozen=True)
class VectorHit:
    id: int
    score: float
    payload: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class VectorQuery:
    vector: Sequence[float]
    filter: VectorFilter
    limit: int
    with_payload: bool = True
    """False when only ids and scores are needed: reading payloads is a good part of a query's cost."""
    hnsw_ef: int | None = None
    """Search breadth of the HNSW graph (None: the engine's default); smaller is faster and less exact."""


class VectorIndex(Protocol):
    """Item vectors with payload filters (Qdrant edge in-process, or a Qdrant server)."""

    def ensure_collection(self, dim: int) -> None: ...
    def upsert(self, points: Sequence[VectorPoint], progress: Progress | None = None) -> None: ...
    def search_many(self, queries: Sequence[VectorQuery]) -> list[list[VectorHit]]: ...
    def count(self) -> int: ...
    def optimize(self) -> None: ...
    def close(self) -> None: ...


class DocumentStore(Protocol):
    """Documents by collection (SecantusDB child process, or MongoDB), always through the async driver."""

    async def insert_many(self, collection: str, docs: Sequence[Mapping[str, Any]]) -> None: ...
    async def find(
        self,
        collection: str,
        query: Mapping[str, Any] | None = None,
        *,
        projection: Mapping[str, Any] | None = None,
        sort: Sequence[tuple[str, int]] | None = None,
        limit: int = 0,
        skip: int = 0,
    ) -> list[dict[str, Any]]: ...
    async def find_one(self, collection: str, query: Mapping[str, Any]) -> dict[str, Any] | None: ...
    async def insert_one(self, collection: str, doc: Mapping[str, Any]) -> bool:
        """Insert unless a document with the same `_id` exists; False then (an idempotency primitive)."""
        ...

    async def update_one(
        self, collection: str, query: Mapping[str, Any], update: Mapping[str, Any], *, upsert: bool = False
    ) -> bool:
        """Apply an update operator document to the first match, atomically; whether anything matched
        (or was inserted). A conditional `query` makes this a compare-and-set."""
        ...

    async def find_one_and_update(
        self, collection: str, query: Mapping[str, Any], update: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        """Atomically update the first match and return it as it is after the update; None if none."""
        ...

    async def delete_one(self, collection: str, query: Mapping[str, Any]) -> bool: ...
    async def delete_many(self, collection: str, query: Mapping[str, Any]) -> int: ...
    async def count(self, collection: str, query: Mapping[str, Any] | None = None) -> int: ...
    async def upsert(self, collection: str, doc_id: str, doc: Mapping[str, Any]) -> None: ...
    async def aggregate(
        self, collection: str, pipeline: Sequence[Mapping[str, Any]]
    ) -> list[dict[str, Any]]: ...
    async def create_index(
        self, collection: str, keys: Sequence[tuple[str, Any]], **options: Any
    ) -> None: ...
    async def drop_database(self) -> None: ...
    async def ping(self) -> bool: ...
    async def close(self) -> None: ...


class TextEncoder(Protocol):
    """Sentence embeddings, L2-normalised."""

    @property
    def dim(self) -> int: ...
    @property
    def name(self) -> str: ...
    def encode(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray: ...


@dataclass(frozen=True)
class BusMessage:
    """One entry read from the bus; `position` lets a reader resume right after it."""

    position: str
    data: bytes


@dataclass(frozen=True)
class PublishResult:
    event_id: str
    accepted: bool
    """False when the event_id was already on the bus: accepted by the caller, no second effect."""


class EventBus(Protocol):
    """Append-only event log with idempotent publishing (Redis Streams here, Kafka at scale)."""

    async def publish(self, items: Iterable[tuple[str, str]]) -> list[PublishResult]:
        """Publish (dedupe id, json) pairs; a dedupe id seen before is not appended again. Ingest uses
        `<store_id>:<event_id>`, so one store's devices cannot pre-empt another store's event ids."""
        ...

    async def dataflow_alive(self) -> bool:
        """Whether the dataflow has read from the bus within the last few seconds."""
        ...

    async def lag(self) -> tuple[int, float]:
        """Entries the dataflow has not read yet, and how many seconds behind the newest it is."""
        ...

    async def ping(self) -> bool: ...
    async def close(self) -> None: ...

    async def events_of(self, user_id: str, *, limit: int) -> tuple[list[dict[str, Any]], bool]:
        """The member's events still on the bus (oldest first, at most `limit`) and whether there were
        more; the whole retained stream is scanned in pages."""
        ...

    async def delete_events_of(self, user_id: str) -> int:
        """Delete every entry still on the bus whose event's `user_id` is this member; how many went."""
        ...


class EventLogReader(Protocol):
    """Synchronous positional reader used by the dataflow source; positions survive restarts."""

    def read_after(self, position: str, count: int) -> list[BusMessage]: ...
    def last_position(self) -> str: ...
    def commit_position(self, position: str) -> None:
        """Record how far the dataflow has read, for the consumer-lag metric."""
        ...


@dataclass(frozen=True)
class SubjectData:
    """Everything the feature store holds about one subject, decoded, for a data export."""

    keys: Mapping[str, Any]
    """Each key under the subject (`keys.subject` and its `:bought`, `:orders`, `:freq:<day>` …) -> value."""
    present_in: Mapping[str, int]
    """store_id -> last seen (ms) in that store's presence set."""
    face_consent: bool
    truncated: bool = False
    """More keys than the export cap: only the first ones are in `keys`."""


@dataclass(frozen=True)
class StoreChange:
    """The dataflow changed what is known about someone in this store."""

    store_id: str
    subject_id: str
    event_id: str | None


class FeatureStore(Protocol):
    """Live features for serving: every request's features in one round trip."""

    async def subjects(self, subject_ids: Sequence[str]) -> list[SubjectFeatures]: ...
    async def audience(
        self, subject_ids: Sequence[str], *, surface: str, day: str
    ) -> tuple[list[SubjectFeatures], ShopperHistory]:
        """Features, purchases and today's impressions on `surface` of these subjects, in one round trip."""
        ...

    async def store_context(
        self, store_id: str, *, since_ms: int, people: int, best: int, surface: str, day: str
    ) -> tuple[list[SubjectFeatures], list[str], ShopperHistory]:
        """Who was seen in the store since `since_ms` (newest first, with features and history) and its
        best sellers."""
        ...

    async def co_purchased(self, sku_ids: Sequence[str], *, per_sku: int) -> dict[str, float]:
        """Products bought together with any of `sku_ids` (the strongest `per_sku` partners of each),
        with the number of orders they shared, summed."""
        ...

    async def trending(self, mall_id: str, *, top: int) -> dict[str, float]:
        """The mall's trending SKUs over the dataflow's sliding window, with their scores."""
        ...

    async def ctr_counts(self, groups: Sequence[str]) -> dict[str, dict[str, float]]:
        """The dataflow's impressions, clicks, conversions and ctr per CTR group (`keys.ctr_*_group`)."""
        ...

    async def set_store_best(self, best: Mapping[str, Mapping[str, float]]) -> None: ...
    async def replace_face_consents(self, member_ids: Sequence[str]) -> None: ...
    async def face_consented(self, member_ids: Sequence[str]) -> set[str]:
        """Those of `member_ids` whose face consent is active now, in one round trip."""
        ...

    async def set_face_consent(self, member_id: str, granted: bool) -> None:
        """Grant or withdraw one member's face consent in the live view the dataflow gates on. Withdrawal
        also deletes what cameras taught about them (interest, last shelf, presence in a store)."""
        ...

    def store_changes(self) -> AsyncIterator[StoreChange]:
        """Announcements from the dataflow, as they happen (fire-and-forget)."""
        ...

    async def subject_data(self, subject_id: str, member_id: str, *, max_keys: int) -> SubjectData:
        """Every key under the subject, its presence in stores and the member's face consent (export)."""
        ...

    async def forget_subject(self, subject_id: str, member_id: str) -> dict[str, int]:
        """Delete every key under the subject, its presence in every store and the member's face consent;
        counts of what went (`keys`, `presence`, `face_consent`). Harmless when there is nothing left."""
        ...

    async def ping(self) -> bool: ...
    async def close(self) -> None: ...


class FeatureWriter(Protocol):
    """The dataflow's sink side: absolute values, so a replay writes the same thing again."""

    def write(self, updates: Sequence[SubjectFeatures]) -> None: ...
    def apply(self, writes: Sequence[Write]) -> None:
        """Apply absolute writes (values, never increments) in order."""
        ...

    def close(self) -> None: ...


class RateLimiter(Protocol):
    """Counts requests per key and window, across every API process."""

    async def hit(self, key: str, *, limit: int, window_s: int) -> float | None:
        """None when this request is within `limit` per `window_s`, else the seconds until it would be."""
        ...

    async def close(self) -> None: ...


@dataclass(frozen=True)
class DeadLetter:
    """A bus entry the dataflow could not use, kept with the reason instead of being dropped."""

    position: str
    reason: str
    data: str
    event_id: str | None = None


class DeadLetterWriter(Protocol):
    def write(self, letters: Sequence[DeadLetter]) -> None:
        """Append each letter once (by bus position), so a replay after recovery adds nothing."""
        ...

    def close(self) -> None: ...


class SignalWriter(Protocol):
    def write(self, signals: Sequence[Signal]) -> None:
        """Append each signal once (by its dedupe id), so a replay adds nothing."""
        ...

    def close(self) -> None: ...


class ConsentView(Protocol):
    """Who has an active face-recognition consent, as the dataflow sees it now."""

    def has_face_consent(self, member_id: str) -> bool: ...
