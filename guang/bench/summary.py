"""One Markdown table over every benchmark JSON in a folder: figures, budget, met or not, when, where.

A file counts when it holds the keys every benchmark writes: `benchmark`, `budget`, `met`, `machine`.
The headline is the file's own `headline` string when it has one, else a known extractor for the
benchmark, else the top-level figures named like the budget's keys.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

REQUIRED = ("benchmark", "budget", "met", "machine")


def _e2e(report: dict[str, Any]) -> str:
    return (
        f"p50 {report.get('p50_ms')} ms, p99 {report.get('p99_ms')} ms "
        f"({report.get('received')}/{report.get('events')} events)"
    )


def _stream(report: dict[str, Any]) -> str:
    latency = report.get("latency") or {}
    return (
        f"{report.get('dataflow_events_per_s', '?'):,} events/s/worker; "
        f"feature latency p99 {latency.get('p99_ms')} ms"
    )


HEADLINES: dict[str, Callable[[dict[str, Any]], str]] = {"e2e": _e2e, "stream": _stream}


def headline(report: dict[str, Any]) -> str:
    if isinstance(report.get("headline"), str):
        return str(report["headline"])
    kind = str(report["benchmark"]).split(":", 1)[0].strip()
    if kind in HEADLINES:
        try:
            return HEADLINES[kind](report)
        except (TypeError, ValueError):
            pass
    budget = report["budget"] if isinstance(report["budget"], dict) else {}
    figures = [f"{key} {report[key]}" for key in budget if key in report]
    return ", ".join(figures) or "—"


def _budget(budget: Any) -> str:
    if not isinstance(budget, dict):
        return str(budget)
    parts = []
    for key, value in budget.items():
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        parts.append(f"{key} {value:,}" if isinstance(value, int | float) else f"{key} {value}")
    return ", ".join(parts)


def _verdict(met: Any) -> str:
    if met is None:
        return "not measured"
    return "met" if met else "**NOT met**"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def load(folder: Path) -> tuple[list[tuple[Path, dict[str, Any]]], list[str]]:
    """The benchmark reports in the folder (sorted by file name) and notes about files skipped."""
    reports: list[tuple[Path, dict[str, Any]]] = []
    skipped: list[str] = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            report = json.loads(path.read_text())
        except (OSError, ValueError) as error:
            skipped.append(f"{path.name}: unreadable ({error.__class__.__name__})")
            continue
        if not isinstance(report, dict) or not all(key in report for key in REQUIRED):
            skipped.append(f"{path.name}: not a benchmark report")
            continue
        reports.append((path, report))
    return reports, skipped


def markdown(folder: Path) -> str:
    reports, skipped = load(folder)
    lines = [f"# Benchmark summary ({folder})", ""]
    if not reports:
        lines.append(f"No benchmark results in `{folder}` yet: run `make bench`.")
    else:
        lines += [
            "| benchmark | headline | budget | met | date | machine |",
            "|---|---|---|---|---|---|",
        ]
        for path, report in reports:
            machine = report["machine"] if isinstance(report["machine"], dict) else {}
            where = f"{machine.get('cores', '?')} cores, {machine.get('cpu') or '?'}"
            cells = [
                f"{report['benchmark']} (`{path.name}`)",
                headline(report),
                _budget(report["budget"]),
                _verdict(report["met"]),
                str(machine.get("date", "?")),
                where,
            ]
            lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    if skipped:
        lines += ["", "Skipped: " + "; ".join(skipped)]
    return "\n".join(lines) + "\n"


def main(*, folder: Path, markdown_path: Path | None) -> None:
    text = markdown(folder)
    print(text, end="")
    target = markdown_path or folder / "SUMMARY.md"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    print(f"written: {target}")
