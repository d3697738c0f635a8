"""Pure dataflow steps for payments: purchase history, co-purchase, guide commission, coupon redemptions.

Each mapper fits `op.stateful_flat_map`: `(state | None, message) -> (state, list[Write])`. Counters live
in the (recoverable) state and only absolute values are emitted. WeChat Pay and POS both retry, so every
state remembers a bounded window of recent event ids and order ids, and a payment seen again under either
has no second effect. Only event time is used, so a replay produces the same writes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from guang.domain.events import Event, PaymentEvent
from guang.domain.keys import (
    coupon_redeemed,
    coupon_stats,
    guide_ledger,
    guide_totals,
    sku_co_purchase,
    subject_bought,
    subject_orders,
)
from guang.domain.writes import Delete, Put, Write, ZPut

# Config and state

MAX_BASKET_SKUS = 100


@dataclass(frozen=True)
class PurchaseConfig:
    max_bought_skus: int = 500
    max_partners: int = 50
    dedupe_window: int = 1024
    """How many recent event ids and order ids each state remembers to drop retries."""
    visitor_ttl_s: int = 30 * 24 * 3600
    """Expiry of an anonymous visitor's purchase keys (refreshed by each payment): camera visitor ids are
    re-issued, so they would pile up forever; a member's history is kept."""
    default_commission_rate: float = 0.03
    commission_rate_by_store: Mapping[str, float] = field(default_factory=dict)
    """store_id -> guide commission rate (the store's `Brand.guide_commission_rate`)."""

    def __post_init__(self) -> None:
        rates = [self.default_commission_rate, *self.commission_rate_by_store.values()]
        if any(not 0.0 <= rate <= 1.0 for rate in rates):
            raise ValueError("commission rates must be between 0 and 1")
        if min(self.max_bought_skus, self.max_partners, self.dedupe_window, self.visitor_ttl_s) < 1:
            raise ValueError("bounds must be at least 1")


@dataclass
class Seen:
    """Recent event ids and order ids, oldest first (dicts as bounded insertion-ordered sets)."""

    event_ids: dict[str, None] = field(default_factory=dict)
    order_ids: dict[str, None] = field(default_factory=dict)

    def first_time(self, event_id: str, order_id: str, window: int) -> bool:
        """Record the payment and tell whether it is new; a retry repeats the event id or the order id."""
        if event_id in self.event_ids or order_id in self.order_ids:
            return False
        for ids, new in ((self.event_ids, event_id), (self.order_ids, order_id)):
            ids[new] = None
            while len(ids) > window:
                del ids[next(iter(ids))]
        return True


class Bought(NamedTuple):
    last_ts_ms: int
    qty: int


@dataclass
class PurchaseHistory:
    """Per member or visitor: the most recently bought SKUs, order count and spend."""

    seen: Seen = field(default_factory=Seen)
    skus: dict[str, Bought] = field(default_factory=dict)
    orders: int = 0
    spend_fen: int = 0


class Partner(NamedTuple):
    together: int
    last_ts_ms: int


class CoPurchase(NamedTuple):
    """One SKU's view of an order: the other SKUs bought with it (Bytewax mappers do not see the key)."""

    sku_id: str
    order_id: str
    event_id: str
    ts_ms: int
    others: list[str]


@dataclass
class PartnerCounts:
    """Per SKU: how many orders contained it together with each of its strongest partners."""

    seen: Seen = field(default_factory=Seen)
    partners: dict[str, Partner] = field(default_factory=dict)


@dataclass
class GuideLedger:
    seen: Seen = field(default_factory=Seen)
    orders: int = 0
    sales_fen: int = 0
    commission_fen: int = 0


class Redemption(NamedTuple):
    """A payment as seen by one coupon it redeemed (Bytewax mappers do not see the key)."""

    coupon_id: str
    payment: PaymentEvent


@dataclass
class CouponRedemptions:
    seen: Seen = field(default_factory=Seen)
    redemptions: int = 0


# Steps


def _evict_oldest(values: dict[str, Bought], bound: int) -> list[str]:
    excess = len(values) - bound
    if excess <= 0:
        return []
    gone = sorted(values, key=lambda sku: (values[sku].last_ts_ms, sku))[:excess]
    for sku in gone:
        del values[sku]
    return gone


def update_purchase_history(
    state: PurchaseHistory | None, event: Event, *, config: PurchaseConfig
) -> tuple[PurchaseHistory | None, list[Write]]:
    """Keyed by subject_id. A late payment counts but does not move a SKU's last-bought time back."""
    if not isinstance(event, PaymentEvent):
        return state, []
    state = state or PurchaseHistory()
    if not state.seen.first_time(event.event_id, event.order_id, config.dedupe_window):
        return state, []
    known = set(state.skus)
    qty: dict[str, int] = {}
    for item in event.items:
        qty[item.sku_id] = qty.get(item.sku_id, 0) + item.qty
    for sku, n in qty.items():
        old = state.skus.get(sku, Bought(event.ts_ms, 0))
        state.skus[sku] = Bought(max(old.last_ts_ms, event.ts_ms), old.qty + n)
    evicted = _evict_oldest(state.skus, config.max_bought_skus)
    state.orders += 1
    state.spend_fen += event.amount_fen
    bought, orders = subject_bought(event.subject_id), subject_orders(event.subject_id)
    ttl = config.visitor_ttl_s if event.user_id is None else None
    writes: list[Write] = [
        Put(key=bought, field=sku, value=state.skus[sku].last_ts_ms, ttl_s=ttl)
        for sku in qty
        if sku in state.skus
    ]
    writes += [Delete(key=bought, member=sku) for sku in evicted if sku in known]
    writes += [
        Put(key=orders, field="count", value=state.orders, ttl_s=ttl),
        Put(key=orders, field="spend_fen", value=state.spend_fen, ttl_s=ttl),
    ]
    return state, writes


def copurchase_fanout(event: Event, *, max_skus: int = MAX_BASKET_SKUS) -> list[tuple[str, CoPurchase]]:
    """One message per distinct SKU of an order, to be keyed by sku_id.

    Single-SKU orders have no pairs; bulk orders with more than `max_skus` distinct SKUs are skipped
    (their pairs are noise and would cost max_skus² writes).
    """
    if not isinstance(event, PaymentEvent):
        return []
    skus = list(dict.fromkeys(item.sku_id for item in event.items))
    if not 2 <= len(skus) <= max_skus:
        return []
    return [
        (sku, CoPurchase(sku, event.order_id, event.event_id, event.ts_ms, [o for o in skus if o != sku]))
        for sku in skus
    ]


def update_copurchase(
    state: PartnerCounts | None, message: CoPurchase, *, config: PurchaseConfig
) -> tuple[PartnerCounts | None, list[Write]]:
    """Keyed by sku_id (after `copurchase_fanout`): count this SKU's partners; the partners' own steps
    write the other direction. Over the bound the weakest partner goes: lowest count, then least recent."""
    state = state or PartnerCounts()
    if not state.seen.first_time(message.event_id, message.order_id, config.dedupe_window):
        return state, []
    partners = state.partners
    known = set(partners)
    for other in message.others:
        old = partners.get(other, Partner(0, message.ts_ms))
        partners[other] = Partner(old.together + 1, max(old.last_ts_ms, message.ts_ms))
    ranked = sorted(partners, key=lambda sku: (partners[sku], sku))
    evicted = ranked[: max(0, len(ranked) - config.max_partners)]
    for sku in evicted:
        del partners[sku]
    key = sku_co_purchase(message.sku_id)
    writes: list[Write] = [
        ZPut(key=key, member=sku, score=partners[sku].together) for sku in message.others if sku in partners
    ]
    writes += [Delete(key=key, member=sku) for sku in evicted if sku in known]
    return state, writes


def commission_fen(amount_fen: int, rate: float) -> int:
    """Rounded half up to the fen, in decimal so 0.03 means exactly 3%."""
    exact = Decimal(amount_fen) * Decimal(str(rate))
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def guide_fanout(event: Event) -> list[tuple[str, PaymentEvent]]:
    """The payment keyed by its guide, or nothing when no guide made the sale."""
    if isinstance(event, PaymentEvent) and event.guide_id is not None:
        return [(event.guide_id, event)]
    return []


def update_guide_ledger(
    state: GuideLedger | None, event: Event, *, config: PurchaseConfig
) -> tuple[GuideLedger | None, list[Write]]:
    """Keyed by guide_id: attribute each order once, at the rate of the store where it was paid."""
    if not isinstance(event, PaymentEvent) or event.guide_id is None:
        return state, []
    state = state or GuideLedger()
    if not state.seen.first_time(event.event_id, event.order_id, config.dedupe_window):
        return state, []
    store_rate = config.commission_rate_by_store.get(event.store_id) if event.store_id else None
    commission = commission_fen(
        event.amount_fen, config.default_commission_rate if store_rate is None else store_rate
    )
    state.orders += 1
    state.sales_fen += event.amount_fen
    state.commission_fen += commission
    totals = guide_totals(event.guide_id)
    return state, [
        Put(key=guide_ledger(event.guide_id), field=event.order_id, value=commission),
        Put(key=totals, field="orders", value=state.orders),
        Put(key=totals, field="sales_fen", value=state.sales_fen),
        Put(key=totals, field="commission_fen", value=state.commission_fen),
    ]


def coupon_fanout(event: Event) -> list[tuple[str, Redemption]]:
    """The payment once per distinct coupon it redeemed, to be keyed by coupon_id."""
    if not isinstance(event, PaymentEvent):
        return []
    return [(coupon, Redemption(coupon, event)) for coupon in dict.fromkeys(event.coupon_ids)]


def update_coupon_redemptions(
    state: CouponRedemptions | None, message: Redemption, *, config: PurchaseConfig
) -> tuple[CouponRedemptions | None, list[Write]]:
    """Keyed by coupon_id (after `coupon_fanout`): a coupon counts once per order."""
    coupon, payment = message
    state = state or CouponRedemptions()
    if not state.seen.first_time(payment.event_id, payment.order_id, config.dedupe_window):
        return state, []
    state.redemptions += 1
    return state, [
        Put(key=coupon_redeemed(coupon), field=payment.order_id, value=payment.ts_ms),
        Put(key=coupon_stats(coupon), field="redemptions", value=state.redemptions),
    ]
