"""Reads the dataflow's windowed store figures (stream/store_stats.py, stream/purchases.py) for dashboards."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import redis.asyncio as aioredis

from guang.dashboard.models import StoreTotals, StoreWindowStats
from guang.domain import keys


def _ints(row: dict[bytes, bytes]) -> dict[str, int]:
    return {name.decode(): int(float(value)) for name, value in row.items()}


def _present(buckets: Sequence[int], values: Sequence[bytes | None]) -> dict[int, int]:
    return {b: int(float(v)) for b, v in zip(buckets, values, strict=True) if v is not None}


class RedisStoreStats:
    def __init__(self, url: str) -> None:
        self._redis = aioredis.Redis.from_url(url)

    async def read(
        self, store_id: str, *, mall_id: str, buckets: Sequence[int], staff_ids: Sequence[str], trending: int
    ) -> StoreWindowStats:
        """Everything one dashboard view needs, in one round trip."""
        pipe = self._redis.pipeline(transaction=False)
        pipe.hgetall(keys.footfall_key(store_id))
        pipe.hgetall(keys.redemptions_key(store_id))
        for start in buckets:
            pipe.hget(keys.conversion_key(store_id, start), "payers")
            pipe.hgetall(keys.dwell_key(store_id, start))
            pipe.hgetall(keys.dwell_count_key(store_id, start))
        pipe.zrevrange(keys.trending_key(mall_id), 0, trending - 1, withscores=True)
        for staff_id in staff_ids:
            pipe.hgetall(keys.guide_totals(staff_id))
        rows = await pipe.execute()
        footfall, redemptions = _ints(rows[0]), _ints(rows[1])
        wanted = {str(b) for b in buckets}
        per_bucket = rows[2 : 2 + 3 * len(buckets)]
        dwell_ms: dict[str, int] = {}
        dwell_events: dict[str, int] = {}
        payers: dict[int, int] = {}
        for start, (paid, dwell, count) in zip(
            buckets, zip(*[iter(per_bucket)] * 3, strict=True), strict=True
        ):
            payers[start] = int(paid or 0)
            for zone, ms in _ints(dwell).items():
                dwell_ms[zone] = dwell_ms.get(zone, 0) + ms
            for zone, n in _ints(count).items():
                dwell_events[zone] = dwell_events.get(zone, 0) + n
        rest = rows[2 + 3 * len(buckets) :]
        hot = cast(list[tuple[bytes, float]], rest[0])
        return StoreWindowStats(
            footfall={int(k): v for k, v in footfall.items() if k in wanted},
            payers=payers,
            redemptions={int(k): v for k, v in redemptions.items() if k in wanted},
            dwell_ms=dwell_ms,
            dwell_events=dwell_events,
            trending={sku.decode(): float(score) for sku, score in hot},
            guides={staff: _ints(row) for staff, row in zip(staff_ids, rest[1:], strict=True)},
        )

    async def read_mall(
        self, store_ids: Sequence[str], *, mall_id: str, buckets: Sequence[int], trending: int
    ) -> tuple[dict[str, StoreTotals], dict[str, float]]:
        """Footfall, payers and redemptions per bucket of many stores and the mall's trending SKUs, in one
        round trip."""
        fields = [str(b) for b in buckets]
        pipe = self._redis.pipeline(transaction=False)
        for store_id in store_ids:
            pipe.hmget(keys.footfall_key(store_id), fields)
            pipe.hmget(keys.redemptions_key(store_id), fields)
            for start in buckets:
                pipe.hget(keys.conversion_key(store_id, start), "payers")
        pipe.zrevrange(keys.trending_key(mall_id), 0, trending - 1, withscores=True)
        rows = await pipe.execute()
        per_store = 2 + len(buckets)
        totals: dict[str, StoreTotals] = {}
        for i, store_id in enumerate(store_ids):
            footfall, redemptions, *payers = rows[i * per_store : (i + 1) * per_store]
            totals[store_id] = StoreTotals(
                footfall=_present(buckets, footfall),
                payers=_present(buckets, payers),
                redemptions=_present(buckets, redemptions),
            )
        hot = cast(list[tuple[bytes, float]], rows[-1])
        return totals, {sku.decode(): float(score) for sku, score in hot}

    async def close(self) -> None:
        await self._redis.aclose()
