"""What in-store edge boxes ask the server besides `POST /events`: their set-up, gallery sync, enrolment."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Request
from fastapi.responses import JSONResponse

from api.device_requests import authenticated_device, domain_error_response, error_response
from api.services import AppServices
from guang.domain.errors import DomainError
from guang.services.app_events import now_ms

router = APIRouter(prefix="/edge", tags=["edge"])
CAMERA = frozenset({"camera"})
WHO = "an in-store camera box"
ENROLMENTS_PER_MIN = 20


@router.get("/setup", summary="The camera's store, mall and the store's shelf zones (with their SKUs)")
async def setup(request: Request, authorization: str | None = Header(default=None)) -> JSONResponse:
    device = authenticated_device(request, authorization, kinds=CAMERA, who=WHO, action="ask for its set-up")
    if isinstance(device, JSONResponse):
        return device
    app: AppServices = request.app.state.services
    zones = await app.container.documents.find("zones", {"store_id": device.store_id}, sort=[("id", 1)])
    return JSONResponse(
        {
            "device_id": device.id,
            "store_id": device.store_id,
            "mall_id": device.mall_id,
            "zones": [
                {
                    "zone_id": z["id"],
                    "name": z["name"],
                    "category": z["category"],
                    "kind": z.get("kind", "shelf"),
                    "sku_ids": z["sku_ids"],
                }
                for z in zones
            ],
            "server_ms": now_ms(),
        }
    )


@router.post(
    "/sync",
    summary="Report the gallery (member ids and version, never embeddings); answer which members to delete",
)
async def sync(
    request: Request,
    members: Annotated[list[str], Body(max_length=10_000)],
    version: Annotated[int, Body(ge=0)],
    authorization: str | None = Header(default=None),
) -> JSONResponse:
    device = authenticated_device(request, authorization, kinds=CAMERA, who=WHO, action="sync a face gallery")
    if isinstance(device, JSONResponse):
        return device
    app: AppServices = request.app.state.services
    try:
        remove = await app.face_enrolments.sync(device=device, members=members, version=version)
    except DomainError as error:
        return domain_error_response(error)
    return JSONResponse({"remove": remove, "server_ms": now_ms()})


@router.post("/enrolments", summary="Redeem a shopper's one-time enrolment code at the kiosk")
async def enrol(
    request: Request,
    code: Annotated[str, Body(embed=True, max_length=32)],
    authorization: str | None = Header(default=None),
) -> JSONResponse:
    device = authenticated_device(request, authorization, kinds=CAMERA, who=WHO, action="enrol faces")
    if isinstance(device, JSONResponse):
        return device
    app: AppServices = request.app.state.services
    if await app.container.limiter.hit(f"enrol:device:{device.id}", limit=ENROLMENTS_PER_MIN, window_s=60):
        return error_response(429, "RATE_LIMITED", "too many enrolment attempts from this device; wait")
    try:
        member_id = await app.face_enrolments.redeem(code=code, device=device)
    except DomainError as error:
        return domain_error_response(error)
    body: dict[str, Any] = {"member_id": member_id, "device_id": device.id}
    return JSONResponse(body)
