"""Webhooks from payment providers: WeChat Pay API v3 payment notifications."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from api.bodies import TooLarge, read_capped
from api.services import AppServices
from guang.payments.service import NOT_CONFIGURED

log = logging.getLogger(__name__)
MAX_NOTIFICATION_BYTES = 64 * 1024

router = APIRouter()


def _fail(status: int, message: str) -> JSONResponse:
    """The documented failure answer; WeChat Pay retries after it."""
    return JSONResponse({"code": "FAIL", "message": message[:64]}, status_code=status)


@router.post(
    "/webhooks/wechatpay",
    status_code=204,
    summary="WeChat Pay API v3 payment notification: 204 when applied, 4xx/5xx {code: FAIL, message}",
)
async def wechatpay_notification(request: Request) -> Response:
    app: AppServices = request.app.state.services
    if app.payments.keys is None:
        return _fail(503, NOT_CONFIGURED)
    try:
        body = await read_capped(request, MAX_NOTIFICATION_BYTES)  # the raw, signed bytes: never re-encode
    except TooLarge as error:
        return _fail(413, str(error))
    except ValueError as error:
        return _fail(400, str(error))
    try:
        result = await app.payments.handle_notification(
            headers=dict(request.headers), body=body, coupons=app.coupons
        )
    except Exception:
        log.exception("wechatpay notification failed")
        return _fail(500, "temporarily unable to process; retry later")
    if result.ok:
        return Response(status_code=204)
    return _fail(result.status, result.reason)
