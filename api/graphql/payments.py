"""Checkout and the shopper's own orders; payment itself arrives at /webhooks/wechatpay."""

from __future__ import annotations

from enum import Enum
from typing import Any

import strawberry
from strawberry.types import Info

from api.graphql.context import require_member, services
from api.graphql.pagination import Connection, paginate
from guang.payments.models import PayableOrder
from guang.payments.models import PrepayParams as PrepayModel
from guang.payments.service import CheckoutLine


@strawberry.enum(description="pending until WeChat Pay's notification marks it paid")
class OrderStatus(Enum):
    PENDING = "pending"
    PAID = "paid"


@strawberry.input
class CheckoutItem:
    sku_id: str
    qty: int


@strawberry.type
class OrderLine:
    sku_id: str
    name: str
    qty: int
    price_fen: int


@strawberry.type
class Order:
    id: str
    status: OrderStatus
    store_id: str
    store_name: str
    mall_id: str | None
    items: list[OrderLine]
    subtotal_fen: int
    discount_fen: int
    amount_fen: int = strawberry.field(description="What is paid: subtotal minus coupon discounts")
    coupon_ids: list[str]
    guide_id: str | None = strawberry.field(description="The staff member the sale is attributed to")
    created_ms: float | None
    paid_ms: float | None
    transaction_id: str | None


@strawberry.type(description="Arguments for wx.requestPayment (JSAPI); `demo` when WeChat Pay is simulated")
class PrepayParams:
    app_id: str
    time_stamp: str
    nonce_str: str
    package: str
    sign_type: str
    pay_sign: str
    demo: bool


@strawberry.type
class CheckoutResult:
    order_id: str
    amount_fen: int
    order: Order
    prepay: PrepayParams


def order_of(o: PayableOrder, info: Info[Any, Any]) -> Order:
    catalog = services(info).catalog
    store = catalog.stores.get(o.store_id)
    lines = [
        OrderLine(
            sku_id=i.sku_id,
            name=p.name if (p := catalog.products.get(i.sku_id)) else "",
            qty=i.qty,
            price_fen=i.price_fen,
        )
        for i in o.items
    ]
    return Order(
        id=o.id, status=OrderStatus(o.status), store_id=o.store_id, store_name=store.name if store else "",
        mall_id=o.mall_id or (store.mall_id if store else None), items=lines,
        subtotal_fen=o.subtotal_fen or sum(i.qty * i.price_fen for i in o.items),
        discount_fen=o.discount_fen, amount_fen=o.amount_fen, coupon_ids=o.coupon_ids, guide_id=o.guide_id,
        created_ms=float(o.created_ms) if o.created_ms else None,
        paid_ms=float(o.paid_ms) if o.status == "paid" and o.paid_ms else None,
        transaction_id=o.transaction_id,
    )  # fmt: skip


def prepay_of(p: PrepayModel) -> PrepayParams:
    return PrepayParams(
        app_id=p.app_id, time_stamp=p.time_stamp, nonce_str=p.nonce_str, package=p.package,
        sign_type=p.sign_type, pay_sign=p.pay_sign, demo=p.demo,
    )  # fmt: skip


@strawberry.type
class Query:
    @strawberry.field(description="One of the calling shopper's orders")
    async def order(self, info: Info[Any, Any], id: str) -> Order:
        found = await services(info).payments.order(order_id=id, member_id=require_member(info))
        return order_of(found, info)

    @strawberry.field(description="The calling shopper's orders, newest first")
    async def my_orders(
        self, info: Info[Any, Any], first: int = 10, after: str | None = None
    ) -> Connection[Order]:
        member_id = require_member(info)
        payments = services(info).payments

        async def fetch(skip: int, limit: int) -> list[PayableOrder]:
            return await payments.my_orders(member_id=member_id, skip=skip, limit=limit)

        return await paginate(fetch, first=first, after=after, node=lambda o: order_of(o, info))


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Place a pending order at one store, priced from the catalog; pay it with `prepay`"
    )
    async def checkout(
        self,
        info: Info[Any, Any],
        store_id: str,
        items: list[CheckoutItem],
        coupon_claim_ids: list[str] | None = None,
        share_code: str | None = None,
    ) -> CheckoutResult:
        member_id = require_member(info)
        app = services(info)
        result = await app.payments.checkout(
            member_id=member_id,
            store_id=store_id,
            lines=[CheckoutLine(sku_id=i.sku_id, qty=i.qty) for i in items],
            coupon_claim_ids=coupon_claim_ids or [],
            share_code=share_code,
            coupons=app.coupons,
        )
        return CheckoutResult(
            order_id=result.order.id,
            amount_fen=result.order.amount_fen,
            order=order_of(result.order, info),
            prepay=prepay_of(result.prepay),
        )

    @strawberry.mutation(
        description="Demo mode only: have the simulated WeChat Pay pay one of my pending orders"
    )
    async def simulate_payment(self, info: Info[Any, Any], order_id: str) -> Order:
        member_id = require_member(info)
        app = services(info)
        paid = await app.payments.simulate_payment(
            order_id=order_id, member_id=member_id, coupons=app.coupons
        )
        return order_of(paid, info)
