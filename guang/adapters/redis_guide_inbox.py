"""The guide inbox on Redis: tailing the signals stream (XREAD) and a capped list of alerts per staff."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from typing import cast, get_args

import redis
import redis.asyncio as aioredis

from guang.adapters.ports import BackendUnavailable
from guang.domain.signals import Signal, SignalKind
from guang.guide_inbox.models import GuideAlert

START = "0-0"
BLOCK_MS = 5_000
READ_COUNT = 100
KINDS = frozenset(get_args(SignalKind))

# Push ARGV[2] on list KEYS[2] (capped at ARGV[3], expiring after ARGV[1] s) unless KEYS[1] was set before.
_RECORD_ONCE = """
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then
  redis.call('LPUSH', KEYS[2], ARGV[2])
  redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[3]) - 1)
  redis.call('EXPIRE', KEYS[2], ARGV[1])
  return 1
end
return 0
"""


def decode_signal(fields: Mapping[bytes, bytes]) -> Signal | None:
    """One entry as `RedisSignals` wrote it (the Signal's fields as text, "" for None); None if foreign."""
    data = {k.decode(): v.decode(errors="replace") for k, v in fields.items()}
    kind = data.get("kind", "")
    if kind not in KINDS or not data.get("subject_id"):
        return None
    try:
        ts_ms = int(data.get("ts_ms", ""))
    except ValueError:
        return None
    return Signal(
        cast(SignalKind, kind),
        data["subject_id"],
        data.get("mall_id", ""),
        data.get("store_id") or None,
        ts_ms,
        data.get("event_id", ""),
    )


class RedisSignalFeed:
    """Tails the signals stream with a blocking XREAD on a connection of its own."""

    def __init__(self, url: str, *, stream: str, block_ms: int = BLOCK_MS) -> None:
        self._redis = aioredis.Redis.from_url(url)
        self._stream = stream
        self._block_ms = block_ms
        self._position: str | None = None

    async def follow(self) -> AsyncIterator[Signal]:
        try:
            if self._position is None:
                newest = cast(list[tuple[bytes, object]], await self._redis.xrevrange(self._stream, count=1))
                self._position = newest[0][0].decode() if newest else START
            while True:
                rows = cast(
                    list[tuple[bytes, list[tuple[bytes, dict[bytes, bytes]]]]],
                    await self._redis.xread(
                        {self._stream: self._position}, count=READ_COUNT, block=self._block_ms
                    ),
                )
                for _stream, entries in rows or []:
                    for entry_id, fields in entries:
                        self._position = entry_id.decode()
                        signal = decode_signal(fields)
                        if signal is not None:
                            yield signal
        except (redis.RedisError, OSError) as error:
            raise BackendUnavailable(f"signals stream: {error}") from error

    async def close(self) -> None:
        await self._redis.aclose()


class RedisAlertLog:
    """`<prefix>:guide:<staff_id>`: a list of alert JSON, newest first, at most `keep` long, expiring
    `ttl_s` after the newest alert; `<prefix>:guide-once:<alert_id>` makes recording idempotent."""

    def __init__(self, url: str, *, prefix: str, keep: int, ttl_s: int) -> None:
        self._redis = aioredis.Redis.from_url(url)
        self._prefix = prefix
        self._keep = keep
        self._ttl_s = ttl_s
        self._script = self._redis.register_script(_RECORD_ONCE)

    def _list(self, staff_id: str) -> str:
        return f"{self._prefix}:guide:{staff_id}"

    async def record(self, alert: GuideAlert) -> bool:
        keys = [f"{self._prefix}:guide-once:{alert.alert_id}", self._list(alert.staff_id)]
        payload = json.dumps(alert.to_json(), ensure_ascii=False)
        try:
            return bool(await self._script(keys=keys, args=[self._ttl_s, payload, self._keep]))
        except (redis.RedisError, OSError) as error:
            raise BackendUnavailable(f"guide alerts: {error}") from error

    async def recent(self, staff_id: str, *, skip: int, limit: int) -> list[GuideAlert]:
        if limit <= 0 or skip >= self._keep:
            return []
        try:
            rows = cast(list[bytes], await self._redis.lrange(self._list(staff_id), skip, skip + limit - 1))
        except (redis.RedisError, OSError) as error:
            raise BackendUnavailable(f"guide alerts: {error}") from error
        return [GuideAlert.from_json(json.loads(row)) for row in rows]

    async def forget_member(self, member_id: str) -> int:
        """Remove every alert about this member from every staff member's list; how many went."""
        removed = 0
        try:
            async for key in self._redis.scan_iter(match=f"{self._prefix}:guide:*", count=500):
                for row in cast(list[bytes], await self._redis.lrange(key, 0, -1)):
                    if json.loads(row).get("member_id") == member_id:
                        removed += int(await self._redis.lrem(key, 0, row.decode()))
        except (redis.RedisError, OSError) as error:
            raise BackendUnavailable(f"guide alerts: {error}") from error
        return removed

    async def close(self) -> None:
        await self._redis.aclose()
