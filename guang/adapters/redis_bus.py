"""The event bus on Redis Streams. Publishing is idempotent per event_id (an atomic SET NX + XADD)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from typing import Any, cast

import redis
import redis.asyncio as aioredis

from guang.adapters.ports import BusMessage, DeadLetter, PublishResult
from guang.domain.signals import Signal

# Append the fields ARGV[3..] to stream KEYS[2] unless once-key KEYS[1] was set before; 1 if appended.
_APPEND_ONCE = """
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', unpack(ARGV, 3))
  return 1
end
return 0
"""
START = "0-0"
DEFAULT_RETENTION_S = 3600
SCAN_PAGE = 500
"""Entries read per XRANGE when looking for one member's events."""


def _dedupe_key(event_id: str) -> str:
    return f"bus:seen:{event_id}"


def position_key(stream: str) -> str:
    return f"{stream}:dataflow-position"


def alive_key(stream: str) -> str:
    return f"{stream}:dataflow-alive"


ALIVE_TTL_S = 5


def position_ms(position: str) -> int:
    return int(position.partition("-")[0])


class RedisStreamBus:
    """Async publisher used by the API."""

    def __init__(self, url: str, *, stream: str, maxlen: int, dedupe_ttl_s: int) -> None:
        self._redis = aioredis.Redis.from_url(url)
        self._stream = stream
        self._maxlen = maxlen
        self._ttl = dedupe_ttl_s
        self._script = self._redis.register_script(_APPEND_ONCE)

    async def publish(self, items: Iterable[tuple[str, str]]) -> list[PublishResult]:
        batch = list(items)
        if not batch:
            return []
        pipe = self._redis.pipeline(transaction=False)
        for event_id, payload in batch:
            await self._script(
                keys=[_dedupe_key(event_id), self._stream],
                args=[self._ttl, self._maxlen, "e", payload],
                client=pipe,
            )
        flags = await pipe.execute()
        return [PublishResult(eid, bool(flag)) for (eid, _), flag in zip(batch, flags, strict=True)]

    async def lag(self, *, cap: int = 10_000) -> tuple[int, float]:
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

    async def dataflow_alive(self) -> bool:
        try:
            return bool(await self._redis.exists(alive_key(self._stream)))
        except (redis.RedisError, OSError):
            return False

    async def close(self) -> None:
        await self._redis.aclose()

    async def _entries_of(self, user_id: str) -> AsyncIterator[list[tuple[bytes, dict[str, Any]]]]:
        """The member's entries, page by page over the whole retained stream (oldest first)."""
        needle = json.dumps(user_id).encode()
        low = "-"
        while True:
            rows = cast(
                list[tuple[bytes, dict[bytes, bytes]]],
                await self._redis.xrange(self._stream, min=low, max="+", count=SCAN_PAGE),
            )
            found = []
            for entry_id, fields in rows:
                raw = fields.get(b"e", b"")
                if needle not in raw:  # cheap test first: most entries are someone else's
                    continue
                try:
                    event = json.loads(raw)
                except ValueError:
                    continue
                if isinstance(event, dict) and event.get("user_id") == user_id:
                    found.append((entry_id, event))
            if found:
                yield found
            if len(rows) < SCAN_PAGE:
                return
            low = f"({rows[-1][0].decode()}"

    async def events_of(self, user_id: str, *, limit: int) -> tuple[list[dict[str, Any]], bool]:
        events: list[dict[str, Any]] = []
        async for page in self._entries_of(user_id):
            events += [event for _, event in page]
            if len(events) > limit:
                return events[:limit], True
        return events, False

    async def delete_events_of(self, user_id: str) -> int:
        deleted = 0
        async for page in self._entries_of(user_id):
            deleted += int(await self._redis.xdel(self._stream, *[entry_id for entry_id, _ in page]))
        return deleted


def trim_before(position: str, retention_s: int) -> str | None:
    """The MINID that keeps every entry newer than `retention_s` before `position` (a stream id, whose
    time is the server's clock when the entry was added); None when nothing can be trimmed yet."""
    if position == START:
        return None
    floor_ms = position_ms(position) - retention_s * 1000
    return f"{floor_ms}-0" if floor_ms > 0 else None


class RedisStreamReader:
    """Positional, synchronous reads for the dataflow source: resume right after a saved position.

    Committing a position also trims the stream behind it: entries read more than `retention_s` before
    it go (XTRIM MINID ~, whole nodes only, so a few more may stay). Entries not read yet are never
    trimmed here, however far behind the dataflow is; the publisher's MAXLEN is the only hard cap."""

    def __init__(self, url: str, *, stream: str, retention_s: int = DEFAULT_RETENTION_S) -> None:
        self._redis = redis.Redis.from_url(url)
        self._stream = stream
        self._retention_s = retention_s

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
        """Also a heartbeat: readiness requires one within the last few seconds. Trims what was read
        more than the retention before `position`."""
        pipe = self._redis.pipeline(transaction=False)
        pipe.set(position_key(self._stream), position)
        pipe.set(alive_key(self._stream), "1", ex=ALIVE_TTL_S)
        if (minid := trim_before(position, self._retention_s)) is not None:
            pipe.xtrim(self._stream, minid=minid, approximate=True)
        pipe.execute()

    def close(self) -> None:
        self._redis.close()


class RedisAppendOnce:
    """A stream the dataflow appends to at most once per id, so a replay after recovery adds nothing."""

    def __init__(self, url: str, *, stream: str, maxlen: int = 100_000, ttl_s: int = 24 * 3600) -> None:
        self._redis = redis.Redis.from_url(url)
        self._stream = stream
        self._maxlen = maxlen
        self._ttl = ttl_s
        self._script = self._redis.register_script(_APPEND_ONCE)

    def append(self, entries: Sequence[tuple[str, Mapping[str, str]]]) -> None:
        if not entries:
            return
        pipe = self._redis.pipeline(transaction=False)
        for once_id, fields in entries:
            flat = [part for pair in fields.items() for part in pair]
            keys = [f"{self._stream}:once:{once_id}", self._stream]
            self._script(keys=keys, args=[self._ttl, self._maxlen, *flat], client=pipe)
        pipe.execute()

    def read(self, count: int = 100) -> list[dict[str, str]]:
        rows = cast(list[tuple[bytes, dict[bytes, bytes]]], self._redis.xrange(self._stream, count=count))
        return [{k.decode(): v.decode(errors="replace") for k, v in fields.items()} for _, fields in rows]

    def close(self) -> None:
        self._redis.close()


def _letter_fields(letter: DeadLetter) -> dict[str, str]:
    return {
        "reason": letter.reason,
        "data": letter.data,
        "event_id": letter.event_id or "",
        "position": letter.position,
    }


class RedisDeadLetters:
    """The dead-letter stream: what the dataflow could not use, with why, each bus entry at most once."""

    def __init__(self, url: str, *, stream: str, maxlen: int = 100_000, once_ttl_s: int = 24 * 3600) -> None:
        self._stream = RedisAppendOnce(url, stream=stream, maxlen=maxlen, ttl_s=once_ttl_s)

    def write(self, letters: Sequence[DeadLetter]) -> None:
        self._stream.append([(letter.position, _letter_fields(letter)) for letter in letters])

    def read(self, count: int = 100) -> list[DeadLetter]:
        return [
            DeadLetter(f["position"], f["reason"], f["data"], f["event_id"] or None)
            for f in self._stream.read(count)
        ]

    def close(self) -> None:
        self._stream.close()


class RedisSignals:
    """Derived moments (arrival, parking entry, exit …) for the API to act on, each at most once."""

    def __init__(self, url: str, *, stream: str, maxlen: int = 100_000, once_ttl_s: int = 24 * 3600) -> None:
        self._stream = RedisAppendOnce(url, stream=stream, maxlen=maxlen, ttl_s=once_ttl_s)

    def write(self, signals: Sequence[Signal]) -> None:
        self._stream.append(
            [(s.dedupe_id, {k: "" if v is None else str(v) for k, v in s.__dict__.items()}) for s in signals]
        )

    def close(self) -> None:
        self._stream.close()
