"""Store-and-forward for an edge device: a bounded SQLite queue of events (`edge.forwarder` empties it,
oldest first, into the API's `POST /events`).

Delivery is at-least-once: an event leaves the queue only after the API answered for it, and its
producer-assigned `event_id` makes a re-delivery harmless (the API reports it as `duplicate`).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
