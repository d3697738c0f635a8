"""GraphQL over HTTP at a fixed offered load: p50/p99 and achieved requests/s per query.

Runs `guang demo` (embedded engines, kept data dir) and drives it open-loop from this process: request
*i* is due at `start + i / rate` whatever happened before, and its latency counts from that due time, so
a server that falls behind shows it (no coordinated omission). The client writes raw HTTP/1.1 on
keep-alive sockets, so it costs far less CPU than the server it measures on the same 2 cores.
Floors in the same run, at the same rate: GET /healthz and a trivial GraphQL query (`{ __typename }`).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from guang.bench.report import machine_facts, percentiles_ms, write_report
from guang.bench.stack import DemoStack

BUDGET_P99_MS = 25.0
BUDGET_RPS = 1000.0
CONNECTIONS = 48
TIMEOUT_S = 5.0


@dataclass(frozen=True)
class Probe:
    """One named request, as raw HTTP/1.1 bytes ready to write."""

    name: str
    requests: Sequence[bytes]


@dataclass
class Outcome:
    latencies_s: list[float]
    errors: int
    sent: int
    elapsed_s: float
    example_error: str = ""


def _http(
    method: str, path: str, host: str, body: bytes = b"", headers: dict[str, str] | None = None
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", "Connection: keep-alive"]
    if body:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def graphql_request(
    host: str, query: str, variables: dict[str, Any] | None = None, token: str | None = None
) -> bytes:
    body = json.dumps({"query": query, "variables": variables or {}}, ensure_ascii=False).encode()
    headers = {"Authorization": f"Bearer {token}"} if token else None
    return _http("POST", "/graphql", host, body, headers)


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def roundtrip(self, request: bytes) -> tuple[int, bytes]:
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        return status, await self.reader.readexactly(length)


async def _run(host: str, port: int, requests: Sequence[bytes], rate: float, seconds: float) -> Outcome:
    pool: asyncio.Queue[_Connection] = asyncio.Queue()
    for _ in range(CONNECTIONS):
        pool.put_nowait(_Connection(*await asyncio.open_connection(host, port)))
    total = int(rate * seconds)
    latencies: list[float] = []
    errors = 0
    example = ""

    async def one(i: int, due: float) -> None:
        nonlocal errors, example
        conn = await pool.get()
        if time.perf_counter() - due > TIMEOUT_S:
            errors += 1
            example = example or f"not sent: {TIMEOUT_S:.0f} s overdue (the server is saturated)"
            pool.put_nowait(conn)
            return
        try:
            status, body = await asyncio.wait_for(conn.roundtrip(requests[i % len(requests)]), TIMEOUT_S)
            if status != 200 or b'"errors"' in body:
                errors += 1
                example = example or f"{status} {body[:200]!r}"
            else:
                latencies.append(time.perf_counter() - due)
            pool.put_nowait(conn)
        except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError) as error:
            errors += 1
            example = example or repr(error)
            conn.writer.close()
            pool.put_nowait(_Connection(*await asyncio.open_connection(host, port)))

    tasks = []
    start = time.perf_counter() + 0.05
    for i in range(total):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i, due)))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    while not pool.empty():
        pool.get_nowait().writer.close()
    return Outcome(latencies, errors, total, elapsed, example)


def _probes(base_url: str, credentials: dict[str, Any], token: str) -> list[Probe]:
    host = urlsplit(base_url).netloc
    stores = [s["store_id"] for s in credentials["stores"]]
    recs = "query R($s: String!) { recommendations(surface: SCREEN, storeId: $s, limit: 8) { recId items { score reason product { id name priceFen } } } }"  # noqa: E501
    feed = (
        "query F { articles(first: 10) { edges { node { id title likeCount } } pageInfo { hasNextPage } } }"
    )
    nearby = "query N($lat: Float!, $lng: Float!) { nearbyStores(lat: $lat, lng: $lng, radiusM: 3000, first: 10) { edges { node { id name distanceM } } } }"  # noqa: E501
    spots = credentials.get("mall_positions") or [{"lat": 31.2304, "lng": 121.4737}]
    return [
        Probe("floor: GET /healthz", [_http("GET", "/healthz", host)]),
        Probe("floor: GraphQL { __typename }", [graphql_request(host, "{ __typename }")]),
        Probe("recommendations (SCREEN)", [graphql_request(host, recs, {"s": s}) for s in stores]),
        Probe("feed (articles)", [graphql_request(host, feed, token=token)]),
        Probe("nearbyStores", [graphql_request(host, nearby, spot) for spot in spots]),
    ]


def _check(base_url: str, probe: Probe) -> str | None:
    """The first response of a probe, to fail fast with the server's own error message."""
    head, _, body = probe.requests[0].partition(b"\r\n\r\n")
    if head.startswith(b"GET"):
        return None
    reply = httpx.post(f"{base_url}/graphql", content=body, headers=_headers(head), timeout=30)
    return None if reply.status_code == 200 and "errors" not in reply.json() else reply.text[:300]


def _lists_served(base_url: str) -> dict[str, float]:
    """How many store-wide lists the server has computed and reused so far (from /metrics)."""
    served = {"computed": 0.0, "reused": 0.0}
    for line in httpx.get(f"{base_url}/metrics", timeout=10).text.splitlines():
        for result in served:
            if line.startswith(f'guang_store_lists_served{{result="{result}"}}'):
                served[result] = float(line.rsplit(" ", 1)[1])
    return served


def _headers(head: bytes) -> dict[str, str]:
    pairs = (line.split(b": ", 1) for line in head.split(b"\r\n")[1:])
    return {k.decode(): v.decode() for k, v in pairs if k.lower() in (b"content-type", b"authorization")}


def main(*, json_path: Path, rate: float, seconds: float, scale: float) -> None:
    data_dir = (json_path.parent / "api-stack" / "data").resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    stack = DemoStack.start(data_dir, scale=scale, log=data_dir.parent / "stack.log")
    results: dict[str, Any] = {}
    try:
        stack.wait_ready()
        credentials = stack.credentials
        login = httpx.post(
            f"{stack.base_url}/graphql",
            json={"query": 'mutation($c: String!) { login(code: $c) { token } }',
                  "variables": {"c": credentials["shoppers"][0]["login_code"]}},
            timeout=30,
        ).json()  # fmt: skip
        token = login["data"]["login"]["token"]
        port = int(urlsplit(stack.base_url).port or 80)
        for probe in _probes(stack.base_url, credentials, token):
            problem = _check(stack.base_url, probe)
            if problem is not None:
                results[probe.name] = {"skipped": problem}
                continue
            asyncio.run(_run("127.0.0.1", port, probe.requests, rate=min(rate, 200), seconds=2))  # warm-up
            before = _lists_served(stack.base_url)
            outcome = asyncio.run(_run("127.0.0.1", port, probe.requests, rate=rate, seconds=seconds))
            after = _lists_served(stack.base_url)
            computed, reused = (after[k] - before[k] for k in ("computed", "reused"))
            results[probe.name] = {
                "offered_rps": rate,
                "achieved_rps": round(len(outcome.latencies_s) / outcome.elapsed_s, 1),
                "sent": outcome.sent,
                "errors": outcome.errors,
                "example_error": outcome.example_error,
                **(
                    {"store_lists_computed": computed, "store_lists_reused": reused}
                    if computed + reused
                    else {}
                ),
                **percentiles_ms(outcome.latencies_s),
            }
    finally:
        stack.interrupt()
    _report(json_path, results, rate=rate, seconds=seconds, scale=scale)


def _report(json_path: Path, results: dict[str, Any], *, rate: float, seconds: float, scale: float) -> None:
    recs = results.get("recommendations (SCREEN)", {})
    floor = results.get("floor: GraphQL { __typename }", {})
    met = (
        "p99_ms" in recs
        and recs["p99_ms"] <= BUDGET_P99_MS
        and recs["achieved_rps"] >= BUDGET_RPS * 0.99
        and recs["errors"] == 0
        and rate >= BUDGET_RPS
    )
    headline = "; ".join(
        f"{name}: {r['achieved_rps']:.0f} rps, p99 {r['p99_ms']} ms"
        for name, r in results.items()
        if "p99_ms" in r and not name.startswith("floor")
    )
    report = {
        "benchmark": "api: GraphQL over HTTP at a fixed offered load",
        "headline": headline,
        "budget": {"recommendations_p99_ms": BUDGET_P99_MS, "at_rps": BUDGET_RPS},
        "offered_rps": rate,
        "seconds": seconds,
        "scale": scale,
        "queries": results,
        "recommendations_p99_over_graphql_floor_p99": (
            round(recs["p99_ms"] / floor["p99_ms"], 2) if recs.get("p99_ms") and floor.get("p99_ms") else None
        ),
        "met": met,
        "machine": machine_facts(),
    }
    rows = []
    for name, r in results.items():
        if "skipped" in r:
            rows.append((name, f"skipped: {r['skipped'][:60]}"))
            continue
        rows.append(
            (
                name,
                f"{r['achieved_rps']:.0f} rps, p50 {r['p50_ms']} / p99 {r['p99_ms']} ms, "
                f"{r['errors']} errors",
            )
        )
    rows.append((f"budget: recommendations p99 ≤ {BUDGET_P99_MS:.0f} ms at ≥ {BUDGET_RPS:.0f} rps",
                 "met" if met else "NOT met"))  # fmt: skip
    write_report(json_path, report, rows, f"GraphQL over HTTP, offered {rate:.0f} requests/s")
