"""POS tills redeem (核销) coupon claims over REST with their device token."""

from __future__ import annotations

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse

from api.services import AppServices
from guang.domain.errors import Conflict, DomainError, Forbidden, Invalid, NotFound, Unauthenticated

router = APIRouter()

_STATUS: dict[type[DomainError], int] = {
    Invalid: 400, Unauthenticated: 401, Forbidden: 403, NotFound: 404, Conflict: 409,
}  # fmt: skip


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": message, "code": code}, status_code=status)


@router.post(
    "/pos/coupons/{claim_id}/redeem",
    summary="Redeem a coupon claim at the till's store, exactly once (409 when already redeemed)",
)
async def pos_redeem(
    claim_id: str, request: Request, authorization: str | None = Header(default=None)
) -> JSONResponse:
    app: AppServices = request.app.state.services
    device = app.devices.authenticate(authorization)
    if device is None:
        return _error(
            401, "UNAUTHENTICATED", "a valid device token is required: Authorization: Bearer <token>"
        )
    if device.kind != "pos":
        return _error(403, "FORBIDDEN", f"only a POS till can redeem coupons; {device.id} is a {device.kind}")
    try:
        redeemed = await app.coupons.redeem(
            claim_id=claim_id, store_id=device.store_id, by=f"device:{device.id}"
        )
    except DomainError as error:
        return _error(_STATUS.get(type(error), 400), error.code, error.message)
    claim = redeemed.claim
    return JSONResponse(
        {
            "claim_id": claim.id,
            "status": redeemed.status,
            "coupon_id": claim.coupon_id,
            "title": redeemed.offer.coupon.title,
            "discount_fen": redeemed.offer.coupon.discount_fen,
            "min_spend_fen": redeemed.offer.coupon.min_spend_fen,
            "member_id": claim.member_id,
            "redeemed_ms": claim.redeemed_ms,
            "redeemed_store_id": claim.redeemed_store_id,
        }
    )
