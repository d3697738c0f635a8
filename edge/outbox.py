"""Store-and-forward for an edge device: a bounded SQLite queue of events and the loop that empties it,
oldest first, into the API's `POST /events`.

Delivery is at-least-once: an event leaves the queue only after the API answered for it, and its
producer-assigned `event_id` makes a re-delivery harmless (the API reports it as `duplicate`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import sqlite3
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Literal

import httpx

log = logging.getLogger(__name__)

MIB = 1024 * 1024
DAY_S = 86_400.0
_CHUNK = 500
"""Rows per `IN (...)` list, well under SQLite's bound-parameter limit."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT,
    ts_ms INTEGER NOT NULL,
    size INTEGER NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_ts ON events (ts_ms);
CREATE TABLE IF NOT EXISTS rejected (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT,
    reason TEXT NOT NULL,
    at_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""
_COUNTERS = ("dropped_full", "dropped_expired", "rejected")


@dataclass(frozen=True)
class OutboxStats:
    pending: int
    bytes: int
    oldest_ts_ms: int | None
    dropped_full: int
    """Oldest events dropped to stay under the count or byte bound."""
    dropped_expired: int
    """Events dropped because they were older than the age bound."""
    rejected: int
    """Events the API refused as malformed (a permanent refusal), removed from the queue."""


@dataclass(frozen=True)
class Rejection:
    event_id: str | None
    reason: str
    at_ms: int


class _BurstLog:
    """One warning per burst of drops of one kind; a burst ends after `gap_s` without such drops."""

    def __init__(self, clock: Callable[[], float], gap_s: float = 60.0) -> None:
        self._clock = clock
        self._gap_s = gap_s
        self._last: dict[str, float] = {}

    def note(self, kind: str, dropped: int, describe: Callable[[], str]) -> None:
        if dropped <= 0:
            return
        now = self._clock()
        last = self._last.get(kind)
        self._last[kind] = now
        if last is None or now - last > self._gap_s:
            log.warning(
                "%s; until this stops, further drops are only counted in the outbox stats", describe()
            )


class Outbox:
    """A bounded, durable FIFO of events (one SQLite file, WAL).

    When a bound (count, bytes, age) is exceeded the OLDEST events go first: today's dwell is worth more
    than one from days ago, which the server would dead-letter as too late anyway. Drops are counted by
    reason and persisted with the queue. `synchronous=NORMAL` survives a crash of the agent; only an OS
    crash or power loss can lose the last commits, and it spares the edge box's flash an fsync per put.
    Safe to share between the agent's capture thread and the forwarder's event loop.
    """

    def __init__(
        self,
        path: Path,
        *,
        max_events: int = 500_000,
        max_bytes: int = 256 * MIB,
        max_age_s: float = 3 * DAY_S,
        max_rejected: int = 1_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if max_events < 1 or max_bytes < 1 or max_age_s <= 0 or max_rejected < 1:
            raise ValueError("outbox bounds must be positive")
        self.path = path
        self.max_events = max_events
        self.max_bytes = max_bytes
        self.max_age_s = max_age_s
        self.max_rejected = max_rejected
        self._clock = clock
        self._drops = _BurstLog(clock)
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._count = 0
        self._bytes = 0
        self._counters = dict.fromkeys(_COUNTERS, 0)
        self._reload()

    def put(self, events: Sequence[Mapping[str, Any]]) -> None:
        """Append events in order, in one transaction, then enforce the bounds."""
        now_ms = self._now_ms()
        rows: list[tuple[str | None, int, int, str]] = []
        oversized = 0
        for event in events:
            body = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
            size = len(body.encode())
            if size > self.max_bytes:
                oversized += 1
                continue
            event_id = event.get("event_id")
            rows.append((event_id if isinstance(event_id, str) else None, _ts_ms(event, now_ms), size, body))
        with self._transaction():
            self._db.executemany("INSERT INTO events (event_id, ts_ms, size, body) VALUES (?, ?, ?, ?)", rows)
            self._count += len(rows)
            self._bytes += sum(row[2] for row in rows)
            expired = self._expire(now_ms)
            over = self._over_bounds()
            full = self._drop_oldest() + oversized
            self._bump(dropped_full=full, dropped_expired=expired)
        self._note_drops(full=full, over=over, expired=expired)

    def peek(self, limit: int) -> list[tuple[int, dict[str, Any]]]:
        """The oldest `limit` events still within the age bound, as (seq, event), oldest first."""
        with self._transaction():
            expired = self._expire(self._now_ms())
            self._bump(dropped_expired=expired)
            rows = self._db.execute("SELECT seq, body FROM events ORDER BY seq LIMIT ?", (limit,)).fetchall()
        self._note_drops(full=0, over="", expired=expired)
        return [(seq, json.loads(body)) for seq, body in rows]

    def ack(self, seqs: Iterable[int], *, rejected: Mapping[int, str] | None = None) -> None:
        """Remove delivered events; `rejected` (seq → the API's reason) are removed too and recorded."""
        refused = dict(rejected or {})
        done = sorted(set(seqs) | set(refused))
        with self._transaction():
            recorded = self._record_rejections(refused) if refused else 0
            for chunk in _chunks(done):
                marks = ",".join("?" * len(chunk))
                count, size = self._db.execute(
                    f"SELECT COUNT(*), TOTAL(size) FROM events WHERE seq IN ({marks})", chunk
                ).fetchone()
                self._db.execute(f"DELETE FROM events WHERE seq IN ({marks})", chunk)
                self._count -= count
                self._bytes -= int(size)
            self._bump(rejected=recorded)

    def rejections(self, limit: int = 100) -> list[Rejection]:
        """The most recent permanent refusals, newest first (event ids and reasons, never the events)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT event_id, reason, at_ms FROM rejected ORDER BY id DESC LIMIT ?", (limit,)
            ).fetchall()
        return [Rejection(*row) for row in rows]

    def stats(self) -> OutboxStats:
        with self._lock:
            (oldest,) = self._db.execute("SELECT MIN(ts_ms) FROM events").fetchone()
            return OutboxStats(pending=self._count, bytes=self._bytes, oldest_ts_ms=oldest, **self._counters)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                self._reload()
                raise
            self._db.execute("COMMIT")

    def _reload(self) -> None:
        """Totals and counters from the file: at open, and after a rolled-back transaction."""
        count, size = self._db.execute("SELECT COUNT(*), TOTAL(size) FROM events").fetchone()
        self._count, self._bytes = count, int(size)
        stored = dict(self._db.execute("SELECT name, value FROM counters").fetchall())
        self._counters = {name: int(stored.get(name, 0)) for name in _COUNTERS}

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    def _expire(self, now_ms: int) -> int:
        cutoff = now_ms - int(self.max_age_s * 1000)
        count, size = self._db.execute(
            "SELECT COUNT(*), TOTAL(size) FROM events WHERE ts_ms < ?", (cutoff,)
        ).fetchone()
        if count:
            self._db.execute("DELETE FROM events WHERE ts_ms < ?", (cutoff,))
            self._count -= count
            self._bytes -= int(size)
        return int(count)

    def _over_bounds(self) -> str:
        over = []
        if self._count > self.max_events:
            over.append(f"more than {self.max_events} events")
        if self._bytes > self.max_bytes:
            over.append(f"more than {self.max_bytes / MIB:g} MiB")
        return " and ".join(over)

    def _drop_oldest(self) -> int:
        """Drop from the head until both the count and the byte bound hold."""
        excess_count = self._count - self.max_events
        excess_bytes = self._bytes - self.max_bytes
        if excess_count <= 0 and excess_bytes <= 0:
            return 0
        dropped, freed, last = 0, 0, 0
        cursor = self._db.execute("SELECT seq, size FROM events ORDER BY seq")
        for seq, size in cursor:
            if dropped >= excess_count and freed >= excess_bytes:
                break
            dropped, freed, last = dropped + 1, freed + size, seq
        cursor.close()
        self._db.execute("DELETE FROM events WHERE seq <= ?", (last,))
        self._count -= dropped
        self._bytes -= freed
        return dropped

    def _record_rejections(self, refused: Mapping[int, str]) -> int:
        now_ms = self._now_ms()
        recorded = 0
        for chunk in _chunks(sorted(refused)):
            marks = ",".join("?" * len(chunk))
            found = self._db.execute(f"SELECT seq, event_id FROM events WHERE seq IN ({marks})", chunk)
            rows = [(event_id, refused[seq], now_ms) for seq, event_id in found.fetchall()]
            self._db.executemany("INSERT INTO rejected (event_id, reason, at_ms) VALUES (?, ?, ?)", rows)
            recorded += len(rows)
        self._db.execute(
            "DELETE FROM rejected WHERE id <= (SELECT MAX(id) FROM rejected) - ?", (self.max_rejected,)
        )
        return recorded

    def _bump(self, **deltas: int) -> None:
        for name, delta in deltas.items():
            if delta:
                self._db.execute(
                    "INSERT INTO counters (name, value) VALUES (?, ?) "
                    "ON CONFLICT (name) DO UPDATE SET value = value + excluded.value",
                    (name, delta),
                )
                self._counters[name] += delta

    def _note_drops(self, *, full: int, over: str, expired: int) -> None:
        self._drops.note(
            "full",
            full,
            lambda: (
                f"outbox {self.path} is full ({over or 'an event larger than the byte bound'}): "
                f"dropped the {full} oldest events"
            ),
        )
        self._drops.note(
            "expired",
            expired,
            lambda: f"outbox {self.path}: dropped {expired} events older than {self.max_age_s / 3600:g} h",
        )


def _ts_ms(event: Mapping[str, Any], default: int) -> int:
    ts = event.get("ts_ms")
    return ts if isinstance(ts, int) and not isinstance(ts, bool) else default


def _chunks(items: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


# Forwarding

Status = Literal["delivered", "empty", "offline", "throttled", "token_refused", "too_large", "server_error"]


@dataclass(frozen=True)
class DeliveryResult:
    """What one attempt did, and how long to wait before the next one."""

    status: Status
    sent: int = 0
    accepted: int = 0
    duplicate: int = 0
    rejected: int = 0
    wait_s: float = 0.0
    error: str = ""


class Forwarder:
    """Sends the outbox to `POST /events`, one batch at a time, oldest first.

    `online` is true while the API takes our batches (a 429 still counts: it is only pacing us);
    `last_error` says why not otherwise. `run` never raises for network or server trouble: it waits
    with exponential backoff and jitter, and a refused token is a state, not a crash loop.
    """

    def __init__(
        self,
        outbox: Outbox,
        *,
        client: httpx.AsyncClient,
        token: str,
        batch_size: int = 500,
        backoff_initial_s: float = 0.5,
        backoff_max_s: float = 30.0,
        idle_s: float = 1.0,
        path: str = "/events",
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        if batch_size < 1 or backoff_initial_s <= 0 or backoff_max_s < backoff_initial_s:
            raise ValueError("need batch_size >= 1 and 0 < backoff_initial_s <= backoff_max_s")
        self._outbox = outbox
        self._client = client
        self._headers = {"Authorization": f"Bearer {token}"}
        self._max_batch = batch_size
        self.batch_size = batch_size
        self._backoff_initial_s = backoff_initial_s
        self._backoff_max_s = backoff_max_s
        self._idle_s = idle_s
        self._path = path
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._failures = 0
        self._status: Status | None = None
        self.online = False
        self.last_error = ""

    async def run(self, stop: Callable[[], bool]) -> None:
        """Deliver until `stop()`; checked between attempts (cancel the task to stop during a wait)."""
        while not stop():
            result = await self.deliver_once()
            if result.wait_s > 0 and not stop():
                await self._sleep(result.wait_s)

    async def deliver_once(self) -> DeliveryResult:
        """Send at most one batch, the oldest events first, and settle what the API answered for."""
        batch = self._outbox.peek(self.batch_size)
        if not batch:
            return DeliveryResult("empty", wait_s=self._idle_s)
        try:
            response = await self._client.post(
                self._path, json=[event for _, event in batch], headers=self._headers
            )
        except httpx.HTTPError as error:
            return self._failed(
                "offline", len(batch), f"cannot reach the API: {type(error).__name__}: {error}"
            )
        code = response.status_code
        if code in (200, 202):
            try:
                return self._settle(batch, response.json())
            except ValueError as error:
                return self._failed("server_error", len(batch), f"unreadable answer ({code}): {error}")
        if code == 429:
            return self._throttled(len(batch), response)
        if code in (401, 403):
            return self._failed(
                "token_refused",
                len(batch),
                f"the API refused the device token ({code}): {_reason(response)}; events are kept",
            )
        if code in (400, 413):
            return self._refused_batch(batch, code, _reason(response))
        return self._failed("server_error", len(batch), f"the API answered {code}: {_reason(response)}")

    def _settle(self, batch: list[tuple[int, dict[str, Any]]], body: Any) -> DeliveryResult:
        results = body.get("results") if isinstance(body, dict) else None
        if not isinstance(results, list):
            raise ValueError("no per-event results")
        delivered: list[int] = []
        refused: dict[int, str] = {}
        duplicates = 0
        for position, item in enumerate(results):
            if not isinstance(item, dict):
                continue
            index = item.get("index", position)
            if not isinstance(index, int) or not 0 <= index < len(batch):
                continue
            seq = batch[index][0]
            status = item.get("status")
            if status in ("accepted", "duplicate"):
                delivered.append(seq)
                duplicates += status == "duplicate"
            elif status == "rejected":
                refused[seq] = str(item.get("reason") or "rejected by the API")
        self._outbox.ack(delivered, rejected=refused)
        self._failures = 0
        self._enter("delivered", online=True, error="")
        return DeliveryResult(
            "delivered",
            sent=len(batch),
            accepted=len(delivered) - duplicates,
            duplicate=duplicates,
            rejected=len(refused),
        )

    def _throttled(self, sent: int, response: httpx.Response) -> DeliveryResult:
        retry_after = _retry_after_s(response.headers.get("Retry-After"))
        wait = retry_after if retry_after is not None else self._backoff()
        error = f"throttled by the API: retrying in {wait:g} s"
        self._enter("throttled", online=True, error=error)
        return DeliveryResult("throttled", sent=sent, wait_s=wait, error=error)

    def _refused_batch(
        self, batch: list[tuple[int, dict[str, Any]]], code: int, reason: str
    ) -> DeliveryResult:
        """A batch-level refusal: halve the batch until it passes; an event refused alone is malformed
        for good and is recorded as rejected, so it cannot block the queue."""
        if len(batch) > 1:
            self.batch_size = max(1, len(batch) // 2)
            error = (
                f"the API refused a batch of {len(batch)} ({code}: {reason}); now sending {self.batch_size}"
            )
            self._enter("too_large", online=True, error=error)
            return DeliveryResult("too_large", sent=len(batch), error=error)
        seq, _ = batch[0]
        self._outbox.ack([], rejected={seq: f"refused alone ({code}): {reason}"})
        self.batch_size = self._max_batch
        self._enter("delivered", online=True, error="")
        return DeliveryResult("delivered", sent=1, rejected=1)

    def _failed(self, status: Status, sent: int, error: str) -> DeliveryResult:
        wait = self._backoff()
        self._enter(status, online=False, error=error)
        return DeliveryResult(status, sent=sent, wait_s=wait, error=error)

    def _backoff(self) -> float:
        """Exponential, capped, with jitter in the upper half so that many boxes do not retry in step."""
        self._failures += 1
        ceiling = min(self._backoff_max_s, self._backoff_initial_s * 2 ** min(self._failures - 1, 30))
        return ceiling / 2 + self._rng.uniform(0, ceiling / 2)

    def _enter(self, status: Status, *, online: bool, error: str) -> None:
        changed = status != self._status
        self._status, self.online, self.last_error = status, online, error
        if not changed:
            return
        pending = self._outbox.stats().pending
        if status == "delivered":
            log.info("delivering events to the API; %d pending", pending)
        elif status == "token_refused":
            log.error("%s (%d pending)", error, pending)
        else:
            log.warning("%s (%d pending)", error, pending)


def _reason(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    return str(body.get("error", body))[:200] if isinstance(body, dict) else str(body)[:200]


def _retry_after_s(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delay-seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
