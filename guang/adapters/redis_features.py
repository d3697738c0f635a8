"""Live features in Redis (embedded Valkey or a Redis server): subject interests, presence, best sellers."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import cast

import redis
import redis.asyncio as aioredis

from guang.adapters.ports import StoreChange
from guang.domain.features import LastDwell, SubjectFeatures

STORE_UPDATES_CHANNEL = "guang:store-updates"
SUBJECT_TTL_S = 30 * 24 * 3600
PRESENCE_RETENTION_MS = 24 * 3600 * 1000


def subject_key(subject_id: str) -> str:
    return f"f:subj:{subject_id}"


def presence_key(store_id: str) -> str:
    return f"f:store:{store_id}:present"


def best_key(store_id: str) -> str:
    return f"f:store:{store_id}:best"


def _encode(features: SubjectFeatures) -> dict[str, str]:
    fields = {"t": str(features.ts_ms)}
    fields.update({f"c:{k}": repr(v) for k, v in features.category_scores.items()})
    fields.update({f"k:{k}": repr(v) for k, v in features.sku_scores.items()})
    if features.last_dwell is not None:
        fields["ld"] = json.dumps(features.last_dwell.__dict__, ensure_ascii=False)
    if features.store_id:
        fields["s"] = features.store_id
    if features.last_event_id:
        fields["e"] = features.last_event_id
    return fields


def _decode(subject_id: str, raw: Mapping[bytes, bytes]) -> SubjectFeatures | None:
    if not raw:
        return None
    fields = {k.decode(): v.decode() for k, v in raw.items()}
    last = json.loads(fields["ld"]) if "ld" in fields else None
    return SubjectFeatures(
        subject_id=subject_id,
        ts_ms=int(fields.get("t", "0")),
        category_scores={k[2:]: float(v) for k, v in fields.items() if k.startswith("c:")},
        sku_scores={k[2:]: float(v) for k, v in fields.items() if k.startswith("k:")},
        last_dwell=LastDwell(**last) if last else None,
        store_id=fields.get("s"),
        last_event_id=fields.get("e"),
    )


class RedisFeatureWriter:
    """Synchronous writer for the dataflow sink. Writes absolute values, so replays are harmless."""

    def __init__(self, url: str) -> None:
        self._redis = redis.Redis.from_url(url)

    def write(self, updates: Sequence[SubjectFeatures]) -> None:
        """Replace each subject's features, mark presence, and announce the change, in one round trip."""
        if not updates:
            return
        pipe = self._redis.pipeline(transaction=False)
        for features in updates:
            key = subject_key(features.subject_id)
            pipe.delete(key)
            pipe.hset(key, mapping=_encode(features))  # type: ignore[arg-type]
            pipe.expire(key, SUBJECT_TTL_S)
            if features.store_id and features.present:
                pipe.zadd(presence_key(features.store_id), {features.subject_id: features.ts_ms}, gt=True)
                pipe.zremrangebyscore(
                    presence_key(features.store_id), "-inf", features.ts_ms - PRESENCE_RETENTION_MS
                )
            elif features.store_id:
                pipe.zrem(presence_key(features.store_id), features.subject_id)
        for store_id, features in _latest_per_store(updates).items():
            message = {
                "store_id": store_id,
                "subject_id": features.subject_id,
                "event_id": features.last_event_id,
            }
            pipe.publish(STORE_UPDATES_CHANNEL, json.dumps(message))
        pipe.execute()

    def close(self) -> None:
        self._redis.close()


def _latest_per_store(updates: Sequence[SubjectFeatures]) -> dict[str, SubjectFeatures]:
    latest: dict[str, SubjectFeatures] = {}
    for features in updates:
        if features.store_id:
            latest[features.store_id] = features
    return latest


class RedisFeatureStore:
    """Async reads for the API and recommender; every request's features come back in one round trip."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._redis = aioredis.Redis.from_url(url)

    async def ping(self) -> bool:
        try:
            return bool(await self._redis.ping())
        except (redis.RedisError, OSError):
            return False

    async def subjects(self, subject_ids: Sequence[str]) -> list[SubjectFeatures]:
        pipe = self._redis.pipeline(transaction=False)
        for subject_id in subject_ids:
            pipe.hgetall(subject_key(subject_id))
        rows = await pipe.execute()
        decoded = (_decode(s, raw) for s, raw in zip(subject_ids, rows, strict=True))
        return [f for f in decoded if f is not None]

    async def store_context(
        self, store_id: str, *, since_ms: int, people: int, best: int
    ) -> tuple[list[SubjectFeatures], list[str]]:
        """Who is in the store now (with their features) and the store's best sellers: two round trips."""
        pipe = self._redis.pipeline(transaction=False)
        pipe.zrevrangebyscore(presence_key(store_id), "+inf", since_ms, start=0, num=people)
        pipe.zrevrange(best_key(store_id), 0, best - 1)
        present_raw, best_raw = cast(list[list[bytes]], await pipe.execute())
        present = [r.decode() for r in present_raw]
        features = await self.subjects(present) if present else []
        return features, [r.decode() for r in best_raw]

    async def set_store_best(self, best: Mapping[str, Mapping[str, float]]) -> None:
        pipe = self._redis.pipeline(transaction=False)
        for store_id, scores in best.items():
            pipe.delete(best_key(store_id))
            if scores:
                pipe.zadd(best_key(store_id), dict(scores))
        await pipe.execute()

    async def store_changes(self) -> AsyncIterator[StoreChange]:
        pubsub = self._redis.pubsub()
        try:
            await pubsub.subscribe(STORE_UPDATES_CHANNEL)
            async for message in pubsub.listen():
                if message.get("type") == "message":
                    data = json.loads(message["data"])
                    yield StoreChange(data["store_id"], data["subject_id"], data.get("event_id"))
        finally:
            await pubsub.aclose()

    async def close(self) -> None:
        await self._redis.aclose()
