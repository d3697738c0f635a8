"""A `guang demo` run in its own process group, driven from outside as a user or a benchmark would."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from guang.adapters.processes import free_port


@dataclass
class DemoStack:
    process: subprocess.Popen[bytes]
    base_url: str
    data_dir: Path
    log: Path
    seconds_to_health: float

    @classmethod
    def start(
        cls,
        data_dir: Path,
        *,
        scale: float,
        log: Path,
        timeout_s: float = 600,
        settings: Mapping[str, str] | None = None,
    ) -> DemoStack:
        """Start without simulated traffic and wait for /healthz; raise with the log tail if it fails.
        `settings`: extra `GUANG_*` environment for the stack."""
        port = free_port()
        guang = str(Path(sys.executable).with_name("guang"))
        argv = [
            guang,
            "demo",
            "--no-simulate",
            "--scale",
            str(scale),
            "--port",
            str(port),
            "--data-dir",
            str(data_dir),
        ]
        started = time.monotonic()
        # Every simulated phone and device of a benchmark or load test comes from 127.0.0.1: the
        # per-address limits meant for the public would throttle the whole test.
        env = {
            **os.environ,
            "GUANG_LOGIN_RATE_PER_MIN": "1000000",
            "GUANG_EVENTS_RATE_PER_MIN": "1000000",
            **(settings or {}),
        }
        process = subprocess.Popen(
            argv, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True, env=env
        )
        base_url = f"http://127.0.0.1:{port}"
        while time.monotonic() - started < timeout_s:
            if process.poll() is not None:
                raise RuntimeError(f"guang demo exited early:\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                    return cls(process, base_url, data_dir, log, time.monotonic() - started)
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        process.kill()
        raise RuntimeError(f"no /healthz within {timeout_s:.0f} s:\n{log.read_text()[-3000:]}")

    def wait_ready(self, timeout_s: float = 120) -> float:
        """Wait until /readyz says every part, the dataflow included, is up; return the seconds waited."""
        started = time.monotonic()
        while time.monotonic() - started < timeout_s:
            try:
                if httpx.get(f"{self.base_url}/readyz", timeout=1).status_code == 200:
                    return time.monotonic() - started
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"/readyz not 200 within {timeout_s:.0f} s:\n{self.log.read_text()[-3000:]}")

    @property
    def run_info(self) -> dict[str, Any]:
        info: dict[str, Any] = json.loads((self.data_dir / "run.json").read_text())
        return info

    @property
    def credentials(self) -> dict[str, Any]:
        credentials: dict[str, Any] = json.loads((self.data_dir / "demo-credentials.json").read_text())
        return credentials

    def interrupt(self) -> int:
        """Ctrl-C, as a terminal sends it: SIGINT to the whole process group; returns the exit code."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
        return self.process.wait(timeout=60)
