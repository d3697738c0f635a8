"""REST endpoints: device events, health and readiness, metrics, H5 pages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api import metrics
from api.bodies import TooLarge, read_capped
from api.services import AppServices
from guang.services.ingest import BatchRejected, ingest_batch

STATIC = Path(__file__).parent / "static"
MAX_BODY_BYTES = 2 * 1024 * 1024

router = APIRouter()


def app_services(request: Request) -> AppServices:
    services: AppServices = request.app.state.services
    return services


def _refuse(status: int, reason: str, metric: str) -> JSONResponse:
    metrics.event_batches_refused.labels(metric).inc()
    return JSONResponse({"error": reason}, status_code=status)


def _too_many(wait_s: float, who: str) -> JSONResponse:
    metrics.event_batches_refused.labels("rate").inc()
    retry = max(1, round(wait_s))
    return JSONResponse(
        {"error": f"too many batches from {who}; retry in {retry} s (nothing in this batch was accepted)"},
        status_code=429,
        headers={"Retry-After": str(retry)},
    )


@router.post("/events", status_code=202, summary="Device events (DESIGN §4), up to 1,000 per batch")
async def post_events(request: Request, authorization: str | None = Header(default=None)) -> JSONResponse:
    app = app_services(request)
    ip = request.client.host if request.client is not None else "unknown"
    per_min = app.container.settings.events_rate_per_min
    if (
        wait := await app.container.limiter.hit(f"events:ip:{ip}", limit=per_min * 10, window_s=60)
    ) is not None:
        return _too_many(wait, "this address")
    device = app.devices.authenticate(authorization)
    if device is None:
        return _refuse(401, "a valid device token is required: Authorization: Bearer <token>", "auth")
    if (
        wait := await app.container.limiter.hit(f"events:device:{device.id}", limit=per_min, window_s=60)
    ) is not None:
        return _too_many(wait, f"device {device.id}")
    try:
        raw = await read_capped(request, MAX_BODY_BYTES)
    except TooLarge as error:
        return _refuse(413, str(error), "size")
    except ValueError as error:
        return _refuse(400, str(error), "size")
    try:
        body: Any = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        return _refuse(400, f"malformed JSON: {error}", "json")
    try:
        results = await ingest_batch(
            body,
            device=device,
            bus=app.container.bus,
            max_events=app.container.settings.max_batch_events,
            face_consented=app.container.features.face_consented,
        )
    except BatchRejected as error:
        return _refuse(400 if "array" in str(error) else 413, str(error), "shape")
    accepted = {r.event_id for r in results if r.status == "accepted"}
    await app.face_enrolments.audit(
        [e for e in body if isinstance(e, dict) and e.get("event_id") in accepted], device=device
    )
    counts: dict[str, int] = {"accepted": 0, "duplicate": 0, "rejected": 0}
    for result in results:
        counts[result.status] += 1
        metrics.events_received.labels(result.status).inc()
    return JSONResponse(
        {
            **counts,
            "results": [
                {k: v for k, v in r.__dict__.items() if v is not None or k == "event_id"} for r in results
            ],
        },
        status_code=202,
    )


@router.get("/healthz", summary="The process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="Every backing store answers")
async def readyz(request: Request) -> JSONResponse:
    container = app_services(request).container
    checks = {
        "features": await container.features.ping(),
        "bus": await container.bus.ping(),
        "dataflow": await container.bus.dataflow_alive(),
        "documents": await container.documents.ping(),
        "vectors": container.vectors.count() > 0,
    }
    ready = all(checks.values())
    health = app_services(request).recommender.health
    serving = {
        "recommendations": "degraded" if health.degraded else "full",
        "degraded_since_ms": health.degraded_since_ms,
        "reason": health.reason or None,
    }
    return JSONResponse(
        {"ready": ready, "checks": checks, "serving": serving}, status_code=200 if ready else 503
    )


@router.get("/metrics", summary="Prometheus metrics")
async def prometheus_metrics(request: Request) -> Response:
    app = app_services(request)
    behind, seconds = await app.container.bus.lag()
    metrics.dataflow_lag_events.set(behind)
    metrics.dataflow_lag_seconds.set(seconds)
    metrics.store_lists_served.labels("reused").set(app.store_lists.reused)
    metrics.store_lists_served.labels("computed").set(app.store_lists.computed)
    metrics.recommendations_degraded.set(1 if app.recommender.health.degraded else 0)
    metrics.degraded_lists_served.set(app.recommender.health.degraded_lists)
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)


@router.get("/screen/{device_id}", response_class=HTMLResponse, summary="The smart-screen H5 page")
async def screen_page(device_id: str, request: Request) -> HTMLResponse:
    if app_services(request).devices.get(device_id) is None:
        return HTMLResponse("<h1>未知设备</h1>", status_code=404)
    return HTMLResponse((STATIC / "screen.html").read_text(encoding="utf-8"))


@router.get("/dashboard/{store_id}", response_class=HTMLResponse, summary="A store's live dashboard (H5)")
async def dashboard_page(store_id: str, request: Request) -> HTMLResponse:
    if store_id not in app_services(request).catalog.stores:
        return HTMLResponse("<h1>未知门店</h1>", status_code=404)
    return HTMLResponse((STATIC / "dashboard.html").read_text(encoding="utf-8"))
