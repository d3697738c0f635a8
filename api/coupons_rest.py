"""POS tills redeem (核销) coupon claims over REST with their device token."""

from __future__ import annotations

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse

from api.device_requests import authenticated_device, domain_error_response
from api.services import AppServices
from guang.domain.errors import DomainError

router = APIRouter()


@router.post(
    "/pos/coupons/{claim_id}/redeem",
    summary="Redeem a coupon claim at the till's store, exactly once (409 when already redeemed)",
)
async def pos_redeem(
    claim_id: str, request: Request, authorization: str | None = Header(default=None)
) -> JSONResponse:
    app: AppServices = request.app.state.services
    device = authenticated_device(
        request, authorization, kinds=frozenset({"pos"}), who="a POS till", action="redeem coupons"
    )
    if isinstance(device, JSONResponse):
        return device
    try:
        redeemed = await app.coupons.redeem(
            claim_id=claim_id, store_id=device.store_id, by=f"device:{device.id}"
        )
    except DomainError as error:
        return domain_error_response(error)
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
