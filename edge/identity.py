"""Who a face is: a consented member from this device's local gallery, or an anonymous visitor.

The gallery is the only place a face embedding is kept, and it never leaves the device (DESIGN §6).
It lives in SQLite with `secure_delete`, so a withdrawn member's embedding is overwritten on disk, not
just unlinked. Everyone else gets an anonymous id per visit, derived with a salt that exists only in
memory and is replaced every day: ids of different days cannot be linked, and no one's face is kept.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Match:
    member_id: str
    score: float


class Gallery:
    """Enrolled members' unit embeddings; `match` is a dot product against all of them."""

    def __init__(self, path: Path, *, dim: int = 512, clock: Callable[[], float] = time.time) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA secure_delete = ON")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS entries (member_id TEXT PRIMARY KEY, embedding BLOB NOT NULL, "
            "enrolled_ms INTEGER NOT NULL)"
        )
        self._db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)")
        self._dim = dim
        self._clock = clock
        self._lock = threading.Lock()
        self._load()

    def _load(self) -> None:
        rows = self._db.execute("SELECT member_id, embedding FROM entries ORDER BY member_id").fetchall()
        self._ids = [row[0] for row in rows]
        self._matrix = (
            np.stack([np.frombuffer(row[1], dtype=np.float32) for row in rows])
            if rows
            else np.zeros((0, self._dim), dtype=np.float32)
        )

    @property
    def version(self) -> int:
        """Bumped on every enrolment and removal; the server is told it with each sync."""
        row = self._db.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
        return int(row[0]) if row else 0

    def _bump(self) -> None:
        self._db.execute(
            "INSERT INTO meta (key, value) VALUES ('version', 1) "
            "ON CONFLICT(key) DO UPDATE SET value = value + 1"
        )

    def members(self) -> list[str]:
        return list(self._ids)

    def __contains__(self, member_id: object) -> bool:
        return member_id in self._ids

    def enrol(self, member_id: str, embedding: np.ndarray) -> None:
        vector = np.asarray(embedding, dtype=np.float32).reshape(-1)
        if vector.shape != (self._dim,):
            raise ValueError(f"an embedding has {self._dim} values, not {vector.size}")
        vector = vector / max(float(np.linalg.norm(vector)), 1e-12)
        with self._lock:
            self._db.execute("BEGIN")
            self._db.execute(
                "INSERT INTO entries (member_id, embedding, enrolled_ms) VALUES (?, ?, ?) "
                "ON CONFLICT(member_id) DO UPDATE SET embedding = excluded.embedding, "
                "enrolled_ms = excluded.enrolled_ms",
                (member_id, vector.astype(np.float32).tobytes(), int(self._clock() * 1000)),
            )
            self._bump()
            self._db.execute("COMMIT")
            self._load()

    def remove(self, member_ids: Iterable[str]) -> list[str]:
        """Delete these members' entries (overwritten on disk); the ones that were there."""
        with self._lock:
            gone = [m for m in dict.fromkeys(member_ids) if m in self._ids]
            if not gone:
                return []
            self._db.execute("BEGIN")
            self._db.executemany("DELETE FROM entries WHERE member_id = ?", [(m,) for m in gone])
            self._bump()
            self._db.execute("COMMIT")
            self._load()
            return gone

    def match(self, embedding: np.ndarray, *, threshold: float) -> Match | None:
        """The closest enrolled member if the cosine similarity reaches `threshold`."""
        with self._lock:
            if not self._ids:
                return None
            scores = self._matrix @ np.asarray(embedding, dtype=np.float32).reshape(-1)
            best = int(np.argmax(scores))
            score = float(scores[best])
            return Match(self._ids[best], round(score, 4)) if score >= threshold else None

    def close(self) -> None:
        self._db.close()


class VisitorIds:
    """Anonymous ids `v-<16 hex>`, one per visit (track), under a random salt replaced each local day."""

    def __init__(self, device_id: str, *, clock: Callable[[], float] = time.time) -> None:
        self._device_id = device_id
        self._clock = clock
        self._day: dt.date | None = None
        self._salt = b""

    def _salt_for_today(self) -> bytes:
        today = dt.datetime.fromtimestamp(self._clock()).date()
        if today != self._day:
            self._day, self._salt = today, secrets.token_bytes(32)
        return self._salt

    def new(self, track_id: int) -> str:
        salt = self._salt_for_today()
        nonce = f"{self._device_id}:{track_id}:{time.monotonic_ns()}".encode()
        return "v-" + hmac.new(salt, nonce, hashlib.sha256).hexdigest()[:16]
