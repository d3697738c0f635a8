"""Running the whole system: engines, seeding, dataflow child, API server, simulator; clean stop."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from functools import partial
from pathlib import Path
from typing import Any

import uvicorn
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from guang.adapters.ports import Progress as Advance
from guang.adapters.processes import ChildProcess, free_port
from guang.bootstrap import Container, Engines, child_environment, start_engines
from guang.seed import loader
from guang.seed.generator import generate
from guang.services.retention import check_rules, retention_job
from guang.settings import Settings

console = Console(stderr=True)
MAX_RESTARTS = 5
RESTART_WINDOW_S = 600.0


@contextlib.contextmanager
def progress_bar(description: str, total: int) -> Iterator[Advance]:
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task(description, total=total)
        yield lambda n: bar.advance(task, n)


def progress_factory() -> Callable[[str, int], AbstractContextManager[Advance]]:
    return progress_bar


async def ensure_seeded(container: Container, *, seed: int, scale: float, reset: bool = False) -> bool:
    """Seed when the stores are empty (or when asked to reset); return whether seeding ran."""
    documents = container.documents
    if reset:
        await documents.drop_database()
    elif await loader.is_seeded(documents):
        return False
    started = time.monotonic()
    console.print(f"[bold]播种 seeding[/] seed={seed} scale={scale} …")
    data = generate(seed=seed, scale=scale, now_ms=_today_ms())
    await loader.load(
        data,
        documents=documents,
        vectors=container.vectors,
        features=container.features,
        encoder=container.encoder,
        secret=container.secret_key,
        progress=progress_factory(),
        meta={"seed": seed, "scale": scale, "model": container.settings.text_model_name},
    )
    container.release_encoder()
    counts = ", ".join(f"{k} {v}" for k, v in data.counts().items())
    console.print(f"seeded in {time.monotonic() - started:.0f}s: {counts}")
    return True


def _today_ms() -> int:
    """Midnight UTC today: coupons and posts are generated around it, and a re-seed the same day is
    identical."""
    day = 86_400_000
    return int(time.time() * 1000) // day * day


def dataflow_command(recovery: Path) -> list[str]:
    """Run the dataflow with recovery: a snapshot every second, no extra backup delay. Creates the
    recovery store (one partition) the first time."""
    if not recovery.exists():
        recovery.mkdir(parents=True)
        subprocess.run([sys.executable, "-m", "bytewax.recovery", str(recovery), "1"], check=True)
    flow = "stream.flow:build_flow()"
    return [sys.executable, "-m", "bytewax.run", flow, "-r", str(recovery), "-s", "1", "-b", "0"]


def start_dataflow(settings: Settings) -> ChildProcess:
    """The Bytewax dataflow as a child process."""
    env = {**os.environ, **child_environment(settings)}
    argv = dataflow_command(settings.data_dir.resolve() / "recovery")
    proc = ChildProcess(
        "dataflow", argv, log_path=settings.data_dir.resolve() / "logs" / "dataflow.log", env=env
    )
    proc.start()
    return proc


class _Server(uvicorn.Server):
    """Uvicorn without its own signal handling: the runtime owns SIGINT/SIGTERM and stops everything."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def write_run_info(settings: Settings, engines: Engines, extra: dict[str, Any]) -> Path:
    path = settings.path("run.json")
    info = {
        "pid": os.getpid(),
        "base_url": f"http://{settings.host}:{settings.port}",
        "kv_url": engines.settings.kv_url,
        "bus_url": engines.settings.bus_url,
        "documents_uri": engines.settings.documents_uri,
        "children": engines.pids(),
        **extra,
    }
    path.write_text(json.dumps(info, indent=2))
    return path


DEMO_CAMERA_FPS = 5
RETENTION_EVERY_S = 3600.0


def start_demo_camera(
    settings: Settings, credentials: dict[str, Any], path: Path
) -> tuple[ChildProcess, str]:
    """`guang edge simulate` for the first demo store with shelves, endless, with its kiosk; and the
    kiosk's URL. It shows real face detection on the synthetic video without a camera."""
    store = next(s for s in credentials["stores"] if s["zones"])
    kiosk_port = free_port(settings.host)
    data = settings.data_dir.resolve()
    argv = [
        str(Path(sys.executable).with_name("guang")), "edge", "simulate", "--store", store["store_id"],
        "--credentials", str(path.resolve()), "--data-dir", str(data / "edge"), "--seconds", "0",
        "--max-fps", str(DEMO_CAMERA_FPS), "--kiosk-port", str(kiosk_port),
    ]  # fmt: skip
    camera = ChildProcess("camera", argv, log_path=data / "logs" / "camera.log", env=dict(os.environ))
    camera.start()
    return camera, f"http://127.0.0.1:{kiosk_port}/"


async def run_stack(
    settings: Settings, *, simulate: bool, seed: int, scale: float, camera: bool = False
) -> None:
    """Start everything, serve until SIGINT/SIGTERM, then stop every child by PID."""
    from api.app import create_app
    from api.services import AppServices
    from edge.simulator import run_simulator

    engines = start_engines(settings)
    container = Container(engines.settings)
    tasks: list[asyncio.Task[None]] = []
    try:
        await ensure_seeded(container, seed=seed, scale=scale)
        base_url = f"http://{settings.host}:{settings.port}"
        credentials = await loader.demo_credentials(container.documents, container.secret_key, base_url)
        credentials_path = settings.path("demo-credentials.json")
        loader.write_credentials(credentials_path, credentials)
        engines.processes.append(start_dataflow(engines.settings))
        services = await AppServices.build(container)
        server = _Server(
            uvicorn.Config(create_app(services), host=settings.host, port=settings.port, log_level="warning")
        )
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, lambda: setattr(server, "should_exit", True))
        extra = {"credentials": str(credentials_path)}
        record = partial(write_run_info, settings, engines, extra)
        tasks.append(asyncio.create_task(_supervise_dataflow(engines, server, record)))
        check_rules(settings.retention_days)
        retention = retention_job(
            container.documents,
            settings.retention_days,
            every_s=RETENTION_EVERY_S,
            stop=lambda: server.should_exit,
        )
        tasks.append(asyncio.create_task(retention))
        kiosk_url = None
        if simulate:
            tasks.append(asyncio.create_task(run_simulator(credentials, stop=lambda: server.should_exit)))
            if camera:
                camera_process, kiosk_url = start_demo_camera(settings, credentials, credentials_path)
                engines.processes.append(camera_process)
        record()
        _announce(credentials, credentials_path, kiosk_url=kiosk_url)
        await server.serve()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await container.aclose()
        engines.stop()
        console.print("stopped: engines, dataflow and API are down")


async def _supervise_dataflow(
    engines: Engines, server: uvicorn.Server, on_restart: Callable[[], object]
) -> None:
    """Restart a dataflow that died (it resumes from its last snapshot); if it keeps dying, say so and
    shut down rather than serve stale features."""
    restarts: list[float] = []
    while not server.should_exit:
        await asyncio.sleep(0.5)
        dataflow = next(p for p in engines.processes if p.name == "dataflow")
        if dataflow.alive() or server.should_exit:
            continue
        restarts = [t for t in restarts if time.monotonic() - t < RESTART_WINDOW_S] + [time.monotonic()]
        if len(restarts) > MAX_RESTARTS:
            console.print(f"[red]dataflow keeps exiting[/]; see {dataflow.log_path}:\n{dataflow.tail_log()}")
            server.should_exit = True
            return
        console.print(f"[yellow]dataflow exited; restarting from its snapshot[/] (see {dataflow.log_path})")
        engines.processes.remove(dataflow)
        engines.processes.append(start_dataflow(engines.settings))
        on_restart()


def miniprogram_url(credentials: dict[str, Any]) -> str:
    """`/mp/` placed in the first demo store's mall: a desktop browser is nowhere near the seeded malls."""
    base = f"{credentials['base_url']}/mp/"
    stores = credentials.get("stores") or []
    malls = {m["mall_id"]: m for m in credentials.get("mall_positions", [])}
    mall = malls.get(stores[0]["mall_id"]) if stores else None
    return f"{base}?lat={mall['lat']:.6f}&lng={mall['lng']:.6f}" if mall else base


def _announce(credentials: dict[str, Any], path: Path, *, kiosk_url: str | None) -> None:
    base = credentials["base_url"]

    def say(line: str) -> None:
        console.print(line, soft_wrap=True)  # a wrapped URL could not be copied

    console.print(f"\n[bold green]逛 guang is up[/] at {base}")
    say(f"  GraphQL (GraphiQL)  {base}/graphql")
    say(f"  mini-program (H5, phone-sized)  {miniprogram_url(credentials)}")
    for store in credentials["stores"]:
        for device in store["devices"]:
            if "screen_url" in device:
                say(f"  screen {store['name']}  {device['screen_url']}")
    if credentials["stores"]:
        first = credentials["stores"][0]
        say(f"  store dashboard  {base}/dashboard/{first['store_id']}")
        say(f"  mall dashboard  {base}/dashboard/mall/{first['mall_id']}")
        say(f"  导购 guide page (staff phone: inbox and client book)  {base}/guide/")
    if kiosk_url:
        say(f"  camera (synthetic video, real face detection) → face enrolment kiosk  {kiosk_url}")
    say(f"  health  {base}/healthz   ready  {base}/readyz   metrics  {base}/metrics")
    logins = [
        (kind, entries[0]["login_code"])
        for kind in ("shoppers", "staff", "brand_admins", "mall_operators")
        if (entries := credentials.get(kind))
    ]
    say("  login codes (mini-program, GraphQL)  " + "   ".join(f"{kind}: {code}" for kind, code in logins))
    say(f"  all demo credentials (login codes, device tokens, zones): {path}")
    console.print("Ctrl-C stops everything.\n")
