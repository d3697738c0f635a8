"""The mall dashboard H5 page and the script and stylesheet both dashboard pages share (the store
dashboard's page is served by api/rest.py)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from api.services import AppServices

STATIC = Path(__file__).parent / "static"
router = APIRouter()


@router.get("/dashboard/mall/{mall_id}", response_class=HTMLResponse, summary="A mall's live dashboard (H5)")
async def mall_dashboard_page(mall_id: str, request: Request) -> HTMLResponse:
    services: AppServices = request.app.state.services
    if mall_id not in (await services.places.directories.get()).malls:
        return HTMLResponse("<h1>未知商场</h1>", status_code=404)
    return HTMLResponse((STATIC / "mall_dashboard.html").read_text(encoding="utf-8"))


ASSETS = {"dashboard_live.js": "text/javascript", "dashboard.css": "text/css"}
"""What both dashboard pages share."""


@router.get("/dashboard/assets/{name}", include_in_schema=False)
async def dashboard_asset(name: str) -> Response:
    if name not in ASSETS:
        return Response("not found", status_code=404, media_type="text/plain")
    return FileResponse(STATIC / name, media_type=ASSETS[name])
