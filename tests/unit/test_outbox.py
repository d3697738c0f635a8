"""The edge outbox (a bounded SQLite queue) and the forwarder that empties it into `POST /events`."""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from edge.forwarder import DeliveryResult, Forwarder
from edge.outbox import DAY_S, Outbox

T0_S = 1_790_000_000.0


class Clock:
    def __init__(self, now_s: float = T0_S) -> None:
        self.now_s = now_s

    def __call__(self) -> float:
        return self.now_s


def event(n: int, *, ts_s: float = T0_S, **extra: Any) -> dict[str, Any]:
    return {
        "event_id": f"e{n:04d}",
        "type": "dwell",
        "ts_ms": int(ts_s * 1000),
        "store_id": "store-1",
        "visitor_id": "v1",
        "zone_id": "z1",
        "dwell_ms": 1000,
        **extra,
    }


def ids(rows: list[tuple[int, dict[str, Any]]]) -> list[str]:
    return [e["event_id"] for _, e in rows]


def size_of(e: dict[str, Any]) -> int:
    return len(json.dumps(e, ensure_ascii=False, separators=(",", ":")).encode())


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def outbox(tmp_path: Path, clock: Clock) -> Any:
    with Outbox(tmp_path / "outbox.db", clock=clock) as box:
        yield box


# The queue


def test_events_keep_their_order_across_restarts_and_acks(tmp_path: Path, clock: Clock) -> None:
    path = tmp_path / "agent" / "outbox.db"
    with Outbox(path, clock=clock) as box:
        box.put([event(1), event(2)])
        box.put([event(3)])
    with Outbox(path, clock=clock) as box:
        rows = box.peek(10)
        assert ids(rows) == ["e0001", "e0002", "e0003"]
        box.ack([rows[2][0]])  # the newest went; a restart must not reuse its place in the order
        box.put([event(4)])
        box.ack([rows[0][0]])
    with Outbox(path, clock=clock) as box:
        assert ids(box.peek(10)) == ["e0002", "e0004"]
        assert ids(box.peek(1)) == ["e0002"]
        stats = box.stats()
        assert (stats.pending, stats.bytes) == (2, size_of(event(2)) + size_of(event(4)))
        assert stats.oldest_ts_ms == int(T0_S * 1000)


def test_ack_removes_only_what_was_delivered(outbox: Outbox) -> None:
    outbox.put([event(n) for n in range(5)])
    rows = outbox.peek(5)
    outbox.ack([rows[1][0], rows[3][0], 999_999])
    assert ids(outbox.peek(10)) == ["e0000", "e0002", "e0004"]
    assert outbox.stats().pending == 3
    outbox.ack([])
    assert outbox.stats().pending == 3


def test_a_failing_put_stores_nothing(outbox: Outbox) -> None:
    with pytest.raises(TypeError):
        outbox.put([event(1), {"event_id": "e2", "ts_ms": object()}])
    assert outbox.peek(10) == [] and outbox.stats().pending == 0


def test_over_the_count_bound_the_oldest_go_first_with_one_warning_per_burst(
    tmp_path: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    with Outbox(tmp_path / "o.db", max_events=5, clock=clock) as box, caplog.at_level(logging.WARNING):
        box.put([event(n) for n in range(4)])
        for n in range(4, 9):
            box.put([event(n)])
        assert ids(box.peek(10)) == ["e0004", "e0005", "e0006", "e0007", "e0008"]
        assert box.stats().dropped_full == 4
        assert len(caplog.records) == 1
        assert "more than 5 events" in caplog.records[0].getMessage()

        clock.now_s += 120  # a quiet spell ends the burst
        box.put([event(9), event(10)])
        assert ids(box.peek(10)) == ["e0006", "e0007", "e0008", "e0009", "e0010"]
        assert box.stats().dropped_full == 6
        assert len(caplog.records) == 2


def test_over_the_byte_bound_the_oldest_go_first(tmp_path: Path, clock: Clock) -> None:
    one = size_of(event(0))
    with Outbox(tmp_path / "o.db", max_bytes=3 * one + one // 2, clock=clock) as box:
        box.put([event(n) for n in range(5)])
        stats = box.stats()
        assert ids(box.peek(10)) == ["e0002", "e0003", "e0004"]
        assert (stats.pending, stats.bytes, stats.dropped_full) == (3, 3 * one, 2)

        box.put([event(5, note="x" * 4 * one)])  # larger than the whole bound: dropped, nothing else
        assert ids(box.peek(10)) == ["e0002", "e0003", "e0004"]
        assert box.stats().dropped_full == 3


def test_events_older_than_the_age_bound_are_dropped_and_counted(
    tmp_path: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    with Outbox(tmp_path / "o.db", max_age_s=DAY_S, clock=clock) as box, caplog.at_level(logging.WARNING):
        box.put([event(1, ts_s=T0_S - 3600), event(2, ts_s=T0_S), event(3, ts_s=T0_S + 3600)])
        box.put([event(4, ts_s=T0_S - 2 * DAY_S)])  # produced long ago: never queued
        assert box.stats().dropped_expired == 1

        clock.now_s = T0_S + DAY_S - 1800
        assert ids(box.peek(10)) == ["e0002", "e0003"]
        stats = box.stats()
        assert (stats.pending, stats.dropped_expired, stats.oldest_ts_ms) == (2, 2, int(T0_S * 1000))
        assert any("older than 24 h" in r.getMessage() for r in caplog.records)


def test_drop_counters_survive_a_restart(tmp_path: Path, clock: Clock) -> None:
    path = tmp_path / "o.db"
    with Outbox(path, max_events=1, clock=clock) as box:
        box.put([event(1), event(2), event(3)])
        box.put([event(4, ts_s=T0_S - 10 * DAY_S)])
    with Outbox(path, max_events=1, clock=clock) as box:
        stats = box.stats()
        assert (stats.pending, stats.dropped_full, stats.dropped_expired) == (1, 2, 1)


def test_rejected_events_leave_the_queue_and_only_their_id_and_reason_are_kept(
    tmp_path: Path, clock: Clock
) -> None:
    with Outbox(tmp_path / "o.db", max_rejected=2, clock=clock) as box:
        box.put([event(n, secret="pixels") for n in range(4)])
        rows = box.peek(4)
        box.ack([rows[0][0]], rejected={rows[1][0]: "zone_id: bad", rows[2][0]: "dwell_ms: too long"})
        assert ids(box.peek(10)) == ["e0003"]
        box.ack([], rejected={rows[3][0]: "ts_ms: too old"})
        assert box.stats().rejected == 3
        kept = box.rejections()
        assert [(r.event_id, r.reason) for r in kept] == [
            ("e0003", "ts_ms: too old"),
            ("e0002", "dwell_ms: too long"),
        ]
        assert all(r.at_ms == int(T0_S * 1000) for r in kept)


# The forwarder, against a fake API


class FakeApi:
    """`POST /events` as the real one answers it; `script` holds one-off misbehaviours, in order."""

    def __init__(self) -> None:
        self.received: list[list[str]] = []
        self.seen: set[str] = set()
        self.tokens: list[str] = []
        self.script: list[Callable[[httpx.Request], httpx.Response]] = []
        self.max_batch = 1000

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.tokens.append(request.headers.get("Authorization", ""))
        if self.script:
            return self.script.pop(0)(request)
        events = json.loads(request.content)
        if len(events) > self.max_batch or any("huge" in e for e in events):
            return httpx.Response(413, json={"error": "too large"})
        self.received.append([e["event_id"] for e in events])
        results = []
        for index, e in enumerate(events):
            if "bad" in e:
                results.append(
                    {"index": index, "event_id": e["event_id"], "status": "rejected", "reason": "bad: no"}
                )
            elif e["event_id"] in self.seen:
                results.append({"index": index, "event_id": e["event_id"], "status": "duplicate"})
            else:
                self.seen.add(e["event_id"])
                results.append({"index": index, "event_id": e["event_id"], "status": "accepted"})
        return httpx.Response(202, json={"results": results})

    def delivered(self) -> list[str]:
        return [event_id for batch in self.received for event_id in batch]


def offline(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


def answer(status: int, **headers: str) -> Callable[[httpx.Request], httpx.Response]:
    return lambda _request: httpx.Response(status, json={"error": f"status {status}"}, headers=headers)


class Sleeps:
    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def api() -> FakeApi:
    return FakeApi()


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
async def client(api: FakeApi) -> Any:
    async with httpx.AsyncClient(transport=httpx.MockTransport(api.handle), base_url="http://api.test") as c:
        yield c


def forwarder(outbox: Outbox, client: httpx.AsyncClient, sleeps: Sleeps, **kwargs: Any) -> Forwarder:
    return Forwarder(outbox, client=client, token="tok-cam", sleep=sleeps, rng=random.Random(7), **kwargs)


def empty(outbox: Outbox) -> Callable[[], bool]:
    return lambda: outbox.stats().pending == 0


async def test_batches_go_out_oldest_first_with_the_device_token(
    outbox: Outbox, client: httpx.AsyncClient, api: FakeApi, sleeps: Sleeps
) -> None:
    outbox.put([event(n) for n in range(7)])
    sender = forwarder(outbox, client, sleeps, batch_size=3)
    await sender.run(empty(outbox))
    assert api.received == [["e0000", "e0001", "e0002"], ["e0003", "e0004", "e0005"], ["e0006"]]
    assert set(api.tokens) == {"Bearer tok-cam"}
    assert sender.online and sender.last_error == "" and sleeps.waits == []
    assert await sender.deliver_once() == DeliveryResult("empty", wait_s=1.0)


async def test_connect_errors_back_off_exponentially_and_lose_nothing(
    outbox: Outbox, client: httpx.AsyncClient, api: FakeApi, sleeps: Sleeps
) -> None:
    outbox.put([event(n) for n in range(4)])
    api.script = [offline] * 6
    sender = forwarder(outbox, client, sleeps, backoff_initial_s=0.5, backoff_max_s=4.0)

    first = await sender.deliver_once()
    assert (first.status, first.sent) == ("offline", 4)
    assert not sender.online and "cannot reach the API" in sender.last_error
    assert outbox.stats().pending == 4

    await sender.run(empty(outbox))
    waits = [first.wait_s, *sleeps.waits]
    ceilings = [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert all(c / 2 <= w <= c for w, c in zip(waits, ceilings, strict=True))
    assert api.delivered() == ["e0000", "e0001", "e0002", "e0003"]
    assert sender.online and sender.last_error == ""

    api.script = [offline]
    outbox.put([event(9)])
    again = await sender.deliver_once()
    assert again.wait_s <= 0.5, "a success starts the backoff over"


async def test_a_timeout_after_the_server_took_the_batch_is_retried_and_answered_duplicate(
    outbox: Outbox, client: httpx.AsyncClient, api: FakeApi, sleeps: Sleeps
) -> None:
    def answer_lost(request: httpx.Request) -> httpx.Response:
        api.handle(request)
        raise httpx.ReadTimeout("no answer", request=request)

    outbox.put([event(1), event(2)])
    api.script = [answer_lost]
    sender = forwarder(outbox, client, sleeps)
    assert (await sender.deliver_once()).status == "offline"
    assert outbox.stats().pending == 2
    retried = await sender.deliver_once()
    assert (retried.status, retried.accepted, retried.duplicate) == ("delivered", 0, 2)
    assert outbox.stats().pending == 0 and api.seen == {"e0001", "e0002"}


async def test_429_waits_as_long_as_retry_after_says(
    outbox: Outbox, client: httpx.AsyncClient, api: FakeApi, sleeps: Sleeps
) -> None:
    outbox.put([event(1)])
    api.script = [answer(429, **{"Retry-After": "7"})]
    sender = forwarder(outbox, client, sleeps)
    await sender.run(empty(outbox))
    assert sleeps.waits == [7.0]
    assert api.delivered() == ["e0001"]


async def test_a_refused_token_keeps_every_event_and_is_reported_not_raised(
    outbox: Outbox, client: httpx.AsyncClient, api: FakeApi, sleeps: Sleeps
) -> None:
    outbox.put([event(n) for n in range(3)])
    api.script = [answer(401)] * 8
    sender = forwarder(outbox, client, sleeps, backoff_max_s=30.0)
    results = [await sender.deliver_once() for _ in range(8)]
    assert {r.status for r in results} == {"token_refused"}
    assert not sender.online and "refused the device token (401)" in sender.last_error
    assert outbox.stats().pending == 3 and api.received == []
    assert results[-1].wait_s >= 15.0, "a refused token is retried slowly, not in a tight loop"

    await sender.run(empty(outbox))  # the token was fixed on the server
    assert api.delivered() == ["e0000", "e0001", "e0002"]


async def test_server_errors_back_off_and_keep_the_batch(
    outbox: Outbox, client: httpx.AsyncClient, api: FakeApi, sleeps: Sleeps
) -> None:
    outbox.put([event(1)])
    api.script = [answer(503), lambda _r: httpx.Response(202, text="<html>proxy</html>")]
    sender = forwarder(outbox, client, sleeps)
    assert (await sender.deliver_once()).status == "server_error"
    assert "503" in sender.last_error
    assert (await sender.deliver_once()).status == "server_error"
    assert outbox.stats().pending == 1
    assert (await sender.deliver_once()).accepted == 1


async def test_413_halves_the_batch_until_the_server_takes_it(
    outbox: Outbox, client: httpx.AsyncClient, api: FakeApi, sleeps: Sleeps
) -> None:
    api.max_batch = 2
    outbox.put([event(n) for n in range(5)])
    sender = forwarder(outbox, client, sleeps, batch_size=8)
    await sender.run(empty(outbox))
    assert api.received == [["e0000", "e0001"], ["e0002", "e0003"], ["e0004"]]
    assert sender.batch_size == 2 and sleeps.waits == []


async def test_an_event_refused_even_alone_is_recorded_as_rejected_and_stops_blocking(
    outbox: Outbox, client: httpx.AsyncClient, api: FakeApi, sleeps: Sleeps
) -> None:
    outbox.put([event(0), event(1), event(2, huge="x"), event(3)])
    sender = forwarder(outbox, client, sleeps, batch_size=4)
    await sender.run(empty(outbox))
    assert api.delivered() == ["e0000", "e0001", "e0003"]
    [rejection] = outbox.rejections()
    assert rejection.event_id == "e0002" and "413" in rejection.reason
    assert sender.batch_size == 4, "the full batch size is back once the culprit is out"


async def test_duplicates_are_acked(
    outbox: Outbox, client: httpx.AsyncClient, api: FakeApi, sleeps: Sleeps
) -> None:
    api.seen = {"e0001"}
    outbox.put([event(1), event(2)])
    result = await forwarder(outbox, client, sleeps).deliver_once()
    assert (result.accepted, result.duplicate) == (1, 1)
    assert outbox.stats().pending == 0


async def test_rejected_events_are_acked_and_recorded(
    outbox: Outbox, client: httpx.AsyncClient, api: FakeApi, sleeps: Sleeps
) -> None:
    outbox.put([event(1), event(2, bad=True), event(3)])
    result = await forwarder(outbox, client, sleeps).deliver_once()
    assert (result.status, result.accepted, result.rejected) == ("delivered", 2, 1)
    assert outbox.stats().pending == 0 and outbox.stats().rejected == 1
    assert [(r.event_id, r.reason) for r in outbox.rejections()] == [("e0002", "bad: no")]
