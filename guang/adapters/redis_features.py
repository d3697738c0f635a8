"""Live features in Redis (embedded Valkey or a Redis server): subject interests, presence, best sellers."""

from __future__ import annotations

import dataclasses
import functools
import json
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping, Sequence
from typing import Any, ParamSpec, TypeVar, cast

import redis
import redis.asyncio as aioredis

from guang.adapters.ports import BackendUnavailable, StoreChange, SubjectData
from guang.domain import keys
from guang.domain.events import member_subject
from guang.domain.features import LastDwell, ShopperHistory, SubjectFeatures
from guang.domain.writes import Announce, Put, Write, ZPut

P = ParamSpec("P")
R = TypeVar("R")
MEMBER_PREFIX = member_subject("")
SERVING_TIMEOUT_S = 0.5
"""A serving read that takes longer than this is treated as Redis being down: degrade, do not hang."""

STORE_UPDATES_CHANNEL = "guang:store-updates"
SUBJECT_TTL_S = 30 * 24 * 3600
PRESENCE_RETENTION_MS = 24 * 3600 * 1000


subject_key = keys.subject
presence_key = keys.presence
best_key = keys.store_best


def encode_features(features: SubjectFeatures) -> str:
    """One compact JSON value per subject: one write, one read."""
    blob: dict[str, object] = {"t": features.ts_ms, "c": features.category_scores, "k": features.sku_scores}
    if features.last_dwell is not None:
        blob["ld"] = features.last_dwell.__dict__
    if features.store_id:
        blob["s"] = features.store_id
    if not features.present:
        blob["gone"] = 1
    if features.last_event_id:
        blob["e"] = features.last_event_id
    return json.dumps(blob, ensure_ascii=False, separators=(",", ":"))


def decode_features(subject_id: str, raw: bytes | str | None) -> SubjectFeatures | None:
    if not raw:
        return None
    blob = json.loads(raw)
    last = blob.get("ld")
    return SubjectFeatures(
        subject_id=subject_id,
        ts_ms=int(blob["t"]),
        category_scores=blob.get("c", {}),
        sku_scores=blob.get("k", {}),
        last_dwell=LastDwell(**last) if last else None,
        store_id=blob.get("s"),
        present=not blob.get("gone"),
        last_event_id=blob.get("e"),
    )


_APPLY = """
local n = 0
for i = 1, #ARGV, 5 do
  local op, key, a, b, ttl = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]
  if op == 'S' then
    if ttl ~= '' then redis.call('SET', key, b, 'EX', ttl) else redis.call('SET', key, b) end
    ttl = ''
  elseif op == 'H' then redis.call('HSET', key, a, b)
  elseif op == 'Z' then redis.call('ZADD', key, b, a)
  elseif op == 'D' then redis.call('DEL', key)
  elseif op == 'P' then redis.call('PUBLISH', key, b)
  elseif op == 'R' then
    local kind = redis.call('TYPE', key)['ok']
    if kind == 'zset' then redis.call('ZREM', key, a)
    elseif kind == 'hash' then redis.call('HDEL', key, a) end
  end
  if ttl ~= '' then redis.call('EXPIRE', key, ttl) end
  n = n + 1
end
return n
"""


def _flatten(writes: Sequence[Write]) -> list[str | int | float]:
    args: list[str | int | float] = []
    for w in writes:
        ttl: str | int = ""
        if isinstance(w, Put):
            ttl = w.ttl_s or ""
            args += ["S", w.key, "", w.value, ttl] if w.field is None else ["H", w.key, w.field, w.value, ttl]
        elif isinstance(w, ZPut):
            args += ["Z", w.key, w.member, w.score, w.ttl_s or ""]
        elif isinstance(w, Announce):
            message = {"store_id": w.store_id, "subject_id": w.subject_id, "event_id": w.event_id}
            args += ["P", STORE_UPDATES_CHANNEL, "", json.dumps(message), ""]
        elif w.member is None:
            args += ["D", w.key, "", "", ""]
        else:
            args += ["R", w.key, w.member, "", ""]
    return args


class RedisFeatureWriter:
    """Synchronous writer for the dataflow sink. Writes absolute values, so replays are harmless."""

    def __init__(self, url: str) -> None:
        self._redis = redis.Redis.from_url(url)
        self._apply = self._redis.register_script(_APPLY)

    def apply(self, writes: Sequence[Write]) -> None:
        """Apply absolute writes in order, in one round trip."""
        if writes:
            self._apply(args=_flatten(writes))

    def write(self, updates: Sequence[SubjectFeatures]) -> None:
        """Replace each subject's features, update presence and announce changes: one round trip per batch."""
        if not updates:
            return
        pipe = self._redis.pipeline(transaction=False)
        values = [Put(subject_key(f.subject_id), encode_features(f), ttl_s=SUBJECT_TTL_S) for f in updates]
        self._apply(args=_flatten(values), client=pipe)
        here: dict[str, dict[str, int]] = defaultdict(dict)
        gone: dict[str, list[str]] = defaultdict(list)
        for features in updates:
            if features.store_id and features.present:
                here[features.store_id][features.subject_id] = features.ts_ms
            elif features.store_id:
                gone[features.store_id].append(features.subject_id)
        for store_id, members in here.items():
            pipe.zadd(presence_key(store_id), members, gt=True)
            pipe.zremrangebyscore(
                presence_key(store_id), "-inf", max(members.values()) - PRESENCE_RETENTION_MS
            )
        for store_id, subjects in gone.items():
            pipe.zrem(presence_key(store_id), *subjects)
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


def _unavailable_as_backend_error(
    read: Callable[P, Coroutine[Any, Any, R]],
) -> Callable[P, Coroutine[Any, Any, R]]:
    """A Redis that is down or does not answer in time becomes BackendUnavailable (serving degrades)."""

    @functools.wraps(read)
    async def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await read(*args, **kwargs)
        except (redis.ConnectionError, redis.TimeoutError, OSError) as error:
            raise BackendUnavailable(f"redis: {error}") from error

    return guarded


def _audience(
    subject_ids: Sequence[str],
    raw_features: Sequence[bytes | None],
    consented: Sequence[bool],
    bought: Sequence[Sequence[bytes]],
    shown_today: Sequence[Mapping[str, int]],
    *,
    surface: str,
) -> tuple[list[SubjectFeatures], ShopperHistory]:
    """Decoded features of the subjects whose camera-derived interest may be used (`consented`: always
    true for visitors), and their joint purchase and impression history on `surface`."""
    decoded = (
        decode_features(s, raw) for s, raw, ok in zip(subject_ids, raw_features, consented, strict=True) if ok
    )
    skus = frozenset(sku.decode() for row in bought for sku in row)
    prefix = f"{surface}:product:"
    shown: dict[str, int] = {}
    for counts in shown_today:
        for name, count in counts.items():
            if name.startswith(prefix):
                sku = name.removeprefix(prefix)
                shown[sku] = shown.get(sku, 0) + count
    return [f for f in decoded if f is not None], ShopperHistory(skus, shown)


# KEYS: presence zset, best-seller zset, face-consent set. ARGV: since_ms, people, best, member prefix,
# then prefix and suffix of the subject, bought and freq key names around the subject id. Reads keys
# named from data (not declared in KEYS): fine for one Redis or Valkey, not for Redis Cluster.
STORE_CONTEXT_SCRIPT = """
local present = redis.call('ZREVRANGEBYSCORE', KEYS[1], '+inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local out = {present, redis.call('ZREVRANGE', KEYS[2], 0, tonumber(ARGV[3]) - 1)}
local prefix = ARGV[4]
for _, subject in ipairs(present) do
  local consent = 1
  if string.sub(subject, 1, #prefix) == prefix then
    consent = redis.call('SISMEMBER', KEYS[3], string.sub(subject, #prefix + 1))
  end
  out[#out + 1] = {
    redis.call('GET', ARGV[5] .. subject .. ARGV[6]) or false,
    consent,
    redis.call('HKEYS', ARGV[7] .. subject .. ARGV[8]),
    redis.call('HGETALL', ARGV[9] .. subject .. ARGV[10]),
  }
end
return out
"""


class RedisFeatureStore:
    """Async reads for the API and recommender; every request's features come back in one round trip."""

    def __init__(self, url: str, *, timeout_s: float = SERVING_TIMEOUT_S) -> None:
        self.url = url
        self._redis = aioredis.Redis.from_url(url)
        self._reads = aioredis.Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s)
        self._store_context = self._reads.register_script(STORE_CONTEXT_SCRIPT)
        """Serving reads wait a bounded time; announcements and writes use `_redis`, which waits."""

    async def ping(self) -> bool:
        try:
            return bool(await self._reads.ping())
        except (redis.RedisError, OSError):
            return False

    @_unavailable_as_backend_error
    async def subjects(self, subject_ids: Sequence[str]) -> list[SubjectFeatures]:
        if not subject_ids:
            return []
        rows = await self._reads.mget([subject_key(s) for s in subject_ids])
        decoded = (decode_features(s, raw) for s, raw in zip(subject_ids, rows, strict=True))
        return [f for f in decoded if f is not None]

    @_unavailable_as_backend_error
    async def audience(
        self, subject_ids: Sequence[str], *, surface: str, day: str
    ) -> tuple[list[SubjectFeatures], ShopperHistory]:
        """Features, purchases and today's impressions on `surface` of these subjects: one round trip.
        A member's interest comes from cameras (dwell, and visits linked at the till): it is left out unless
        their face consent is active now (DESIGN §6), whatever the dataflow has stored."""
        if not subject_ids:
            return [], ShopperHistory()
        members = [s.removeprefix(MEMBER_PREFIX) for s in subject_ids if s.startswith(MEMBER_PREFIX)]
        pipe = self._reads.pipeline(transaction=False)
        pipe.mget([subject_key(s) for s in subject_ids])
        pipe.smismember(keys.FACE_CONSENT, members or [""])
        for subject_id in subject_ids:
            pipe.hkeys(keys.subject_bought(subject_id))
            pipe.hgetall(keys.subject_freq_key(subject_id, day))
        rows = await pipe.execute()
        consented = {m for m, flag in zip(members, rows[1], strict=False) if flag}
        flags = [
            not s.startswith(MEMBER_PREFIX) or s.removeprefix(MEMBER_PREFIX) in consented for s in subject_ids
        ]
        freqs = [{k.decode(): int(v) for k, v in counts.items()} for counts in rows[3::2]]
        return _audience(subject_ids, rows[0], flags, rows[2::2], freqs, surface=surface)

    @_unavailable_as_backend_error
    async def store_context(
        self, store_id: str, *, since_ms: int, people: int, best: int, surface: str, day: str
    ) -> tuple[list[SubjectFeatures], list[str], ShopperHistory]:
        """Who is in the store now (with features, consent and history) and its best sellers: one round trip
        (a server-side script reads the presence, then each present subject's keys)."""
        here = "\0"
        bought, freq = keys.subject_bought(here).split(here), keys.subject_freq_key(here, day).split(here)
        rows = await self._store_context(
            keys=[presence_key(store_id), best_key(store_id), keys.FACE_CONSENT],
            args=[since_ms, people, best, MEMBER_PREFIX, *subject_key(here).split(here), *bought, *freq],
        )
        present = [r.decode() for r in rows[0]]
        per_subject = rows[2:]
        features, history = _audience(
            present,
            [row[0] or None for row in per_subject],
            [bool(row[1]) for row in per_subject],
            [row[2] for row in per_subject],
            [
                {row[3][i].decode(): int(row[3][i + 1]) for i in range(0, len(row[3]), 2)}
                for row in per_subject
            ],
            surface=surface,
        )
        return features, [r.decode() for r in rows[1]], history

    @_unavailable_as_backend_error
    async def co_purchased(self, sku_ids: Sequence[str], *, per_sku: int) -> dict[str, float]:
        if not sku_ids:
            return {}
        pipe = self._reads.pipeline(transaction=False)
        for sku in sku_ids:
            pipe.zrevrange(keys.sku_co_purchase(sku), 0, per_sku - 1, withscores=True)
        partners: dict[str, float] = {}
        for rows in cast(list[list[tuple[bytes, float]]], await pipe.execute()):
            for member, together in rows:
                sku = member.decode()
                partners[sku] = partners.get(sku, 0.0) + together
        return partners

    @_unavailable_as_backend_error
    async def trending(self, mall_id: str, *, top: int) -> dict[str, float]:
        rows = await self._reads.zrevrange(keys.trending_key(mall_id), 0, top - 1, withscores=True)
        return {member.decode(): float(value) for member, value in cast(list[tuple[bytes, float]], rows)}

    @_unavailable_as_backend_error
    async def ctr_counts(self, groups: Sequence[str]) -> dict[str, dict[str, float]]:
        pipe = self._reads.pipeline(transaction=False)
        for group in groups:
            pipe.hgetall(keys.ctr_key(group))
        rows = cast(list[dict[bytes, bytes]], await pipe.execute())
        return {
            group: {name.decode(): float(value) for name, value in row.items()}
            for group, row in zip(groups, rows, strict=True)
        }

    async def set_store_best(self, best: Mapping[str, Mapping[str, float]]) -> None:
        pipe = self._redis.pipeline(transaction=False)
        for store_id, scores in best.items():
            pipe.delete(best_key(store_id))
            if scores:
                pipe.zadd(best_key(store_id), dict(scores))
        await pipe.execute()

    async def replace_face_consents(self, member_ids: Sequence[str]) -> None:
        pipe = self._redis.pipeline(transaction=True)
        pipe.delete(keys.FACE_CONSENT)
        if member_ids:
            pipe.sadd(keys.FACE_CONSENT, *member_ids)
        await pipe.execute()

    async def face_consented(self, member_ids: Sequence[str]) -> set[str]:
        if not member_ids:
            return set()
        flags = await self._redis.smismember(keys.FACE_CONSENT, list(member_ids))
        return {member for member, flag in zip(member_ids, flags, strict=True) if flag}

    async def set_face_consent(self, member_id: str, granted: bool) -> None:
        if granted:
            await self._redis.sadd(keys.FACE_CONSENT, member_id)
            return
        subject = member_subject(member_id)
        pipe = self._redis.pipeline(transaction=False)
        pipe.srem(keys.FACE_CONSENT, member_id)
        pipe.get(subject_key(subject))
        _, raw = await pipe.execute()
        features = decode_features(subject, raw) if raw else None
        pipe = self._redis.pipeline(transaction=True)
        pipe.delete(subject_key(subject))
        if features is not None and features.store_id:
            pipe.zrem(presence_key(features.store_id), subject)
        await pipe.execute()

    async def _subject_keys(self, subject_id: str) -> list[bytes]:
        """The subject's own key and every key under it (`<key>:…`), never another subject's."""
        own = subject_key(subject_id)
        found = [own] if await self._redis.exists(own) else []
        found += [k.decode() async for k in self._redis.scan_iter(match=_glob(own) + ":*", count=1000)]
        return [k.encode() for k in sorted(set(found))]

    async def _presence_keys(self) -> list[bytes]:
        return sorted({k async for k in self._redis.scan_iter(match=keys.PRESENCE_PATTERN, count=1000)})

    async def subject_data(self, subject_id: str, member_id: str, *, max_keys: int) -> SubjectData:
        found = await self._subject_keys(subject_id)
        wanted = found[:max_keys]
        pipe = self._redis.pipeline(transaction=False)
        for key in wanted:
            pipe.type(key)
        kinds = [k.decode() if isinstance(k, bytes) else str(k) for k in await pipe.execute()]
        pipe = self._redis.pipeline(transaction=False)
        for key, kind in zip(wanted, kinds, strict=True):
            if kind == "zset":
                pipe.zrange(key, 0, -1, withscores=True)
            else:
                {"string": pipe.get, "hash": pipe.hgetall, "set": pipe.smembers}.get(kind, pipe.type)(key)
        values = await pipe.execute()
        decoded = {
            key.decode(): _readable(subject_id, key.decode(), kind, value)
            for key, kind, value in zip(wanted, kinds, values, strict=True)
        }
        presence = await self._presence_keys()
        pipe = self._redis.pipeline(transaction=False)
        for key in presence:
            pipe.zscore(key, subject_id)
        pipe.sismember(keys.FACE_CONSENT, member_id)
        *seen, consented = await pipe.execute()
        present_in = {
            keys.store_of_presence(key.decode()): int(score)
            for key, score in zip(presence, seen, strict=True)
            if score is not None
        }
        return SubjectData(
            keys=decoded, present_in=present_in, face_consent=bool(consented), truncated=len(found) > max_keys
        )

    async def forget_subject(self, subject_id: str, member_id: str) -> dict[str, int]:
        found = await self._subject_keys(subject_id)
        presence = await self._presence_keys()
        pipe = self._redis.pipeline(transaction=False)
        for start in range(0, len(found), 500):
            pipe.delete(*found[start : start + 500])
        for key in presence:
            pipe.zrem(key, subject_id)
        pipe.srem(keys.FACE_CONSENT, member_id)
        results = [int(r) for r in await pipe.execute()]
        batches = (len(found) + 499) // 500
        return {
            "keys": sum(results[:batches]),
            "presence": sum(results[batches : batches + len(presence)]),
            "face_consent": results[-1],
        }

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
        await self._reads.aclose()


def _glob(text: str) -> str:
    """`text` matched literally in a SCAN pattern."""
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)


def _text(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else value


def _readable(subject_id: str, key: str, kind: str, value: Any) -> Any:
    """One Redis value as plain JSON-able data; the feature blob decoded into its fields."""
    if kind == "string" and key == subject_key(subject_id):
        features = decode_features(subject_id, value)
        return dataclasses.asdict(features) if features is not None else None
    if kind == "string":
        return _text(value)
    if kind == "hash":
        return {_text(f): _text(v) for f, v in value.items()}
    if kind == "set":
        return sorted(_text(m) for m in value)
    if kind == "zset":
        return {_text(m): float(score) for m, score in value}
    return None


class RedisConsentView:
    """The dataflow's view of who consented to face recognition, re-read every few seconds."""

    def __init__(self, url: str, *, refresh_s: float = 2.0) -> None:
        self._redis = redis.Redis.from_url(url)
        self._refresh_s = refresh_s
        self._members: frozenset[str] = frozenset()
        self._read_at = float("-inf")

    def has_face_consent(self, member_id: str) -> bool:
        if time.monotonic() - self._read_at > self._refresh_s:
            raw = cast(set[bytes], self._redis.smembers(keys.FACE_CONSENT))
            self._members = frozenset(m.decode() for m in raw)
            self._read_at = time.monotonic()
        return member_id in self._members
