"""Resident memory (RSS) of the whole embedded stack with demo data, per data scale.

For each scale, runs `guang demo` on embedded engines in its own kept data dir (so re-runs skip
seeding), lets it settle, sends a short realistic load (camera dwell events on POST /events and
screen recommendation queries over GraphQL) so caches are warm, then samples the RSS of the main
process and of each child (valkey, secantusdb, dataflow, each with its own descendants).
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import psutil

from guang.bench.report import machine_facts, write_report
from guang.bench.stack import DemoStack

BUDGET_MIB = 2048.0  # DESIGN §7: whole embedded stack with demo data ≤ 2 GB (read as GiB) RSS
BUDGET_SCALE = 1.0
SETTLE_S = 5.0
LOAD_S = 20.0
LOAD_EVENTS = 300
LOAD_QUERIES = 200
SAMPLES = 5
RECOMMENDATIONS = (
    "query R($s: String!) { recommendations(surface: SCREEN, storeId: $s, limit: 8) "
    "{ recId items { score } } }"
)
MIB = 1024 * 1024


def _load(base_url: str, credentials: dict[str, Any]) -> dict[str, int]:
    """~LOAD_S seconds of dwell events (each store's camera, its own zones) and recommendation queries."""
    stores = credentials["stores"]
    ticks = LOAD_QUERIES
    per_tick = -(-LOAD_EVENTS // ticks)
    counts = {"events": 0, "event_errors": 0, "queries": 0, "query_errors": 0}
    started = time.monotonic()
    with httpx.Client(base_url=base_url, timeout=10) as client:
        for n in range(ticks):
            store = stores[n % len(stores)]
            if counts["events"] < LOAD_EVENTS:
                camera = next(d for d in store["devices"] if d["kind"] == "camera")
                batch = [
                    {
                        "event_id": f"mem-{uuid.uuid4().hex}",
                        "type": "dwell",
                        "ts_ms": int(time.time() * 1000),
                        "visitor_id": f"mem-{(n + k) % 50}",
                        "zone_id": store["zones"][(n + k) % len(store["zones"])]["zone_id"],
                        "dwell_ms": 5_000 + 1_000 * ((n + k) % 60),
                    }
                    for k in range(per_tick)
                ]
                response = client.post(
                    "/events", json=batch, headers={"Authorization": f"Bearer {camera['token']}"}
                )
                counts["events"] += len(batch)
                counts["event_errors"] += len(batch) if response.status_code >= 400 else 0
            query = {"query": RECOMMENDATIONS, "variables": {"s": store["store_id"]}}
            response = client.post("/graphql", json=query)
            counts["queries"] += 1
            counts["query_errors"] += int(response.status_code >= 400 or "errors" in response.json())
            time.sleep(max(0.0, started + LOAD_S * (n + 1) / ticks - time.monotonic()))
    return counts


def _rss(pid: int, *, descendants: bool) -> tuple[int, set[int]]:
    """RSS bytes of a process (and its descendants) and the PIDs counted; gone processes count 0."""
    try:
        root = psutil.Process(pid)
        procs = [root, *(root.children(recursive=True) if descendants else [])]
    except psutil.NoSuchProcess:
        return 0, set()
    total, seen = 0, set()
    for proc in procs:
        try:
            total += proc.memory_info().rss
            seen.add(proc.pid)
        except psutil.NoSuchProcess:
            continue
    return total, seen


def _sample(run_info: dict[str, Any]) -> dict[str, float]:
    """One RSS sample in MiB: main process, each named child with its descendants, any other descendant."""
    main_pid = int(run_info["pid"])
    rss: dict[str, float] = {}
    counted = {main_pid}
    rss["main"] = _rss(main_pid, descendants=False)[0] / MIB
    for name, pid in run_info["children"].items():
        size, pids = _rss(int(pid), descendants=True)
        rss[name] = size / MIB
        counted |= pids
    try:
        others = [p.pid for p in psutil.Process(main_pid).children(recursive=True) if p.pid not in counted]
    except psutil.NoSuchProcess:
        others = []
    rss["other"] = sum(_rss(pid, descendants=False)[0] for pid in others) / MIB
    rss["total"] = sum(rss.values())
    return rss


def _stop(stack: DemoStack, child_pids: list[int]) -> None:
    """Ctrl-C the stack's process group; if it hangs, SIGKILL that group (ours). Warn about survivors."""
    try:
        stack.interrupt()
    except subprocess.TimeoutExpired:
        os.killpg(stack.process.pid, signal.SIGKILL)
        stack.process.wait(timeout=10)
    deadline = time.monotonic() + 10
    while (alive := [p for p in child_pids if psutil.pid_exists(p)]) and time.monotonic() < deadline:
        time.sleep(0.2)
    if alive:
        print(f"warning: children still running after stop: {alive}")


def measure(scale: float, stack_root: Path) -> dict[str, Any]:
    root = (stack_root / f"scale-{scale:g}").resolve()
    data_dir = root / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    log = root / "stack.log"
    stack = DemoStack.start(data_dir, scale=scale, log=log, timeout_s=1800)
    child_pids: list[int] = []
    try:
        stack.wait_ready()
        info = stack.run_info
        child_pids = [int(pid) for pid in info["children"].values()]
        time.sleep(SETTLE_S)
        load = _load(stack.base_url, stack.credentials)
        samples = []
        for n in range(SAMPLES):
            samples.append(_sample(info))
            if n < SAMPLES - 1:
                time.sleep(1.0)
    finally:
        _stop(stack, child_pids)
    names = list(samples[0])
    return {
        "scale": scale,
        "seeded": "seeded in" in log.read_text(errors="replace"),
        "seconds_to_health": round(stack.seconds_to_health, 1),
        "load": load,
        "max_rss_mib": {name: round(max(s[name] for s in samples), 1) for name in names},
        "samples_total_mib": [round(s["total"], 1) for s in samples],
    }


def _growth(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    steps = []
    for low, high in itertools.pairwise(runs):
        delta = high["max_rss_mib"]["total"] - low["max_rss_mib"]["total"]
        span = high["scale"] - low["scale"]
        per_tenth = delta / span / 10 if span else float("nan")
        step = {"from": low["scale"], "to": high["scale"], "delta_mib": round(delta, 1)}
        steps.append({**step, "mib_per_0_1_scale": round(per_tenth, 1)})
    return steps


def main(*, json_path: Path, scales: list[float]) -> None:
    runs = [measure(scale, json_path.parent / "memory-stack") for scale in sorted(set(scales))]
    steps = _growth(runs)
    at_budget = next((r for r in runs if r["scale"] == BUDGET_SCALE), None)
    met = None if at_budget is None else at_budget["max_rss_mib"]["total"] <= BUDGET_MIB
    largest = runs[-1]
    report: dict[str, Any] = {
        "benchmark": "memory: RSS of the whole embedded stack with demo data",
        "budget": {"total_rss_mib": BUDGET_MIB, "at_scale": BUDGET_SCALE},
        "headline": f"max total RSS {largest['max_rss_mib']['total']:.0f} MiB at scale {largest['scale']:g}",
        "runs": runs,
        "growth": steps,
        "met": met,
        "note": "RSS summed over processes counts shared pages once per process (an upper bound).",
        "machine": machine_facts(),
    }
    rows: list[tuple[str, str]] = []
    for run in runs:
        s = f"scale {run['scale']:g}"
        if run["seeded"]:
            rows.append((f"{s}: seeding (first run), s to /healthz", f"{run['seconds_to_health']:.0f}"))
        per = run["max_rss_mib"]
        rows.append((f"{s}: max total RSS (MiB)", f"{per['total']:.0f}"))
        parts = " / ".join(f"{k} {v:.0f}" for k, v in per.items() if k != "total")
        rows.append((f"{s}: per process (MiB)", parts))
        load = run["load"]
        errors = load["event_errors"] + load["query_errors"]
        rows.append(
            (f"{s}: load events / queries / errors", f"{load['events']} / {load['queries']} / {errors}")
        )
    for step in steps:
        change = f"{step['delta_mib']:+.0f} ({step['mib_per_0_1_scale']:+.0f} per +0.1 scale)"
        rows.append((f"growth {step['from']:g} → {step['to']:g} (MiB)", change))
    verdict = "not measured (scale 1.0 not run)" if met is None else ("met" if met else "NOT met")
    rows.append((f"budget ≤ {BUDGET_MIB:.0f} MiB at scale {BUDGET_SCALE:g}", verdict))
    write_report(json_path, report, rows, "embedded stack memory (RSS)")
