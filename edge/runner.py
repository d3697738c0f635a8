"""One edge box at work: frames → agent → local outbox → server, the gallery kept in line with consent,
and (optionally) the enrolment kiosk. Everything but the frame analysis runs on one asyncio loop; the
analysis runs in a worker thread so delivery and sync never wait for a frame."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import httpx

from edge.agent import CameraAgent, Placement
from edge.forwarder import Forwarder
from edge.identity import Gallery
from edge.outbox import Outbox
from edge.server_api import ServerApi, ServerRefused, Setup
from edge.settings import EdgeSettings
from edge.sources import Frame
from edge.zones import ZoneMap
from guang.adapters.face_model import FaceModel

log = logging.getLogger(__name__)
DRAIN_S = 5.0


@dataclass
class RunReport:
    frames: int = 0
    events: int = 0
    removed_from_gallery: list[str] = field(default_factory=list)
    latencies_s: list[float] = field(default_factory=list)
    """Per frame that caused events: from reading the frame to its events being safe in the outbox."""
    busy_s: float = 0.0


def match_threshold(settings: EdgeSettings) -> float:
    from edge.face_eval import DEFAULT_MATCH_THRESHOLD

    return settings.match_threshold if settings.match_threshold is not None else DEFAULT_MATCH_THRESHOLD


class EdgeBox:
    def __init__(
        self,
        *,
        settings: EdgeSettings,
        model: FaceModel,
        client: httpx.AsyncClient,
        setup: Setup,
        zones: ZoneMap,
    ) -> None:
        data = settings.data_dir
        self.settings = settings
        self.model = model
        self.setup = setup
        self.zones = zones
        self.server = ServerApi(client, token=settings.token.get_secret_value())
        self.gallery = Gallery(data / "gallery.sqlite", dim=model.dim)
        self.outbox = Outbox(
            data / "outbox.sqlite",
            max_bytes=settings.outbox_max_mb * 1024 * 1024,
            max_age_s=settings.outbox_max_days * 86_400,
        )
        self.forwarder = Forwarder(self.outbox, client=client, token=settings.token.get_secret_value())
        self.agent = CameraAgent(
            model=model,
            gallery=self.gallery,
            zones=zones,
            placement=Placement(device_id=setup.device_id, store_id=setup.store_id, mall_id=setup.mall_id),
            threshold=match_threshold(settings),
        )
        self._withdrawn: list[str] = []

    async def sync_gallery(self) -> list[str]:
        """Ask the server which gallery members lost consent; delete them here and now."""
        remove = await self.server.sync(members=self.gallery.members(), version=self.gallery.version)
        gone = self.gallery.remove(remove)
        if gone:
            log.info("removed %d withdrawn member(s) from the gallery", len(gone))
            self._withdrawn += gone
        return gone

    async def _sync_loop(self, stop: Callable[[], bool], report: RunReport) -> None:
        while not stop():
            try:
                report.removed_from_gallery += await self.sync_gallery()
            except (httpx.HTTPError, ServerRefused) as error:
                log.warning("gallery sync failed (will retry): %s", error)
            await asyncio.sleep(self.settings.sync_interval_s)

    async def run(self, frames: Iterator[Frame], *, stop: Callable[[], bool]) -> RunReport:
        """Analyse frames until they run out or `stop()`; then deliver what is buffered (briefly)."""
        report = RunReport()
        finished = False

        def done() -> bool:
            return finished or stop()

        tasks = [
            asyncio.create_task(self.forwarder.run(done), name="edge-forwarder"),
            asyncio.create_task(self._sync_loop(done, report), name="edge-sync"),
        ]
        try:
            while not stop():
                frame = await asyncio.to_thread(next, frames, None)
                if frame is None:
                    break
                if self._withdrawn:
                    self.outbox.put(self.agent.forget(self._withdrawn))
                    self._withdrawn = []
                began = time.perf_counter()
                events = await asyncio.to_thread(self.agent.process, frame.image, frame.ts_ms)
                report.busy_s += time.perf_counter() - began
                report.frames += 1
                if events:
                    self.outbox.put(events)
                    report.events += len(events)
                    report.latencies_s.append(time.perf_counter() - frame.taken)
            last = self.agent.finish()
            self.outbox.put(last)
            report.events += len(last)
        finally:
            finished = True
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self.drain(DRAIN_S)
        return report

    async def drain(self, timeout_s: float) -> None:
        """Deliver what is buffered while the server answers, for at most `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        while self.outbox.stats().pending and time.monotonic() < deadline:
            result = await self.forwarder.deliver_once()
            if result.status not in ("delivered", "too_large"):
                break

    def close(self) -> None:
        self.gallery.close()
        self.outbox.close()
