"""Item vectors in the official in-process Qdrant engine (qdrant-edge-py), persisted under the data dir.

Pitfalls handled here (DESIGN §3): boolean `MatchValue` never matches, so flags are stored as ints or
as lists (`store_ids` holds the stores where the item is in stock); `optimize()` after bulk loads.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import qdrant_edge as qe

from guang.adapters.ports import Progress, VectorFilter, VectorHit, VectorPoint, VectorQuery

_UPSERT_CHUNK = 1000
KEYWORD_FIELDS = ("store_ids", "category", "brand_id")


def edge_filter(flt: VectorFilter) -> qe.Filter | None:
    must: list[qe.ConditionType] = []
    if flt.store_id:
        must.append(qe.FieldCondition(key="store_ids", match=qe.MatchValue(flt.store_id)))
    if flt.store_ids:
        must.append(qe.FieldCondition(key="store_ids", match=qe.MatchAny(list(flt.store_ids))))
    if flt.categories:
        must.append(qe.FieldCondition(key="category", match=qe.MatchAny(list(flt.categories))))
    must_not: list[qe.ConditionType] | None = (
        [qe.HasIdCondition(set(flt.exclude_ids))] if flt.exclude_ids else None
    )
    if not must and not must_not:
        return None
    return qe.Filter(must=must or None, must_not=must_not)


class EdgeVectorIndex:
    def __init__(self, path: Path) -> None:
        self._path = path
        self._shard: qe.EdgeShard | None = None
        if path.exists() and any(path.iterdir()):
            self._shard = qe.EdgeShard.load(str(path))

    def ensure_collection(self, dim: int) -> None:
        if self._shard is not None:
            return
        self._path.mkdir(parents=True, exist_ok=True)
        config = qe.EdgeConfig(vectors=qe.EdgeVectorParams(size=dim, distance=qe.Distance.Cosine))
        self._shard = qe.EdgeShard.create(str(self._path), config)
        for name in KEYWORD_FIELDS:
            self._shard.update(qe.UpdateOperation.create_field_index(name, qe.PayloadSchemaType.Keyword))

    @property
    def shard(self) -> qe.EdgeShard:
        if self._shard is None:
            raise RuntimeError(f"no vector index at {self._path}; seed first")
        return self._shard

    def upsert(self, points: Sequence[VectorPoint], progress: Progress | None = None) -> None:
        for start in range(0, len(points), _UPSERT_CHUNK):
            chunk = points[start : start + _UPSERT_CHUNK]
            edge_points = [qe.Point(p.id, list(map(float, p.vector)), dict(p.payload)) for p in chunk]
            self.shard.update(qe.UpdateOperation.upsert_points(edge_points))
            if progress:
                progress(len(chunk))
        self.shard.flush()

    def search_many(self, queries: Sequence[VectorQuery]) -> list[list[VectorHit]]:
        requests = [
            qe.QueryRequest(
                limit=q.limit,
                query=qe.Query.Nearest(list(q.vector)),
                filter=edge_filter(q.filter),
                with_payload=q.with_payload,
                params=qe.SearchParams(hnsw_ef=q.hnsw_ef) if q.hnsw_ef else None,
            )
            for q in queries
        ]
        results = self.shard.query_batch(qe.QueryBatchRequest(requests))
        return [
            [VectorHit(id=int(p.id), score=float(p.score), payload=p.payload or {}) for p in points]
            for points in results
        ]

    def count(self) -> int:
        if self._shard is None:
            return 0
        return int(self._shard.count(qe.CountRequest(exact=True)))

    def optimize(self) -> None:
        self.shard.optimize()
        self.shard.flush()

    def close(self) -> None:
        if self._shard is not None:
            self._shard.flush()
            self._shard.close()
            self._shard = None
