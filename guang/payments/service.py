"""Checkout, the shopper's orders, and WeChat Pay (API v3) payment notifications, applied exactly once.

The paid transition is a compare-and-set (`pending` -> `paid`); its effects (the `payment` event, the
coupon redemptions) are idempotent and re-applied from the stored order until they are marked done, so a
crash between the transition and the effects is healed by WeChat Pay's next retry.

Checkout reserves the order's coupon claims (see guang.coupons.service); the payment redeems them.

Without WeChat Pay credentials (no `wechatpay_mchid`) and outside demo mode (`settings.demo`), payments
are off: checkout refuses and the webhook answers 503 FAIL "WeChat Pay is not configured". Generated demo
keys and simulatePayment exist only in demo mode.

`payment_notifications` keeps every verified delivery in full. Deliveries refused before their signature
verified are anonymous writes, so they are only counted: one `payment_refusals` document per refusal kind
per minute, older than a day deleted. (SecantusDB does honour TTL indexes, checked, but a TTL bounds only
the age of records, not how many a flood of forged deliveries writes.)
"""

from __future__ import annotations

import logging
import secrets
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Protocol

from guang.adapters.ports import DocumentStore
from guang.content.models import SHARE_LINKS
from guang.coupons.service import CLAIMS
from guang.domain.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from guang.domain.events import PaymentEvent, PaymentItem
from guang.domain.models import OrderItem
from guang.payments import keys as wechatpay_keys
from guang.payments.keys import WeChatPayKeys
from guang.payments.models import NotificationRecord, Outcome, PayableOrder, PrepayParams, Transaction
from guang.payments.wechatpay import HEADER_SERIAL, NotificationRefused, NotificationVerifier
from guang.services.app_events import AppEvents, now_ms
from guang.services.catalog import Catalog
from guang.settings import Settings

log = logging.getLogger(__name__)

ORDERS, NOTIFICATIONS, REFUSALS = "orders", "payment_notifications", "payment_refusals"
"""Read-only here: written by the content and coupons domains."""
NEWEST = [("created_ms", -1), ("paid_ms", -1), ("_id", -1)]
MAX_LINES = 50
MAX_QTY = 99
MAX_CLAIMS = 10
CURRENCY = "CNY"
NOT_CONFIGURED = "WeChat Pay is not configured"
MINUTE_MS = 60_000
REFUSALS_KEPT_MS = 86_400_000
PLAUSIBLE_PAID_MS = 2 * 86_400_000
"""WeChat Pay retries for about a day: a success_time further off than this is not believed."""


class CouponLedger(Protocol):
    """What checkout and payment need from the coupons domain."""

    async def discount_for(
        self, *, claim_ids: Sequence[str], member_id: str, store_id: str, amount_fen: int, now_ms: int
    ) -> int: ...

    async def reserve_for_order(
        self, *, claim_ids: Sequence[str], member_id: str, order_id: str, now_ms: int
    ) -> None: ...

    async def release_order(self, *, claim_ids: Sequence[str], order_id: str) -> None: ...

    async def redeem_for_order(
        self, *, claim_ids: Sequence[str], member_id: str, store_id: str, order_id: str
    ) -> Any: ...


@dataclass(frozen=True)
class CheckoutLine:
    sku_id: str
    qty: int


@dataclass(frozen=True)
class CheckoutResult:
    order: PayableOrder
    prepay: PrepayParams


@dataclass(frozen=True)
class NotificationResult:
    """What the webhook answers: 204 when accepted (or already applied), else 4xx/5xx with the reason."""

    outcome: Outcome
    reason: str
    status: int
    order_id: str | None = None

    @property
    def ok(self) -> bool:
        return self.status < 300


def commission_fen(amount_fen: int, rate: float) -> int:
    """Rounded half up to the fen, in decimal (the dataflow's ledger rounds the same way)."""
    return int((Decimal(amount_fen) * Decimal(str(rate))).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def payment_event(order: PayableOrder) -> PaymentEvent:
    """The one `payment` event of a paid order; derived from the order alone, so a re-emit is identical."""
    return PaymentEvent(
        type="payment",
        event_id=f"wxpay-{order.id}",
        ts_ms=order.paid_ms,
        mall_id=order.mall_id or None,
        store_id=order.store_id,
        user_id=order.member_id,
        order_id=order.id,
        amount_fen=order.amount_fen,
        items=[PaymentItem(sku_id=i.sku_id, qty=i.qty, price_fen=i.price_fen) for i in order.items],
        channel="wechatpay",
        guide_id=order.guide_id,
        coupon_ids=order.coupon_ids,
    )


def mismatch(order: PayableOrder, tx: Transaction, *, mchid: str, app_id: str) -> str | None:
    """Why an authentic notification does not belong to this order, or None."""
    if tx.mchid != mchid or tx.mchid != order.mchid:
        return "mchid does not match the merchant"
    if tx.appid != app_id or tx.appid != order.app_id:
        return "appid does not match the order"
    if tx.amount.total != order.amount_fen:
        return f"amount.total {tx.amount.total} differs from the order's {order.amount_fen} fen"
    if tx.amount.currency != CURRENCY:
        return f"currency {tx.amount.currency[:8]!r} is not {CURRENCY}"
    if order.openid and tx.payer.openid != order.openid:
        return "payer.openid is not the order's member"
    return None


def paid_time_ms(tx: Transaction, fallback_ms: int) -> int:
    """`success_time` (RFC 3339) in epoch ms; our receive time when absent or implausible."""
    try:
        paid = int(datetime.fromisoformat(tx.success_time).timestamp() * 1000)
    except ValueError:
        return fallback_ms
    return paid if abs(paid - fallback_ms) <= PLAUSIBLE_PAID_MS else fallback_ms


def merge_lines(lines: Sequence[CheckoutLine]) -> dict[str, int]:
    if not lines:
        raise Invalid("an order needs at least one item")
    if len(lines) > MAX_LINES:
        raise Invalid(f"at most {MAX_LINES} lines per order")
    qty: dict[str, int] = {}
    for line in lines:
        if not 1 <= line.qty <= MAX_QTY:
            raise Invalid(f"qty of {line.sku_id[:40]} must be between 1 and {MAX_QTY} (got {line.qty})")
        qty[line.sku_id] = qty.get(line.sku_id, 0) + line.qty
    return qty


class Payments:
    def __init__(
        self, *, documents: DocumentStore, events: AppEvents, catalog: Catalog, settings: Settings,
        keys: WeChatPayKeys | None = None,
    ) -> None:  # fmt: skip
        self._documents = documents
        self._events = events
        self._catalog = catalog
        self._settings = settings
        self.keys: WeChatPayKeys | None = keys or wechatpay_keys.load(settings)
        """None when WeChat Pay is not configured and this is not a demo: payments are off."""
        self._verifier: NotificationVerifier | None = (
            self.keys.verifier(max_skew_s=settings.wechatpay_max_skew_s) if self.keys is not None else None
        )
        self._indexed = False

    def _keys(self) -> WeChatPayKeys:
        if self.keys is None:
            raise Conflict(
                f"payments are unavailable: {NOT_CONFIGURED} (set GUANG_WECHATPAY_MCHID and its keys, "
                "or run `guang demo`)"
            )
        return self.keys

    # Checkout and orders

    async def checkout(
        self,
        *,
        member_id: str,
        store_id: str,
        lines: Sequence[CheckoutLine],
        coupon_claim_ids: Sequence[str] = (),
        share_code: str | None = None,
        coupons: CouponLedger | None = None,
    ) -> CheckoutResult:
        """A pending order priced from the catalog, with its coupon discount and guide attribution; its
        coupon claims are reserved for it (a claim another pending order holds refuses the checkout)."""
        keys = self._keys()
        store = self._catalog.stores.get(store_id)
        if store is None:
            raise NotFound(f"no store {store_id}")
        items = await self._priced_items(store_id, merge_lines(lines))
        subtotal = sum(i.qty * i.price_fen for i in items)
        created = now_ms()
        discount, coupon_ids = await self._discount(
            coupons, claim_ids=coupon_claim_ids, member_id=member_id, store_id=store_id,
            amount_fen=subtotal, now=created,
        )  # fmt: skip
        guide_id = await self._guide_for(share_code, brand_id=store.brand_id)
        member = await self._documents.find_one("members", {"_id": member_id})
        order_id = f"o{created}{secrets.token_hex(6)}"
        order = PayableOrder(
            id=order_id,
            member_id=member_id,
            store_id=store_id,
            items=items,
            amount_fen=subtotal - discount,
            paid_ms=0,
            guide_id=guide_id,
            status="pending",
            out_trade_no=order_id,
            mall_id=store.mall_id,
            brand_id=store.brand_id,
            subtotal_fen=subtotal,
            discount_fen=discount,
            coupon_claim_ids=list(coupon_claim_ids),
            coupon_ids=coupon_ids,
            commission_rate=await self._commission_rate(store.brand_id) if guide_id else 0.0,
            openid=str(member["openid"]) if member else "",
            app_id=keys.app_id,
            mchid=keys.mchid,
            prepay_id=f"wx{created}{secrets.token_hex(8)}",
            created_ms=created,
        )
        if coupon_claim_ids and coupons is not None:
            await coupons.reserve_for_order(
                claim_ids=coupon_claim_ids, member_id=member_id, order_id=order_id, now_ms=created
            )
        try:
            await self._documents.insert_one(ORDERS, {"_id": order.id, **order.model_dump(mode="json")})
        except BaseException:
            if coupon_claim_ids and coupons is not None:
                await coupons.release_order(claim_ids=coupon_claim_ids, order_id=order_id)
            raise
        return CheckoutResult(order=order, prepay=self.prepay(order))

    def prepay(self, order: PayableOrder) -> PrepayParams:
        return self._keys().prepay(prepay_id=order.prepay_id, now_s=int(time.time()))

    async def order(self, *, order_id: str, member_id: str) -> PayableOrder:
        """One of the caller's own orders."""
        doc = await self._documents.find_one(ORDERS, {"_id": order_id})
        if doc is None:
            raise NotFound(f"no order {order_id}")
        order = PayableOrder.model_validate(doc)
        if order.member_id != member_id:
            raise Forbidden("this order belongs to another shopper")
        return order

    async def my_orders(self, *, member_id: str, skip: int, limit: int) -> list[PayableOrder]:
        docs = await self._documents.find(
            ORDERS, {"member_id": member_id}, sort=NEWEST, skip=skip, limit=limit
        )
        return [PayableOrder.model_validate(d) for d in docs]

    async def _priced_items(self, store_id: str, qty: Mapping[str, int]) -> list[OrderItem]:
        unknown = [sku for sku in qty if sku not in self._catalog.products]
        if unknown:
            raise NotFound(f"no product {', '.join(s[:40] for s in unknown[:5])}")
        docs = await self._documents.find(
            "products", {"_id": {"$in": list(qty)}}, projection={"id": 1, "stock": 1}
        )
        stock = {d["id"]: {s["store_id"]: int(s["qty"]) for s in d.get("stock", [])} for d in docs}
        items = []
        for sku, wanted in qty.items():
            levels = stock.get(sku, {})
            if store_id not in levels:
                raise Invalid(f"{sku} is not sold at store {store_id}")
            if levels[store_id] < wanted:
                raise Conflict(f"only {levels[store_id]} of {sku} left at this store (asked for {wanted})")
            items.append(OrderItem(sku_id=sku, qty=wanted, price_fen=self._catalog.products[sku].price_fen))
        return items

    async def _discount(
        self,
        coupons: CouponLedger | None,
        *,
        claim_ids: Sequence[str],
        member_id: str,
        store_id: str,
        amount_fen: int,
        now: int,
    ) -> tuple[int, list[str]]:
        if not claim_ids:
            return 0, []
        if len(claim_ids) > MAX_CLAIMS:
            raise Invalid(f"at most {MAX_CLAIMS} coupons per order")
        if coupons is None:
            raise Invalid("coupons cannot be used here")
        discount = await coupons.discount_for(
            claim_ids=claim_ids, member_id=member_id, store_id=store_id, amount_fen=amount_fen, now_ms=now
        )
        claims = await self._documents.find(CLAIMS, {"_id": {"$in": list(claim_ids)}})
        coupon_ids = sorted({str(c["coupon_id"]) for c in claims})
        # WeChat Pay cannot take an order of 0 fen: the coupon may cover all but one fen.
        return max(0, min(discount, amount_fen - 1)), coupon_ids

    async def _guide_for(self, share_code: str | None, *, brand_id: str) -> str | None:
        """The staff member a share link attributes to, if they work for this store's brand."""
        if not share_code:
            return None
        link = await self._documents.find_one(SHARE_LINKS, {"_id": share_code[:128]})
        staff_id = link.get("staff_id") if link else None
        if not staff_id:
            return None
        staff = await self._documents.find_one("staff", {"_id": staff_id})
        home = self._catalog.stores.get(staff["store_id"]) if staff else None
        return str(staff_id) if home is not None and home.brand_id == brand_id else None

    async def _commission_rate(self, brand_id: str) -> float:
        brand = await self._documents.find_one("brands", {"_id": brand_id})
        return float(brand.get("guide_commission_rate", 0.0)) if brand else 0.0

    # WeChat Pay notifications

    async def handle_notification(
        self, *, headers: Mapping[str, str], body: bytes, coupons: CouponLedger | None = None
    ) -> NotificationResult:
        """Verify, decrypt and apply one delivery; verified ones are recorded in `payment_notifications`,
        unverified ones only counted (`payment_refusals`)."""
        received = now_ms()
        if self._verifier is None or self.keys is None:
            log.error("wechatpay notification received but %s", NOT_CONFIGURED)
            return NotificationResult(outcome="refused", reason=NOT_CONFIGURED, status=503)
        serial = {k.lower(): v for k, v in headers.items()}.get(HEADER_SERIAL.lower())
        record: dict[str, Any] = {"received_ms": received, "serial": serial[:64] if serial else None}
        try:
            opened = self._verifier.open(headers=headers, body=body, now_s=received / 1000)
        except NotificationRefused as refused:
            await self._count_refusal(refused.kind, refused.reason, received)
            log.warning("wechatpay notification refused: %s", refused.reason)
            return NotificationResult(outcome="refused", reason=refused.reason, status=refused.status)
        tx = opened.transaction
        record |= {
            "notification_id": opened.notification.id[:64],
            "order_id": tx.out_trade_no[:64],
            "transaction_id": tx.transaction_id[:64],
        }
        doc = await self._documents.find_one(ORDERS, {"_id": tx.out_trade_no})
        if doc is None:
            return await self._record(record, "refused", f"unknown out_trade_no {tx.out_trade_no[:64]}", 404)
        order = PayableOrder.model_validate(doc)
        problem = mismatch(order, tx, mchid=self.keys.mchid, app_id=self.keys.app_id)
        if problem is not None:
            return await self._record(record, "refused", problem, 400)
        if tx.trade_state != "SUCCESS":
            return await self._record(record, "ignored", f"trade_state {tx.trade_state[:32]}", 204)
        paid = await self._documents.update_one(
            ORDERS,
            {"_id": order.id, "status": "pending"},
            {
                "$set": {
                    "status": "paid",
                    "paid_ms": paid_time_ms(tx, received),
                    "transaction_id": tx.transaction_id,
                    "commission_fen": commission_fen(order.amount_fen, order.commission_rate)
                    if order.guide_id
                    else 0,
                }
            },
        )
        current = PayableOrder.model_validate(await self._documents.find_one(ORDERS, {"_id": order.id}))
        if current.transaction_id != tx.transaction_id:
            reason = f"order already paid by transaction {current.transaction_id}: refund this one"
            log.error("double payment of order %s: %s", order.id, tx.transaction_id)
            return await self._record(record, "duplicate", reason, 204)
        note = await self._apply_effects(current, coupons) if current.effects_ms is None else ""
        if paid:
            return await self._record(record, "accepted", f"order paid{note}", 204)
        return await self._record(record, "duplicate", f"order was already paid{note}", 204)

    async def _apply_effects(self, order: PayableOrder, coupons: CouponLedger | None) -> str:
        """Publish the payment event and redeem the order's coupons (both idempotent per order); a note
        when a coupon could not be redeemed (the money is taken either way: the order stays paid)."""
        await self._events.emit(payment_event(order), dedupe_id=f"payment:{order.id}")
        note = ""
        if order.coupon_claim_ids and coupons is not None:
            try:
                await coupons.redeem_for_order(
                    claim_ids=order.coupon_claim_ids,
                    member_id=order.member_id,
                    store_id=order.store_id,
                    order_id=order.id,
                )
            except DomainError as refused:
                log.error("order %s paid but its coupons were not redeemed: %s", order.id, refused.message)
                note = f"; coupons not redeemed: {refused.message}"
        await self._documents.update_one(
            ORDERS, {"_id": order.id, "effects_ms": None}, {"$set": {"effects_ms": now_ms()}}
        )
        return note

    async def _record(
        self, record: dict[str, Any], outcome: Outcome, reason: str, status: int
    ) -> NotificationResult:
        if not self._indexed:
            await self._documents.create_index(NOTIFICATIONS, [("order_id", 1), ("received_ms", 1)])
            self._indexed = True
        entry = NotificationRecord(id=uuid.uuid4().hex, outcome=outcome, reason=reason, **record)
        await self._documents.insert_one(NOTIFICATIONS, {"_id": entry.id, **entry.model_dump(mode="json")})
        if outcome == "refused":
            log.warning("wechatpay notification refused: %s", reason)
        return NotificationResult(outcome=outcome, reason=reason, status=status, order_id=entry.order_id)

    async def _count_refusal(self, kind: str, reason: str, received_ms: int) -> None:
        """A bounded record of an unverified delivery: a count per refusal kind per minute."""
        minute = received_ms // MINUTE_MS * MINUTE_MS
        key = f"{kind}:{minute}"
        fresh = await self._documents.insert_one(
            REFUSALS, {"_id": key, "kind": kind, "minute_ms": minute, "count": 0, "last_reason": ""}
        )
        await self._documents.update_one(
            REFUSALS, {"_id": key}, {"$inc": {"count": 1}, "$set": {"last_reason": reason[:200]}}
        )
        if fresh:  # once per kind and minute: forget counts older than a day
            await self._documents.delete_many(REFUSALS, {"minute_ms": {"$lt": minute - REFUSALS_KEPT_MS}})

    async def refusal_counts(self, *, since_ms: int = 0) -> dict[str, int]:
        """Unverified deliveries refused since `since_ms` (to the minute), by refusal kind."""
        counts: dict[str, int] = {}
        for doc in await self._documents.find(
            REFUSALS, {"minute_ms": {"$gte": since_ms // MINUTE_MS * MINUTE_MS}}
        ):
            counts[doc["kind"]] = counts.get(doc["kind"], 0) + int(doc.get("count", 0))
        return counts

    async def notifications(self, *, order_id: str) -> list[NotificationRecord]:
        docs = await self._documents.find(NOTIFICATIONS, {"order_id": order_id}, sort=[("received_ms", 1)])
        return [NotificationRecord.model_validate(d) for d in docs]

    # Demo

    async def simulate_payment(
        self, *, order_id: str, member_id: str, coupons: CouponLedger | None = None
    ) -> PayableOrder:
        """Demo mode only: WeChat Pay's notification for this order, signed with the demo platform key."""
        simulator = self.keys.simulator() if self._settings.demo and self.keys is not None else None
        if simulator is None:
            raise Forbidden("payments are simulated only in demo mode (`guang demo`)")
        order = await self.order(order_id=order_id, member_id=member_id)
        tx = simulator.transaction(out_trade_no=order.id, total_fen=order.amount_fen, openid=order.openid)
        headers, body = simulator.notification(tx)
        result = await self.handle_notification(headers=headers, body=body, coupons=coupons)
        if not result.ok:
            raise Conflict(f"the payment was refused: {result.reason}")
        return await self.order(order_id=order_id, member_id=member_id)
