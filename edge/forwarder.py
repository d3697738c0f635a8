"""Empties the outbox into the API's `POST /events`, oldest first, one batch at a time (at-least-once:
events are acknowledged only after the API answered for them)."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, Literal

import httpx

from edge.outbox import Outbox

log = logging.getLogger(__name__)

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
