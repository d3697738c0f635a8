"""Guide inbox rules: who is alerted about which arrival, how often, and that inboxes stay separate."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace

from guang.adapters.redis_guide_inbox import decode_signal
from guang.domain.signals import Signal
from guang.guide_inbox.hub import GuideHub
from guang.guide_inbox.models import GuideAlert, LookedAt, Suggestion
from guang.guide_inbox.routing import Cooldown, StaffPlace, client_of, consented, place_of, recipients

ANNA = StaffPlace("staff-anna", "store-a", "mall-1")
BO = StaffPlace("staff-bo", "store-b", "mall-1")
CAI = StaffPlace("staff-cai", "store-c", "mall-2")
ADVISORS = [ANNA, BO, CAI]


def signal(kind: str, *, subject: str = "u:m-1", mall: str = "mall-1", store: str | None = "store-a",
           ts_ms: int = 1_000_000, event_id: str = "e-1") -> Signal:  # fmt: skip
    return Signal(kind, subject, mall, store, ts_ms, event_id)  # type: ignore[arg-type]


def alert(staff_id: str, n: int = 1) -> GuideAlert:
    return GuideAlert(
        alert_id=f"a-{staff_id}-{n}", staff_id=staff_id, member_id="m-1", nickname="小鹿", how="face",
        signal="member_arrival", mall_id="mall-1", mall_name="万象城", store_id="store-a", store_name="A 店",
        at_ms=n, event_id=f"e-{n}", rec_id=f"r-{n}",
    )  # fmt: skip


def test_a_face_arrival_or_store_entry_alerts_only_advisors_in_that_store() -> None:
    assert recipients(signal("member_arrival"), ADVISORS) == [ANNA]
    assert recipients(signal("store_enter", store="store-b"), ADVISORS) == [BO]
    assert recipients(signal("member_arrival", store="store-z"), ADVISORS) == []


def test_an_arrival_at_the_mall_alerts_advisors_in_every_store_of_that_mall() -> None:
    assert recipients(signal("arrival", store=None), ADVISORS) == [ANNA, BO]
    assert recipients(signal("arrival", mall="mall-2", store=None), ADVISORS) == [CAI]


def test_visitors_and_other_moments_alert_nobody() -> None:
    assert client_of(signal("member_arrival")) == "m-1"
    assert client_of(signal("member_arrival", subject="v:anon")) is None
    for kind in ("exit", "store_exit", "parking_entry"):
        assert client_of(signal(kind)) is None


def test_each_way_of_noticing_a_client_needs_its_own_consent() -> None:
    assert consented("face", {"face_ms": 1, "location_ms": None})
    assert not consented("face", {"location_ms": 1})
    assert consented("location", {"location_ms": 1})
    assert not consented("location", {"face_ms": 1})
    assert not consented("face", None)


def test_one_alert_per_client_and_place_within_the_cooldown() -> None:
    cooldown = Cooldown(window_ms=600_000)
    store = place_of(signal("member_arrival"))
    assert store == place_of(signal("store_enter")) == "store-a"
    assert place_of(signal("arrival")) == "mall:mall-1"
    assert cooldown.admit("staff-anna", "m-1", store, 1_000_000)
    assert not cooldown.admit("staff-anna", "m-1", store, 1_300_000), "seen again 5 min later"
    assert not cooldown.admit("staff-anna", "m-1", store, 900_000), "an older, out-of-order signal"
    assert cooldown.admit("staff-bo", "m-1", store, 1_300_000), "a colleague is alerted on their own"
    assert cooldown.admit("staff-anna", "m-1", "mall:mall-1", 1_300_000), "the mall is another place"
    assert cooldown.admit("staff-anna", "m-1", store, 1_600_000), "10 min later it is a new visit"


def test_the_cooldown_forgets_the_oldest_keys_beyond_its_capacity() -> None:
    cooldown = Cooldown(window_ms=600_000, capacity=2)
    for member in ("m-1", "m-2", "m-3"):
        assert cooldown.admit("s", member, "store-a", 0)
    assert cooldown.admit("s", "m-1", "store-a", 1), "m-1 was forgotten"
    assert not cooldown.admit("s", "m-3", "store-a", 1)


def test_signals_are_read_back_as_the_dataflow_wrote_them() -> None:
    fields = {b"kind": b"member_arrival", b"subject_id": b"u:m-1", b"mall_id": b"mall-1",
              b"store_id": b"store-a", b"ts_ms": b"123", b"event_id": b"e-9"}  # fmt: skip
    assert decode_signal(fields) == Signal("member_arrival", "u:m-1", "mall-1", "store-a", 123, "e-9")
    assert decode_signal({**fields, b"store_id": b""}) == Signal(
        "member_arrival", "u:m-1", "mall-1", None, 123, "e-9"
    )
    assert decode_signal({**fields, b"kind": b"nonsense"}) is None
    assert decode_signal({**fields, b"ts_ms": b"soon"}) is None


def test_an_alert_survives_its_json_form() -> None:
    full = replace(
        alert("staff-anna"),
        looked_at=LookedAt("store-a", "A 店", "z-1", "牛仔墙", "denim", 40_000),
        top_categories=("denim", "shoes"),
        suggestions=(Suggestion("sku-000001", 0.9, "因为你在牛仔墙停留了40秒"),),
    )
    assert GuideAlert.from_json(full.to_json()) == full


class ListFeed:
    def __init__(self, signals: list[Signal]) -> None:
        self.signals = signals
        self.closed = False

    async def follow(self) -> AsyncIterator[Signal]:
        for item in self.signals:
            yield item
        await asyncio.Event().wait()

    async def close(self) -> None:
        self.closed = True


class AddressedInbox:
    """Alerts whoever the signal's event id names (`e-<staff id>`)."""

    async def alerts_for(self, signal: Signal) -> list[GuideAlert]:
        staff_id = signal.event_id.removeprefix("e-")
        return [alert(staff_id, signal.ts_ms)]


class MemoryLog:
    def __init__(self) -> None:
        self.alerts: dict[str, GuideAlert] = {}

    async def record(self, alert: GuideAlert) -> bool:
        return self.alerts.setdefault(alert.alert_id, alert) is alert

    async def recent(self, staff_id: str, *, skip: int, limit: int) -> list[GuideAlert]:
        mine = [a for a in reversed(self.alerts.values()) if a.staff_id == staff_id]
        return mine[skip : skip + limit]

    async def close(self) -> None:
        return None


async def test_each_staff_member_gets_only_their_own_alerts_live_and_in_the_recent_list() -> None:
    feed = ListFeed(
        [signal("member_arrival", event_id="e-staff-bo", ts_ms=1),
         signal("member_arrival", event_id="e-staff-anna", ts_ms=2),
         signal("member_arrival", event_id="e-staff-bo", ts_ms=3)]
    )  # fmt: skip
    log = MemoryLog()
    hub = GuideHub(feed=feed, inbox=AddressedInbox(), alerts=log)  # type: ignore[arg-type]
    async with hub.inbox("staff-anna") as anna, hub.inbox("staff-bo") as bo:
        await hub.start()
        try:
            got_bo = [await asyncio.wait_for(bo.get(), 1), await asyncio.wait_for(bo.get(), 1)]
            got_anna = await asyncio.wait_for(anna.get(), 1)
        finally:
            await hub.stop()
    assert [a.at_ms for a in got_bo] == [1, 3] and {a.staff_id for a in got_bo} == {"staff-bo"}
    assert got_anna.staff_id == "staff-anna" and anna.empty()
    assert [a.at_ms for a in await hub.recent("staff-bo", skip=0, limit=10)] == [3, 1]
    assert feed.closed


async def test_a_phone_that_stops_reading_keeps_the_newest_alerts() -> None:
    hub = GuideHub(feed=ListFeed([]), inbox=AddressedInbox(), alerts=MemoryLog())  # type: ignore[arg-type]
    async with hub.inbox("staff-anna") as queue:
        for n in range(queue.maxsize + 3):
            await hub.handle(signal("member_arrival", event_id="e-staff-anna", ts_ms=n))
        first = queue.get_nowait()
    assert first.at_ms == 3 and queue.qsize() == queue.maxsize - 1
