"""Session fixtures: real embedded engines started once, on free ports, in a temp dir, stopped by PID."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from guang.adapters.engines import start_secantus, start_valkey

REDIS_SERVER = shutil.which("redis-server") or (
    "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
)


@pytest.fixture(scope="session")
def engines_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("engines")


@pytest.fixture(scope="session")
def valkey_url(engines_dir: Path) -> Iterator[str]:
    proc, url = start_valkey(engines_dir / "valkey")
    yield url
    proc.stop()


@pytest.fixture(scope="session")
def redis_server_url(engines_dir: Path) -> Iterator[str]:
    """Debian's redis-server, to prove the Redis-side adapters are not Valkey-specific."""
    if REDIS_SERVER is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server must be installed in CI (.ci/run installs it)")
        pytest.skip("redis-server not installed (apt-get install redis-server)")
    proc, url = start_valkey(engines_dir / "redis-server", binary=Path(REDIS_SERVER))
    yield url
    proc.stop()


@pytest.fixture(scope="session", params=["valkey", "redis-server"])
def any_redis_url(request: pytest.FixtureRequest) -> str:
    """Runs a Redis-side test against embedded Valkey and against Debian's redis-server."""
    name = "valkey_url" if request.param == "valkey" else "redis_server_url"
    url: str = request.getfixturevalue(name)
    return url


@pytest.fixture(scope="session")
def mongo_uri(engines_dir: Path) -> Iterator[str]:
    proc, uri = start_secantus(engines_dir / "secantus")
    yield uri
    proc.stop()
