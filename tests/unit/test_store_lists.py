"""Store-wide lists: reused within the window, recomputed after a store change, computed once per burst."""

from __future__ import annotations

import asyncio

from recsys.models import Audience, RecList, Surface
from recsys.store_lists import StoreListCache


class CountingRecommender:
    def __init__(self, delay_s: float = 0.0, fail: bool = False) -> None:
        self.calls = 0
        self.delay_s = delay_s
        self.fail = fail

    async def __call__(self, store_id: str, limit: int, surface: Surface) -> RecList:
        self.calls += 1
        number = self.calls
        await asyncio.sleep(self.delay_s)
        if self.fail:
            raise RuntimeError("vector index down")
        return RecList(
            rec_id=f"rec_{number}", surface=surface, audience=Audience.STORE_BEST, store_id=store_id
        )


async def test_a_burst_of_requests_for_one_store_computes_one_list() -> None:
    compute = CountingRecommender(delay_s=0.01)
    cache = StoreListCache(compute, ttl_s=60)
    lists = await asyncio.gather(*[cache.get("s1", limit=8, surface=Surface.SCREEN) for _ in range(20)])
    assert compute.calls == 1
    assert {r.rec_id for r in lists} == {"rec_1"}
    assert (await cache.get("s1", limit=8, surface=Surface.SCREEN)).rec_id == "rec_1"


async def test_a_store_change_forces_a_fresh_list_for_that_store_only() -> None:
    compute = CountingRecommender()
    cache = StoreListCache(compute, ttl_s=60)
    first_s1 = await cache.get("s1", limit=8, surface=Surface.SCREEN)
    first_s2 = await cache.get("s2", limit=8, surface=Surface.SCREEN)
    cache.invalidate("s1")
    assert (await cache.get("s1", limit=8, surface=Surface.SCREEN)).rec_id != first_s1.rec_id
    assert (await cache.get("s2", limit=8, surface=Surface.SCREEN)).rec_id == first_s2.rec_id


async def test_lists_expire_and_differ_by_limit_and_surface() -> None:
    compute = CountingRecommender()
    expiring = StoreListCache(compute, ttl_s=0)
    await expiring.get("s1", limit=8, surface=Surface.SCREEN)
    await expiring.get("s1", limit=8, surface=Surface.SCREEN)
    assert compute.calls == 2
    keeping = StoreListCache(CountingRecommender(), ttl_s=60)
    a = await keeping.get("s1", limit=8, surface=Surface.SCREEN)
    b = await keeping.get("s1", limit=6, surface=Surface.SCREEN)
    c = await keeping.get("s1", limit=8, surface=Surface.FEED)
    assert len({a.rec_id, b.rec_id, c.rec_id}) == 3


async def test_a_failure_reaches_every_waiter_and_is_not_cached() -> None:
    compute = CountingRecommender(delay_s=0.01, fail=True)
    cache = StoreListCache(compute, ttl_s=60)
    results = await asyncio.gather(
        *[cache.get("s1", limit=8, surface=Surface.SCREEN) for _ in range(5)], return_exceptions=True
    )
    assert all(isinstance(r, RuntimeError) for r in results)
    compute.fail = False
    assert (await cache.get("s1", limit=8, surface=Surface.SCREEN)).rec_id == "rec_2"
    assert compute.calls == 2


async def test_a_request_after_a_change_does_not_join_a_computation_started_before_it() -> None:
    compute = CountingRecommender(delay_s=0.02)
    cache = StoreListCache(compute, ttl_s=60)
    before = asyncio.create_task(cache.get("s1", limit=8, surface=Surface.SCREEN))
    await asyncio.sleep(0)
    cache.invalidate("s1")
    after = await cache.get("s1", limit=8, surface=Surface.SCREEN)
    assert (await before).rec_id == "rec_1"
    assert after.rec_id == "rec_2"
    assert (await cache.get("s1", limit=8, surface=Surface.SCREEN)).rec_id == "rec_2"
