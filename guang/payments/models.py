"""Payable orders, and the WeChat Pay API v3 notification and transaction as documented."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from guang.domain.models import Domain, Order

OrderStatus = Literal["pending", "paid"]
Outcome = Literal["accepted", "duplicate", "ignored", "refused"]


class PayableOrder(Order):
    """An order placed through checkout. Seeded and POS history has none of the extra fields: it is paid."""

    status: OrderStatus = "paid"
    out_trade_no: str = ""
    mall_id: str = ""
    brand_id: str = ""
    subtotal_fen: int = 0
    discount_fen: int = 0
    coupon_claim_ids: list[str] = Field(default_factory=list)
    coupon_ids: list[str] = Field(default_factory=list)
    commission_rate: float = 0.0
    commission_fen: int = 0
    openid: str = ""
    app_id: str = ""
    mchid: str = ""
    prepay_id: str = ""
    transaction_id: str | None = None
    created_ms: int = 0
    effects_ms: int | None = None
    """When the payment event was published and the coupons redeemed (None: still to do)."""


class EncryptedResource(Domain):
    original_type: str
    algorithm: str
    ciphertext: str
    associated_data: str = ""
    nonce: str


class Notification(Domain):
    """The body WeChat Pay POSTs to the notify URL."""

    id: str
    create_time: str
    event_type: str
    resource_type: str
    resource: EncryptedResource
    summary: str = ""


class Payer(Domain):
    openid: str


class Amount(Domain):
    total: int
    payer_total: int | None = None
    currency: str = "CNY"
    payer_currency: str | None = None


class Transaction(Domain):
    """The decrypted `resource` of a TRANSACTION.SUCCESS notification."""

    mchid: str
    appid: str
    out_trade_no: str
    transaction_id: str
    trade_type: str = ""
    trade_state: str
    trade_state_desc: str = ""
    bank_type: str = ""
    attach: str = ""
    success_time: str = ""
    payer: Payer
    amount: Amount


class NotificationRecord(Domain):
    """One delivery and what we did with it (collection `payment_notifications`)."""

    id: str
    outcome: Outcome
    reason: str
    received_ms: int
    notification_id: str | None = None
    order_id: str | None = None
    transaction_id: str | None = None
    serial: str | None = None


class PrepayParams(Domain):
    """What the mini-program passes to `wx.requestPayment` (JSAPI), signed with the merchant key."""

    app_id: str
    time_stamp: str
    nonce_str: str
    package: str
    sign_type: str = "RSA"
    pay_sign: str
    demo: bool
