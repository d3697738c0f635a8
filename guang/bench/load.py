"""`guang load PROFILE`: locust against the demo stack for a bounded time, judged against DESIGN §7.

Uses the stack that answers on the target (its data dir holds the credentials and the demo WeChat Pay
keys), or starts one of its own in a kept data dir (`.guang/load/stack/`, so re-runs skip seeding) and
stops it afterwards. Runs `load-tests/locustfile.py` headless, samples the stack's RSS every 10 s, and
writes locust's CSVs and HTML report, PNG charts and `summary.json` into `.guang/load/<profile>-<time>/`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil

from guang.bench.report import machine_facts
from guang.bench.stack import DemoStack

RECS_P99_MS = 25.0  # DESIGN §7: recommendations via GraphQL over HTTP
SCREEN_P99_MS = 150.0  # DESIGN §7: event in → screen websocket update
MAX_ERROR_RATE = 0.001  # issue #10: < 0.1 % errors
FLAT_GROWTH_PER_HOUR = 0.10
"""Memory counts as flat when the trend after warm-up would grow RSS by less than this share per hour."""
RECS_NAME, SCREEN_NAME, TOTAL_NAME = "recommendations", "event→screen", "Aggregated"
ERROR_BUDGET = "error rate"
SHORT_WINDOWS = {
    "GUANG_EVENT_DEDUPE_TTL_S": "120",
    "GUANG_EVENTS_STREAM_RETENTION_S": "60",
    "GUANG_DOCUMENTS_OPLOG_RETENTION_S": "60",
}
"""Time windows of bounded state, shortened for a stack this command starts: memory per window is
rate x length, so with the defaults (1 h de-dupe keys and read events, 5 min of oplog) it would still
be filling after 10 minutes. With these it is full within the first half of a steady run, and what
the second half still adds is growth without a bound. Recorded in summary.json as `windows`."""
RSS_EVERY_S = 10.0
SCALE = 0.1
MIB = 1024 * 1024
LOCUSTFILE = Path(__file__).resolve().parents[2] / "load-tests" / "locustfile.py"


@dataclass(frozen=True)
class Profile:
    users: int
    spawn_rate: float
    run_time_s: int
    warmup_s: int
    """Left out of the report and the budgets: start-up burst of logins, cold caches."""
    judge_memory: bool = False


PROFILES = {
    "smoke": Profile(users=13, spawn_rate=13, run_time_s=70, warmup_s=10),
    "steady": Profile(users=40, spawn_rate=4, run_time_s=600, warmup_s=30, judge_memory=True),
    "peak": Profile(users=200, spawn_rate=40, run_time_s=120, warmup_s=15),
}


@dataclass(frozen=True)
class Verdict:
    budget: str
    value: float | None
    limit: float
    unit: str
    passed: bool
    detail: str = ""

    def line(self) -> str:
        shown = "n/a" if self.value is None else f"{self.value:g} {self.unit}"
        extra = f" ({self.detail})" if self.detail else ""
        verdict = "PASS" if self.passed else "FAIL"
        return f"{verdict}  {self.budget}: {shown} (limit {self.limit:g} {self.unit}){extra}"


# Pure logic: reading locust's CSVs, the memory trend, the budgets


def read_stats(text: str) -> dict[str, dict[str, str]]:
    """Rows of locust's `*_stats.csv` by request name (the total row is `Aggregated`)."""
    return {row["Name"]: row for row in csv.DictReader(io.StringIO(text))}


def _number(raw: str | None) -> float | None:
    try:
        value = float(raw) if raw not in (None, "", "N/A") else None
    except ValueError:
        return None
    return None if value is None or math.isnan(value) else value


def p99_ms(stats: dict[str, dict[str, str]], name: str) -> float | None:
    row = stats.get(name)
    if row is None or not int(row.get("Request Count") or 0):
        return None
    return _number(row.get("99%"))


def error_rate(stats: dict[str, dict[str, str]]) -> tuple[float, int, int]:
    """(failures / requests, failures, requests) over every request of the run."""
    row = stats.get(TOTAL_NAME, {})
    requests, failures = int(row.get("Request Count") or 0), int(row.get("Failure Count") or 0)
    return (failures / requests if requests else 1.0), failures, requests


def slope_per_min(samples: Sequence[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MiB) samples, in MiB per minute; 0 with fewer than two."""
    if len(samples) < 2:
        return 0.0
    n = len(samples)
    mean_t = sum(t for t, _ in samples) / n
    mean_v = sum(v for _, v in samples) / n
    spread = sum((t - mean_t) ** 2 for t, _ in samples)
    if spread == 0:
        return 0.0
    return sum((t - mean_t) * (v - mean_v) for t, v in samples) / spread * 60


def memory_trend(samples: Sequence[tuple[float, float]]) -> dict[str, Any]:
    """First, last and max RSS, the slope over the run and over its second half (after warm-up), and
    whether that later slope is flat (would grow RSS by < FLAT_GROWTH_PER_HOUR of its median per hour)."""
    if not samples:
        return {"samples": 0}
    values = sorted(v for _, v in samples)
    median = values[len(values) // 2]
    late = slope_per_min(samples[len(samples) // 2 :])
    return {
        "samples": len(samples),
        "first_mib": round(samples[0][1], 1),
        "last_mib": round(samples[-1][1], 1),
        "max_mib": round(max(values), 1),
        "slope_mib_per_min": round(slope_per_min(samples), 3),
        "late_slope_mib_per_min": round(late, 3),
        "flat": late * 60 < FLAT_GROWTH_PER_HOUR * median,
        "flat_limit_mib_per_min": round(FLAT_GROWTH_PER_HOUR * median / 60, 3),
    }


def judge(stats: dict[str, dict[str, str]], memory: dict[str, Any] | None = None) -> list[Verdict]:
    """One verdict per budget; a latency with no samples fails (nothing was measured)."""
    verdicts = []
    for budget, name, limit in (
        ("recommendations p99", RECS_NAME, RECS_P99_MS),
        ("event → screen p99", SCREEN_NAME, SCREEN_P99_MS),
    ):
        value = p99_ms(stats, name)
        detail = "" if value is not None else "no samples"
        verdicts.append(Verdict(budget, value, limit, "ms", value is not None and value <= limit, detail))
    rate, failures, requests = error_rate(stats)
    verdicts.append(
        Verdict(
            "error rate",
            round(rate * 100, 4),
            MAX_ERROR_RATE * 100,
            "%",
            requests > 0 and rate < MAX_ERROR_RATE,
            f"{failures} of {requests} requests",
        )
    )
    if memory is not None and memory.get("samples", 0) >= 2:
        verdicts.append(
            Verdict(
                "memory flat (slope after warm-up)",
                memory["late_slope_mib_per_min"],
                memory["flat_limit_mib_per_min"],
                "MiB/min",
                bool(memory["flat"]),
                f"first {memory['first_mib']}, last {memory['last_mib']}, max {memory['max_mib']} MiB",
            )
        )
    return verdicts


def read_history(text: str) -> dict[str, list[dict[str, float | None]]]:
    """`*_stats_history.csv` rows by request name, with numbers (None where locust wrote N/A)."""
    series: dict[str, list[dict[str, float | None]]] = {}
    for row in csv.DictReader(io.StringIO(text)):
        point = {k: _number(row.get(k)) for k in ("Timestamp", "User Count", "Requests/s", "Failures/s")}
        point |= {k: _number(row.get(k)) for k in ("50%", "95%", "99%")}
        series.setdefault(row["Name"], []).append(point)
    return series


# Charts


def charts(history_csv: Path, out: Path, *, warmup_s: float = 0) -> list[Path]:
    """latency.png (p50/p95/p99 over time, total and the two budgeted requests) and throughput.png;
    a dashed line marks the end of the warm-up, where locust's statistics were reset."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series = read_history(history_csv.read_text())
    start = min((p["Timestamp"] or 0.0 for points in series.values() for p in points), default=0.0)
    names = [n for n in (TOTAL_NAME, RECS_NAME, SCREEN_NAME) if n in series]
    written = []
    fig, axes = plt.subplots(len(names) or 1, 1, figsize=(10, 3 * max(len(names), 1)), squeeze=False)
    for ax, name in zip(axes[:, 0], names, strict=False):
        points = series[name]
        t = [(p["Timestamp"] or start) - start for p in points]
        for key in ("50%", "95%", "99%"):
            ax.plot(t, [p[key] if p[key] is not None else float("nan") for p in points], label=f"p{key[:-1]}")
        ax.axvline(warmup_s, color="grey", linestyle="--", linewidth=1)
        ax.set_title(f"{name}: latency (ms)")
        ax.set_xlabel("s")
        ax.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(out / "latency.png", dpi=90)
    written.append(out / "latency.png")
    plt.close(fig)
    total = series.get(TOTAL_NAME, [])
    t = [(p["Timestamp"] or start) - start for p in total]
    fig, ax = plt.subplots(figsize=(10, 3.5))
    ax.plot(t, [p["Requests/s"] or 0.0 for p in total], label="requests/s")
    ax.plot(t, [p["Failures/s"] or 0.0 for p in total], label="failures/s")
    ax.plot(t, [p["User Count"] or 0.0 for p in total], label="users", linestyle=":")
    ax.axvline(warmup_s, color="grey", linestyle="--", linewidth=1, label="end of warm-up")
    ax.set_title("throughput (all requests)")
    ax.set_xlabel("s")
    ax.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(out / "throughput.png", dpi=90)
    written.append(out / "throughput.png")
    plt.close(fig)
    return written


# The run


def _answers(base_url: str) -> bool:
    try:
        return httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _stack_rss_mib(pid: int) -> float:
    """RSS of a process and all its descendants; 0 once it is gone."""
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0
    for proc in procs:
        try:
            total += proc.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total / MIB


class RssSampler(threading.Thread):
    """Every RSS_EVERY_S seconds, (seconds since start, MiB) of the stack's process tree, and the share
    of each named child (valkey, secantusdb, dataflow, … with their descendants; `main` is the rest)."""

    def __init__(self, pid: int, children: dict[str, int]) -> None:
        super().__init__(daemon=True, name="rss-sampler")
        self.pid, self.children = pid, children
        self.samples: list[tuple[float, float]] = []
        self.parts: list[dict[str, float]] = []
        self._stop_event = threading.Event()

    def run(self) -> None:
        started = time.monotonic()
        while True:
            total = _stack_rss_mib(self.pid)
            parts = {name: round(_stack_rss_mib(pid), 1) for name, pid in self.children.items()}
            self.parts.append({"main": round(total - sum(parts.values()), 1), **parts})
            self.samples.append((round(time.monotonic() - started, 1), round(total, 1)))
            if self._stop_event.wait(RSS_EVERY_S):
                return

    def stop(self) -> list[tuple[float, float]]:
        self._stop_event.set()
        self.join(timeout=5)
        return self.samples

    def by_process(self) -> dict[str, list[float]]:
        """First and last MiB of each part."""
        if not self.parts:
            return {}
        return {name: [self.parts[0][name], self.parts[-1].get(name, 0.0)] for name in self.parts[0]}


def _locust(base_url: str, data_dir: Path, out: Path, profile: Profile) -> int:
    """Locust headless, bounded; if it overstays, SIGINT then SIGKILL its own PID."""
    argv = [
        str(Path(sys.executable).with_name("locust")), "-f", str(LOCUSTFILE), "--headless",
        "--host", base_url, "-u", str(profile.users), "-r", str(profile.spawn_rate),
        "-t", f"{profile.run_time_s}s", "--stop-timeout", "5", "--only-summary",
        "--csv", str(out / "locust"), "--csv-full-history", "--html", str(out / "report.html"),
        "--logfile", str(out / "locust.log"),
    ]  # fmt: skip
    env = {
        **os.environ,
        "GUANG_LOAD_DATA_DIR": str(data_dir),
        "GUANG_CREDENTIALS": str(data_dir / "demo-credentials.json"),
        "GUANG_LOAD_SIDECAR": str(out / "counts.json"),
        "GUANG_LOAD_WARMUP_S": str(profile.warmup_s),
    }
    process = subprocess.Popen(argv, env=env)
    try:
        return process.wait(timeout=profile.run_time_s + 90)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGINT)
        try:
            return process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            return process.wait()


def _stop_stack(stack: DemoStack) -> None:
    try:
        stack.interrupt()
    except subprocess.TimeoutExpired:
        os.killpg(stack.process.pid, signal.SIGKILL)
        stack.process.wait(timeout=10)


def main(
    *, profile_name: str, root: Path, host: str | None, data_dir: Path | None, strict: bool = False
) -> int:
    """Run one profile; print a PASS/FAIL line per budget and the JSON summary; see `exit_status`."""
    profile = PROFILES[profile_name]
    started = time.monotonic()
    data_dir = (data_dir or root / "stack" / "data").resolve()
    run_json = data_dir / "run.json"
    base_url = host or (json.loads(run_json.read_text())["base_url"] if run_json.exists() else "")
    stack: DemoStack | None = None
    if not base_url or not _answers(base_url):
        data_dir.mkdir(parents=True, exist_ok=True)
        print(f"starting the demo stack (scale {SCALE}) in {data_dir} …", flush=True)
        stack = DemoStack.start(
            data_dir, scale=SCALE, log=data_dir.parent / "stack.log", timeout_s=1800, settings=SHORT_WINDOWS
        )
        stack.wait_ready()
        base_url = stack.base_url
        print(f"stack up at {base_url} after {time.monotonic() - started:.0f} s", flush=True)
    elif profile.judge_memory:
        print(
            f"using the stack at {base_url}: its time windows are its own ({SHORT_WINDOWS} are set only "
            "on a stack this command starts), so bounded state may still be filling",
            flush=True,
        )
    out = (root / f"{profile_name}-{dt.datetime.now():%Y%m%d-%H%M%S}").resolve()
    out.mkdir(parents=True, exist_ok=True)
    pid = stack.process.pid if stack else json.loads(run_json.read_text())["pid"] if run_json.exists() else 0
    children = json.loads(run_json.read_text()).get("children", {}) if run_json.exists() else {}
    sampler = RssSampler(int(pid), {k: int(v) for k, v in children.items()}) if pid else None
    try:
        if sampler:
            sampler.start()
        print(
            f"locust {profile_name}: {profile.users} users for {profile.run_time_s} s "
            f"(the first {profile.warmup_s} s are warm-up, not measured) → {out}",
            flush=True,
        )
        exit_code = _locust(base_url, data_dir, out, profile)
    finally:
        samples = sampler.stop() if sampler else []
        if stack is not None:
            _stop_stack(stack)
    stats = read_stats((out / "locust_stats.csv").read_text())
    memory = memory_trend(samples)
    by_process = sampler.by_process() if sampler else {}
    verdicts = judge(stats, memory if profile.judge_memory else None)
    images = charts(out / "locust_stats_history.csv", out, warmup_s=profile.warmup_s)
    counts_file = out / "counts.json"
    summary = {
        "profile": profile_name,
        **asdict(profile),
        "base_url": base_url,
        "started_stack": stack is not None,
        "windows": SHORT_WINDOWS if stack is not None else "those of the running stack",
        "locust_exit_code": exit_code,
        "seconds_total": round(time.monotonic() - started, 1),
        "budgets": [asdict(v) for v in verdicts],
        "passed": all(v.passed for v in verdicts),
        "requests": {
            name: {
                "count": int(row["Request Count"]),
                "failures": int(row["Failure Count"]),
                "rps": _number(row["Requests/s"]),
                "p50_ms": _number(row["50%"]),
                "p95_ms": _number(row["95%"]),
                "p99_ms": _number(row["99%"]),
            }
            for name, row in stats.items()
        },
        "counts": json.loads(counts_file.read_text()) if counts_file.exists() else {},
        "memory": {**memory, "by_process_first_last_mib": by_process, "rss_mib": samples},
        "charts": [p.name for p in images],
        "machine": machine_facts(),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False))
    compact = {k: v for k, v in summary.items() if k not in ("requests", "machine")}
    compact["memory"] = {**memory, "by_process_first_last_mib": by_process}
    print(json.dumps(compact, indent=2, ensure_ascii=False))
    for verdict in verdicts:
        print(verdict.line())
    print(f"{'PASS' if summary['passed'] else 'FAIL'}: {profile_name} load profile; reports in {out}")
    return exit_status(verdicts, strict=strict)


def exit_status(verdicts: Sequence[Verdict], *, strict: bool) -> int:
    """1 when the run itself is unhealthy (errors), or with `strict` when any budget is missed."""
    broken = any(not v.passed for v in verdicts if strict or v.budget == ERROR_BUDGET)
    return 1 if broken else 0
