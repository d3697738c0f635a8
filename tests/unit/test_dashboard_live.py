"""The live dashboard hub: a watcher gets a view at once, one more per burst of store announcements, also
for the mall the store is in; the one announcement listener runs only while someone watches."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from guang.adapters.ports import StoreChange
from guang.dashboard.live import DashboardHub, mall_topic, store_topic


class Announcements:
    """A fake of the feature store's announcement stream, fed by the test."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[StoreChange] = asyncio.Queue()
        self.listening = asyncio.Event()
        self.subscriptions = 0

    async def changes(self) -> AsyncIterator[StoreChange]:
        self.subscriptions += 1
        self.listening.set()
        while True:
            yield await self.queue.get()

    def announce(self, store_id: str, times: int = 1) -> None:
        for n in range(times):
            self.queue.put_nowait(StoreChange(store_id, f"v-{n}", f"e-{n}"))


class Renders:
    def __init__(self) -> None:
        self.count = 0

    async def __call__(self) -> int:
        self.count += 1
        return self.count


def hub(announcements: Announcements) -> DashboardHub:
    malls = {"s1": "m1", "s2": "m1", "s3": "m2"}
    return DashboardHub(
        changes=announcements.changes, mall_of=malls.get, min_interval_s=0.01, settle_s=0.0, refresh_s=3600
    )


async def test_a_burst_of_announcements_is_one_fresh_view() -> None:
    announcements = Announcements()
    live = hub(announcements)
    render = Renders()
    views = live.watch(store_topic("s1"), render)
    assert await anext(views) == 1
    await announcements.listening.wait()
    announcements.announce("s1", times=10)
    assert await anext(views) == 2
    assert render.count == 2
    await views.aclose()


async def test_a_store_change_reaches_its_mall_and_not_other_malls() -> None:
    announcements = Announcements()
    live = hub(announcements)
    own, other = Renders(), Renders()
    mall = live.watch(mall_topic("m1"), own)
    elsewhere = live.watch(mall_topic("m2"), other)
    assert (await anext(mall), await anext(elsewhere)) == (1, 1)
    await announcements.listening.wait()
    announcements.announce("s2")
    assert await anext(mall) == 2
    waiting = asyncio.ensure_future(anext(elsewhere))
    announcements.announce("s3")
    assert await waiting == 2
    assert (own.count, other.count) == (2, 2)
    await mall.aclose()
    await elsewhere.aclose()


async def test_the_listener_runs_only_while_someone_watches() -> None:
    announcements = Announcements()
    live = hub(announcements)
    first = live.watch(store_topic("s1"), Renders())
    second = live.watch(store_topic("s1"), Renders())
    await anext(first)
    await anext(second)
    await announcements.listening.wait()
    assert (live.watching, announcements.subscriptions) == (2, 1)
    await first.aclose()
    assert live.watching == 1 and live.listening
    await second.aclose()
    assert live.watching == 0 and not live.listening
