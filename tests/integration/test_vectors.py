"""Both vector implementations answer the same filtered queries the same way."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from qdrant_client import QdrantClient

from guang.adapters.ports import VectorFilter, VectorIndex, VectorPoint, VectorQuery
from guang.adapters.qdrant_edge_vectors import EdgeVectorIndex
from guang.adapters.qdrant_server_vectors import ServerVectorIndex


def points() -> list[VectorPoint]:
    rng = np.random.default_rng(7)
    return [
        VectorPoint(
            id=i,
            vector=rng.normal(size=16).tolist(),
            payload={"category": "外套" if i % 2 else "牛仔裤", "store_ids": ["s1"] if i % 3 else ["s2"]},
        )
        for i in range(1, 301)
    ]


@pytest.fixture(params=["edge", "server-api"])
def index(request: pytest.FixtureRequest, tmp_path: Path) -> VectorIndex:
    if request.param == "edge":
        return EdgeVectorIndex(tmp_path / "items")
    # qdrant-client's in-memory mode speaks the same API as a Qdrant server.
    return ServerVectorIndex(QdrantClient(location=":memory:"))


def test_filtered_search_returns_only_in_stock_items_of_the_wanted_categories(index: VectorIndex) -> None:
    index.ensure_collection(16)
    data = points()
    index.upsert(data)
    index.optimize()
    assert index.count() == 300
    query = data[3].vector
    hits = index.search_many(
        [
            VectorQuery(query, VectorFilter(store_id="s1", categories=["外套"], exclude_ids=[5]), 10),
            VectorQuery(query, VectorFilter(), 1),
        ]
    )
    assert len(hits[0]) == 10
    assert all(h.payload["category"] == "外套" and "s1" in h.payload["store_ids"] for h in hits[0])
    assert 5 not in {h.id for h in hits[0]}
    assert hits[1][0].id == 4  # the point itself is its own nearest neighbour
    wanted = VectorFilter(store_id="s1", categories=["外套"], exclude_ids=[5])
    [lean] = index.search_many([VectorQuery(query, wanted, 10, with_payload=False, hnsw_ef=16)])
    assert [h.id for h in lean] == [h.id for h in hits[0]] and all(not h.payload for h in lean)
    index.close()


def test_the_edge_index_survives_a_reopen(tmp_path: Path) -> None:
    index = EdgeVectorIndex(tmp_path / "items")
    index.ensure_collection(16)
    index.upsert(points())
    index.close()
    assert EdgeVectorIndex(tmp_path / "items").count() == 300
