"""The document adapter against a real SecantusDB process, through pymongo's async client."""

from __future__ import annotations

import uuid

from guang.adapters.mongo_documents import MongoDocumentStore


async def test_documents_round_trip_and_geo_near_sorts_by_distance(mongo_uri: str) -> None:
    store = MongoDocumentStore(mongo_uri, f"t{uuid.uuid4().hex[:8]}")
    malls = [
        {"_id": "far", "location": {"type": "Point", "coordinates": [121.50, 31.24]}},
        {"_id": "near", "location": {"type": "Point", "coordinates": [121.446, 31.224]}},
        {"_id": "mid", "location": {"type": "Point", "coordinates": [121.47, 31.23]}},
    ]
    await store.insert_many("malls", malls)
    await store.create_index("malls", [("location", "2dsphere")])
    assert await store.count("malls") == 3
    assert (await store.find_one("malls", {"_id": "mid"}) or {}).get("_id") == "mid"
    nearest = await store.aggregate(
        "malls",
        [{"$geoNear": {"near": {"type": "Point", "coordinates": [121.445, 31.223]}, "distanceField": "d",
                       "spherical": True}}],
    )  # fmt: skip
    assert [m["_id"] for m in nearest] == ["near", "mid", "far"]
    await store.upsert("malls", "near", {"name": "嘉里中心"})
    assert (await store.find_one("malls", {"_id": "near"}) or {}).get("name") == "嘉里中心"
    assert await store.ping()
    await store.drop_database()
    await store.close()
