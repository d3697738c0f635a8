"""What `guang edge …` does: run the camera agent on a source, or on the synthetic store video; enrol."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cv2
import httpx
import numpy as np

from edge.kiosk import Kiosk, kiosk_app
from edge.runner import EdgeBox, RunReport
from edge.server_api import ServerApi, Setup
from edge.settings import EdgeSettings
from edge.sources import Frame, SourceStats, open_frames, paced
from edge.zones import ZoneMap
from guang.adapters.face_model import InsightFaceModel

log = logging.getLogger(__name__)
SIMULATED_SIZE = (640, 480)


def demo_camera(credentials: Path, store_id: str | None) -> tuple[str, str]:
    """(api_url, camera token) of a demo store (the first with zones when `store_id` is None)."""
    if not credentials.is_file():
        raise FileNotFoundError(f"no demo credentials at {credentials}: start `make demo` first")
    data: dict[str, Any] = json.loads(credentials.read_text())
    stores = [s for s in data["stores"] if store_id in (None, s["store_id"]) and s.get("zones")]
    if not stores:
        raise ValueError(f"no demo store {store_id} with shelf zones in {credentials}")
    token = next(d["token"] for d in stores[0]["devices"] if d["kind"] == "camera")
    return str(data["base_url"]), str(token)


def load_model(settings: EdgeSettings) -> InsightFaceModel:
    return InsightFaceModel(
        root=settings.data_dir / "insightface", model_dir=settings.face_model_dir, det_size=settings.det_size
    )


def _polygons(settings: EdgeSettings) -> dict[str, list[list[float]]] | None:
    if settings.polygons_file is None:
        return None
    polygons: dict[str, list[list[float]]] = json.loads(settings.polygons_file.read_text())
    return polygons


def _first_size(spec: str) -> tuple[int, int]:
    """(width, height) of a source's frames, read once before the agent starts."""
    path = Path(spec)
    if path.is_dir():
        image = next((cv2.imread(str(p)) for p in sorted(path.iterdir()) if p.is_file()), None)
        if image is None:
            raise ValueError(f"no readable image in {spec}")
        return image.shape[1], image.shape[0]
    capture = cv2.VideoCapture(int(spec) if spec.isdigit() else spec)
    try:
        ok, image = capture.read()
    finally:
        capture.release()
    if not ok:
        raise ValueError(f"cannot read a frame from {spec}")
    return image.shape[1], image.shape[0]


def _stopper() -> tuple[list[bool], contextlib.AbstractContextManager[None]]:
    """A flag set by Ctrl-C or SIGTERM, so the agent finishes its visits and delivers what it holds."""
    flag = [False]

    @contextlib.contextmanager
    def handlers() -> Iterator[None]:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, flag.__setitem__, 0, True)
        try:
            yield
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)

    return flag, handlers()


async def fetch_setup(client: httpx.AsyncClient, settings: EdgeSettings, *, wait_s: float = 120.0) -> Setup:
    """The camera's set-up from the server, waiting for it to come up (an edge box may boot first)."""
    server = ServerApi(client, token=settings.token.get_secret_value())
    deadline = time.monotonic() + wait_s
    while True:
        try:
            return await server.setup()
        except httpx.TransportError as error:
            if time.monotonic() > deadline:
                raise
            log.info("server not reachable yet (%s); retrying", error)
            await asyncio.sleep(1.0)


async def run_box(
    settings: EdgeSettings, frames_for: Callable[[ZoneMap], Iterator[Frame]], *, size: tuple[int, int]
) -> RunReport:
    """Connect to the server, then analyse the frames `frames_for(zones)` gives (with the kiosk up if
    configured) until they end. The zones are the camera's view of the store's shelves at `size`."""
    model = load_model(settings)
    async with httpx.AsyncClient(base_url=settings.api_url, timeout=10.0) as client:
        setup = await fetch_setup(client, settings)
        zones = setup.zone_map(width=size[0], height=size[1], polygons=_polygons(settings))
        box = EdgeBox(settings=settings, model=model, client=client, setup=setup, zones=zones)
        log.info("camera %s in store %s: %d shelf zones", setup.device_id, setup.store_id, len(zones.areas))
        kiosk_task = None
        if settings.kiosk_port:
            import uvicorn

            config = uvicorn.Config(
                kiosk_app(Kiosk(model=model, gallery=box.gallery, server=box.server)),
                host="127.0.0.1",
                port=settings.kiosk_port,
                log_level="warning",
            )
            kiosk_task = asyncio.create_task(uvicorn.Server(config).serve())
            log.info("enrolment kiosk on http://127.0.0.1:%d/", settings.kiosk_port)
        stop, handlers = _stopper()
        try:
            with handlers:
                return await box.run(frames_for(zones), stop=lambda: stop[0])
        finally:
            if kiosk_task is not None:
                kiosk_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await kiosk_task
            box.close()


def summary(report: RunReport, stats: SourceStats) -> str:
    latencies = sorted(report.latencies_s)
    p50 = f"{latencies[len(latencies) // 2] * 1000:.0f} ms" if latencies else "-"
    fps = report.frames / report.busy_s if report.busy_s else 0.0
    return (
        f"{report.frames} frames analysed ({stats.skipped} skipped), {fps:.1f} frames/s while busy, "
        f"{report.events} events, frame→event p50 {p50}, {len(report.removed_from_gallery)} withdrawn"
    )


def run(settings: EdgeSettings, *, source: str, realtime: bool) -> str:
    stats = SourceStats()
    frames = open_frames(source, max_fps=settings.max_fps, realtime=realtime, stats=stats)
    report = asyncio.run(run_box(settings, lambda _zones: frames, size=_first_size(source)))
    return summary(report, stats)


CHUNK_S = 300.0
"""An endless simulation is planned in chunks of this length (a new cast each time)."""


def synthetic_frames(
    zones: ZoneMap, *, seconds: float, seed: int, fps: float
) -> Iterator[tuple[float, np.ndarray]]:
    """(seconds from the start, frame) of the synthetic store video; `seconds` = 0 plays until stopped."""
    from edge.face_images import shipped_people
    from edge.synthetic import SyntheticCamera, plan_visits, sharp_people

    width, height = SIMULATED_SIZE
    people = sharp_people(shipped_people())
    chunk = 0
    while seconds == 0 or chunk * CHUNK_S < seconds:
        length = CHUNK_S if seconds == 0 else min(CHUNK_S, seconds - chunk * CHUNK_S)
        rng = random.Random(seed + chunk)
        visits = plan_visits(zones, people, seconds=length, rng=rng, width=width, height=height)
        camera = SyntheticCamera(
            zones, visits, width=width, height=height, fps=fps, seconds=length, seed=seed
        )
        yield from ((chunk * CHUNK_S + frame.ts_s, frame.image) for frame in camera)
        chunk += 1


def simulate(settings: EdgeSettings, *, seconds: float, seed: int) -> str:
    """The agent on the synthetic store video of the shipped face photos, in real time."""
    stats = SourceStats()

    def frames_for(zones: ZoneMap) -> Iterator[Frame]:
        media = synthetic_frames(zones, seconds=seconds, seed=seed, fps=settings.max_fps)
        return paced(media, max_fps=settings.max_fps, realtime=True, stats=stats)

    return summary(asyncio.run(run_box(settings, frames_for, size=SIMULATED_SIZE)), stats)


def enrol(settings: EdgeSettings, *, code: str, photo: Path) -> str:
    """Enrol a member on this box from a photo file, as the kiosk does (for staff and tests)."""

    async def main() -> str:
        from edge.identity import Gallery

        model = load_model(settings)
        gallery = Gallery(settings.data_dir / "gallery.sqlite", dim=model.dim)
        try:
            async with httpx.AsyncClient(base_url=settings.api_url, timeout=10.0) as client:
                server = ServerApi(client, token=settings.token.get_secret_value())
                return await Kiosk(model=model, gallery=gallery, server=server).enrol(
                    code=code, photo=photo.read_bytes()
                )
        finally:
            gallery.close()

    return asyncio.run(main())
