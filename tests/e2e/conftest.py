"""One `guang demo` stack for the e2e tests, started once per session on a free port, stopped by Ctrl-C.

The walking skeleton's Ctrl-C test ends it (and starts a second one of its own); it runs last because
its module sorts last."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from guang.bench.stack import DemoStack


def start_stack(data_dir: Path, log_name: str) -> DemoStack:
    return DemoStack.start(data_dir, scale=0.02, log=data_dir.parent / log_name, timeout_s=300)


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoStack]:
    data_dir = tmp_path_factory.mktemp("demo") / "data"
    running = start_stack(data_dir, "first-start.log")
    try:
        running.wait_ready()
        yield running
    finally:
        running.interrupt()
