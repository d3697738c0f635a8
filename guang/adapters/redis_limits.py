"""Fixed-window request counters in Redis, shared by every API process."""

from __future__ import annotations

import time

import redis.asyncio


class RedisRateLimiter:
    def __init__(self, url: str, *, prefix: str = "rl:") -> None:
        self._redis = redis.asyncio.Redis.from_url(url)
        self._prefix = prefix

    async def hit(self, key: str, *, limit: int, window_s: int) -> float | None:
        """Count one request against `key`; None when within `limit` per window, else seconds to wait."""
        window = int(time.time()) // window_s
        name = f"{self._prefix}{key}:{window}"
        pipe = self._redis.pipeline(transaction=False)
        pipe.incr(name)
        pipe.expire(name, window_s + 1)
        count, _ = await pipe.execute()
        if int(count) <= limit:
            return None
        return float((window + 1) * window_s - time.time())

    async def close(self) -> None:
        await self._redis.aclose()
