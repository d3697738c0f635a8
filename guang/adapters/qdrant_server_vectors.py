"""Item vectors in a Qdrant server through qdrant-client (server mode, docker-compose)."""

from __future__ import annotations

from collections.abc import Sequence

import httpx
from qdrant_client import QdrantClient, models
from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

from guang.adapters.ports import (
    BackendUnavailable,
    Progress,
    VectorFilter,
    VectorHit,
    VectorPoint,
    VectorQuery,
)
from guang.adapters.qdrant_edge_vectors import KEYWORD_FIELDS

_UPSERT_CHUNK = 1000


def server_filter(flt: VectorFilter) -> models.Filter | None:
    must: list[models.Condition] = []
    if flt.store_id:
        must.append(models.FieldCondition(key="store_ids", match=models.MatchValue(value=flt.store_id)))
    if flt.store_ids:
        must.append(models.FieldCondition(key="store_ids", match=models.MatchAny(any=list(flt.store_ids))))
    if flt.categories:
        must.append(models.FieldCondition(key="category", match=models.MatchAny(any=list(flt.categories))))
    must_not: list[models.Condition] | None = (
        [models.HasIdCondition(has_id=list(flt.exclude_ids))] if flt.exclude_ids else None
    )
    if not must and not must_not:
        return None
    return models.Filter(must=must or None, must_not=must_not)


class ServerVectorIndex:
    def __init__(self, client: QdrantClient, collection: str = "items") -> None:
        self._client = client
        self._collection = collection

    @classmethod
    def from_url(cls, url: str, collection: str = "items") -> ServerVectorIndex:
        return cls(QdrantClient(url=url, timeout=10), collection)

    def ensure_collection(self, dim: int) -> None:
        if self._client.collection_exists(self._collection):
            return
        self._client.create_collection(
            self._collection,
            vectors_config=models.VectorParams(size=dim, distance=models.Distance.COSINE),
        )
        for name in KEYWORD_FIELDS:
            self._client.create_payload_index(self._collection, name, models.PayloadSchemaType.KEYWORD)

    def upsert(self, points: Sequence[VectorPoint], progress: Progress | None = None) -> None:
        for start in range(0, len(points), _UPSERT_CHUNK):
            chunk = points[start : start + _UPSERT_CHUNK]
            self._client.upsert(
                self._collection,
                points=[
                    models.PointStruct(id=p.id, vector=list(map(float, p.vector)), payload=dict(p.payload))
                    for p in chunk
                ],
                wait=True,
            )
            if progress:
                progress(len(chunk))

    def search_many(self, queries: Sequence[VectorQuery]) -> list[list[VectorHit]]:
        requests = [
            models.QueryRequest(
                query=list(q.vector),
                filter=server_filter(q.filter),
                limit=q.limit,
                with_payload=q.with_payload,
                params=models.SearchParams(hnsw_ef=q.hnsw_ef) if q.hnsw_ef else None,
            )
            for q in queries
        ]
        try:
            responses = self._client.query_batch_points(self._collection, requests=requests)
        except (ResponseHandlingException, UnexpectedResponse, httpx.HTTPError) as error:
            raise BackendUnavailable(f"qdrant: {error}") from error
        return [
            [VectorHit(id=int(p.id), score=float(p.score), payload=p.payload or {}) for p in response.points]
            for response in responses
        ]

    def count(self) -> int:
        if not self._client.collection_exists(self._collection):
            return 0
        return int(self._client.count(self._collection, exact=True).count)

    def optimize(self) -> None:
        """The server optimises in the background."""

    def close(self) -> None:
        self._client.close()
