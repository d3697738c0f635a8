"""The event bus on Redis Streams. Publishing is idempotent per event_id (an atomic SET NX + XADD)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import cast

import redis
import redis.asyncio as aioredis

from guang.adapters.ports import BusMessage, DeadLetter, PublishResult

_PUBLISH_ONCE = """
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'e', ARGV[3])
  return 1
end
return 0
"""
START = "0-0"


def _dedupe_key(event_id: str) -> str:
    return f"bus:seen:{event_id}"


def position_key(stream: str) -> str:
    return f"{stream}:dataflow-position"


def position_ms(position: str) -> int:
    return int(position.partition("-")[0])


class RedisStreamBus:
    """Async publisher used by the API."""

    def __init__(self, url: str, *, stream: str, maxlen: int, dedupe_ttl_s: int) -> None:
        self._redis = aioredis.Redis.from_url(url)
        self._stream = stream
        self._maxlen = maxlen
        self._ttl = dedupe_ttl_s
        self._script = self._redis.register_script(_PUBLISH_ONCE)

    async def publish(self, items: Iterable[tuple[str, str]]) -> list[PublishResult]:
        batch = list(items)
        if not batch:
            return []
        pipe = self._redis.pipeline(transaction=False)
        for event_id, payload in batch:
            await self._script(
                keys=[_dedupe_key(event_id), self._stream],
                args=[self._ttl, self._maxlen, payload],
                client=pipe,
            )
        flags = await pipe.execute()
        return [PublishResult(eid, bool(flag)) for (eid, _), flag in zip(batch, flags, strict=True)]

    async def length(self) -> int:
        return int(await self._redis.xlen(self._stream))

    async def lag(self, *, cap: int = 100_000) -> tuple[int, float]:
        """Entries the dataflow has not read (counted up to `cap`) and how far behind it is, in seconds."""
        raw = cast(bytes | None, await self._redis.get(position_key(self._stream)))
        position = raw.decode() if raw else START
        newest = cast(list[tuple[bytes, object]], await self._redis.xrevrange(self._stream, count=1))
        if not newest:
            return 0, 0.0
        low = "-" if position == START else f"({position}"
        behind = cast(list[object], await self._redis.xrange(self._stream, min=low, max="+", count=cap))
        seconds = (position_ms(newest[0][0].decode()) - position_ms(position)) / 1000 if behind else 0.0
        return len(behind), max(seconds, 0.0)

    async def ping(self) -> bool:
        try:
            return bool(await self._redis.ping())
        except (redis.RedisError, OSError):
            return False

    async def close(self) -> None:
        await self._redis.aclose()


class RedisStreamReader:
    """Positional, synchronous reads for the dataflow source: resume right after a saved position."""

    def __init__(self, url: str, *, stream: str) -> None:
        self._redis = redis.Redis.from_url(url)
        self._stream = stream

    def read_after(self, position: str, count: int) -> list[BusMessage]:
        low = "-" if position == START else f"({position}"
        rows = cast(
            list[tuple[bytes, dict[bytes, bytes]]],
            self._redis.xrange(self._stream, min=low, max="+", count=count),
        )
        return [BusMessage(position=msg_id.decode(), data=fields[b"e"]) for msg_id, fields in rows]

    def last_position(self) -> str:
        rows = cast(list[tuple[bytes, dict[bytes, bytes]]], self._redis.xrevrange(self._stream, count=1))
        return rows[0][0].decode() if rows else START

    def commit_position(self, position: str) -> None:
        self._redis.set(position_key(self._stream), position)

    def close(self) -> None:
        self._redis.close()


_DEAD_ONCE = """
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*',
             'reason', ARGV[3], 'data', ARGV[4], 'event_id', ARGV[5], 'position', ARGV[6])
end
return 1
"""


class RedisDeadLetters:
    """The dead-letter stream: what the dataflow could not use, with why, each bus entry at most once."""

    def __init__(self, url: str, *, stream: str, maxlen: int = 100_000, ttl_s: int = 30 * 24 * 3600) -> None:
        self._redis = redis.Redis.from_url(url)
        self._stream = stream
        self._maxlen = maxlen
        self._ttl = ttl_s
        self._script = self._redis.register_script(_DEAD_ONCE)

    def write(self, letters: Sequence[DeadLetter]) -> None:
        if not letters:
            return
        pipe = self._redis.pipeline(transaction=False)
        for letter in letters:
            self._script(
                keys=[f"{self._stream}:seen:{letter.position}", self._stream],
                args=[
                    self._ttl,
                    self._maxlen,
                    letter.reason,
                    letter.data,
                    letter.event_id or "",
                    letter.position,
                ],
                client=pipe,
            )
        pipe.execute()

    def read(self, count: int = 100) -> list[DeadLetter]:
        rows = cast(list[tuple[bytes, dict[bytes, bytes]]], self._redis.xrange(self._stream, count=count))
        return [
            DeadLetter(
                position=fields[b"position"].decode(),
                reason=fields[b"reason"].decode(),
                data=fields[b"data"].decode(errors="replace"),
                event_id=fields[b"event_id"].decode() or None,
            )
            for _, fields in rows
        ]

    def close(self) -> None:
        self._redis.close()
