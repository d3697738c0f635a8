"""What every device-facing REST endpoint does alike: authenticate the device token, map domain errors."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse

from api.services import AppServices
from guang.domain.errors import Conflict, DomainError, Forbidden, Invalid, NotFound, Unauthenticated
from guang.domain.models import Device

STATUS: dict[type[DomainError], int] = {
    Invalid: 400, Unauthenticated: 401, Forbidden: 403, NotFound: 404, Conflict: 409,
}  # fmt: skip


def error_response(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": message, "code": code}, status_code=status)


def domain_error_response(error: DomainError) -> JSONResponse:
    return error_response(STATUS.get(type(error), 400), error.code, error.message)


def authenticated_device(
    request: Request, authorization: str | None, *, kinds: frozenset[str], who: str, action: str
) -> Device | JSONResponse:
    """The calling device if its token is valid and its kind is one of `kinds` (`who`, in words, e.g. "a POS
    till"), else the refusal to send."""
    app: AppServices = request.app.state.services
    device = app.devices.authenticate(authorization)
    if device is None:
        return error_response(
            401, "UNAUTHENTICATED", "a valid device token is required: Authorization: Bearer <token>"
        )
    if device.kind not in kinds:
        return error_response(403, "FORBIDDEN", f"only {who} can {action}; {device.id} is a {device.kind}")
    return device
