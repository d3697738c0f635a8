"""Retention limits against a real SecantusDB: what is older than its limit goes, the rest stays."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from guang.adapters.mongo_documents import MongoDocumentStore
from guang.services.retention import DAY_MS, apply_retention, retention_job

NOW = 1_790_000_000_000


async def test_records_older_than_their_limit_are_deleted_and_the_rest_kept(mongo_uri: str) -> None:
    store = MongoDocumentStore(mongo_uri, f"t{uuid.uuid4().hex[:8]}")
    await store.insert_many("face_matches", [
        {"_id": "old", "member_id": "m1", "logged_ms": NOW - 91 * DAY_MS},
        {"_id": "recent", "member_id": "m1", "logged_ms": NOW - 89 * DAY_MS},
    ])  # fmt: skip
    await store.insert_many("face_enrolment_codes", [
        {"_id": "EXPIRED1", "member_id": "m1", "expires_ms": NOW - 2 * DAY_MS},
        {"_id": "LIVECODE", "member_id": "m1", "expires_ms": NOW + 60_000},
    ])  # fmt: skip

    deleted = await apply_retention(store, {"face_matches": 90, "face_enrolment_codes": 1}, now=NOW)

    assert deleted == {"face_matches": 1, "face_enrolment_codes": 1}
    assert [d["_id"] for d in await store.find("face_matches", {})] == ["recent"]
    assert [d["_id"] for d in await store.find("face_enrolment_codes", {})] == ["LIVECODE"]
    with pytest.raises(ValueError, match="unknown retention rule"):
        await apply_retention(store, {"orders": 30}, now=NOW)
    with pytest.raises(ValueError, match="whole days"):
        await apply_retention(store, {"face_matches": 0}, now=NOW)
    await store.drop_database()


async def test_the_scheduled_job_applies_the_limits_and_stops_when_told(mongo_uri: str) -> None:
    store = MongoDocumentStore(mongo_uri, f"t{uuid.uuid4().hex[:8]}")
    await store.insert_many("face_matches", [{"_id": "ancient", "member_id": "m1", "logged_ms": 1}])
    runs = [0]

    def stop() -> bool:
        runs[0] += 1
        return runs[0] > 1

    await asyncio.wait_for(retention_job(store, {"face_matches": 90}, every_s=0.01, stop=stop), timeout=10)
    assert await store.count("face_matches") == 0
    await store.drop_database()
