"""GraphQL types of 导购 clienteling and their converters from the domain models."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from api.graphql.context import services
from api.graphql.types import Product, product_of
from guang.accounts.models import Role
from guang.clienteling import models
from guang.clienteling.rules import Score
from guang.clienteling.service import StoreAudit

TagGroup = strawberry.enum(models.TagGroup, description="风格 style, 尺码 size, 预算 budget, 场合 …")
ClientSource = strawberry.enum(models.ClientSource, description="How a shopper became your client")
AUDIT_READERS = (Role.STAFF, Role.BRAND_ADMIN)


@strawberry.type(description="A tag of the brand's library; categories/price band say what confirms it")
class ClientTag:
    id: str
    group: TagGroup  # type: ignore[valid-type]
    group_label: str
    name: str
    brand_id: str | None = strawberry.field(description="None for the default library every brand gets")
    categories: list[str]
    min_price_fen: int | None
    max_price_fen: int | None
    auditable: bool


@strawberry.type(description="A tag on a client, with who put it there and when")
class AppliedClientTag:
    tag: ClientTag
    tagged_by_staff_id: str
    tagged_at_ms: float


@strawberry.type
class ClientNote:
    id: str
    text: str
    by_staff_id: str
    at_ms: float


@strawberry.type
class ClientOrderLine:
    sku_id: str
    product: Product | None
    qty: int
    price_fen: int


@strawberry.type(description="A paid order at the brand's stores")
class ClientOrder:
    id: str
    store_id: str
    paid_at_ms: float
    amount_fen: int
    guide_id: str | None = strawberry.field(description="The staff member it is attributed to, if any")
    items: list[ClientOrderLine]


@strawberry.type(
    description="What the store's cameras taught (only while the client's face consent is active)"
)
class ClientInterests:
    top_categories: list[str]
    last_dwell_zone_id: str | None
    last_dwell_category: str | None
    seen_at_ms: float


@strawberry.type(description="One of your clients")
class Client:
    member_id: str
    nickname: str
    since_ms: float
    sources: list[ClientSource]  # type: ignore[valid-type]
    reassigned_from: str | None = strawberry.field(description="The colleague who handed the client over")
    tags: list[AppliedClientTag]
    notes: list[ClientNote] = strawberry.field(description="Newest first (the latest 20)")
    orders: list[ClientOrder] = strawberry.field(description="Purchase history at this brand, newest first")
    interests: ClientInterests | None
    last_visit_ms: float | None = strawberry.field(description="Last seen in your store or last purchase")
    marketing_consent: bool


@strawberry.type(description="One tag change, for the audit trail")
class ClientTagChange:
    tag_id: str
    action: str
    by_staff_id: str
    at_ms: float


@strawberry.type
class Reassignment:
    moved: int = strawberry.field(description="Clients handed over")
    advisors_moved: int = strawberry.field(
        description="Of them, shoppers whose 我的购物顾问 now shows the new advisor"
    )
    from_staff_id: str
    to_staff_id: str


@strawberry.type(description="Tags judged against purchases: confirmed / (confirmed + contradicted)")
class TagPrecision:
    tag_id: str
    tag_name: str
    tagged: int
    confirmed: int
    contradicted: int
    unverified: int = strawberry.field(description="Tagged clients who bought nothing at the brand yet")
    precision: float | None


@strawberry.type
class StaffPrecision:
    staff_id: str
    staff_name: str
    tagged: int
    confirmed: int
    contradicted: int
    unverified: int
    precision: float | None
    tags: list[TagPrecision]


@strawberry.type(description="A tag with no purchase mapping (size, life stage …): given, but not auditable")
class UnauditedTag:
    tag_id: str
    tag_name: str
    given: int


@strawberry.type
class TagAudit:
    store_id: str
    staff: list[StaffPrecision]
    tags: list[TagPrecision]
    not_auditable: list[UnauditedTag]


@strawberry.type
class ClientGroupMember:
    member_id: str
    nickname: str


@strawberry.type(description="A saved rule over your client book")
class ClientGroup:
    id: str
    name: str
    rule: JSON
    created_at_ms: float


@strawberry.type
class ClientGroupDetail:
    group: ClientGroup
    size: int
    members: list[ClientGroupMember]


@strawberry.type
class Campaign:
    id: str
    group_id: str
    target_type: str
    target_id: str
    title: str
    message: str
    sent_at_ms: float
    delivered: int
    skipped_no_consent: int = strawberry.field(description="Group members left out: no marketing consent")


@strawberry.type
class CampaignResults:
    campaign: Campaign
    delivered: int
    opened: int
    claimed: int = strawberry.field(description="Recipients who claimed the coupon after it was sent")
    redeemed: int = strawberry.field(description="Recipients who redeemed it")


@strawberry.type(description="A message from your shopping advisor (a coupon or an article)")
class ClientMessage:
    campaign_id: str
    staff_id: str
    staff_name: str
    store_name: str
    target_type: str
    coupon_id: str | None
    article_id: str | None
    title: str
    message: str
    delivered_at_ms: float
    opened_at_ms: float | None


def tag_of(t: models.ClientTag) -> ClientTag:
    return ClientTag(
        id=t.id, group=t.group, group_label=t.group.label, name=t.name, brand_id=t.brand_id,
        categories=list(t.categories), min_price_fen=t.min_price_fen, max_price_fen=t.max_price_fen,
        auditable=t.auditable,
    )  # fmt: skip


def note_of(n: models.ClientNote) -> ClientNote:
    return ClientNote(id=n.id, text=n.text, by_staff_id=n.by_staff_id, at_ms=float(n.at_ms))


def client_of(info: Info[Any, Any], v: models.ClientView) -> Client:
    products = services(info).catalog.products
    orders = [
        ClientOrder(
            id=o.id, store_id=o.store_id, paid_at_ms=float(o.paid_ms), amount_fen=o.amount_fen,
            guide_id=o.guide_id,
            items=[
                ClientOrderLine(
                    sku_id=i.sku_id, product=product_of(products[i.sku_id]) if i.sku_id in products else None,
                    qty=i.qty, price_fen=i.price_fen,
                )
                for i in o.items
            ],
        )
        for o in v.orders
    ]  # fmt: skip
    seen = v.interests
    interests = None if seen is None else ClientInterests(
        top_categories=seen.top_categories, last_dwell_zone_id=seen.last_dwell_zone_id,
        last_dwell_category=seen.last_dwell_category, seen_at_ms=float(seen.seen_ms),
    )  # fmt: skip
    return Client(
        member_id=v.member_id, nickname=v.nickname, since_ms=float(v.since_ms), sources=list(v.sources),
        reassigned_from=v.reassigned_from,
        tags=[AppliedClientTag(tag=tag_of(a.tag), tagged_by_staff_id=a.mark.by_staff_id,
                               tagged_at_ms=float(a.mark.at_ms)) for a in v.tags],
        notes=[note_of(n) for n in v.notes], orders=orders, interests=interests,
        last_visit_ms=None if v.last_visit_ms is None else float(v.last_visit_ms),
        marketing_consent=v.marketing_consent,
    )  # fmt: skip


def _precision(tag_id: str, name: str, s: Score) -> TagPrecision:
    return TagPrecision(
        tag_id=tag_id, tag_name=name, tagged=s.tagged, confirmed=s.confirmed, contradicted=s.contradicted,
        unverified=s.unverified, precision=s.precision,
    )  # fmt: skip


def audit_of(found: StoreAudit) -> TagAudit:
    a = found.audit

    def name(tag_id: str) -> str:
        tag = found.tags.get(tag_id)
        return f"{tag.group.label}/{tag.name}" if tag is not None else tag_id

    staff = [
        StaffPrecision(
            staff_id=staff_id, staff_name=found.staff[staff_id].name if staff_id in found.staff else "",
            tagged=s.tagged, confirmed=s.confirmed, contradicted=s.contradicted, unverified=s.unverified,
            precision=s.precision,
            tags=[
                _precision(t, name(t), score)
                for (who, t), score in sorted(a.by_staff_tag.items())
                if who == staff_id
            ],
        )
        for staff_id, s in sorted(a.by_staff.items())
    ]  # fmt: skip
    return TagAudit(
        store_id=found.store_id, staff=staff,
        tags=[_precision(t, name(t), s) for t, s in sorted(a.by_tag.items())],
        not_auditable=[
            UnauditedTag(tag_id=t, tag_name=name(t), given=n) for t, n in sorted(a.not_auditable.items())
        ],
    )  # fmt: skip


def group_of(g: models.ClientGroup) -> ClientGroup:
    return ClientGroup(id=g.id, name=g.name, rule=JSON(g.rule), created_at_ms=float(g.created_ms))


def campaign_of(c: models.Campaign) -> Campaign:
    return Campaign(
        id=c.id, group_id=c.group_id, target_type=c.target_type, target_id=c.target_id, title=c.title,
        message=c.message, sent_at_ms=float(c.sent_ms), delivered=c.delivered,
        skipped_no_consent=c.skipped_no_consent,
    )  # fmt: skip


def message_of(d: models.Delivery) -> ClientMessage:
    return ClientMessage(
        campaign_id=d.campaign_id, staff_id=d.staff_id, staff_name=d.staff_name, store_name=d.store_name,
        target_type=d.target_type, coupon_id=d.target_id if d.target_type == "coupon" else None,
        article_id=d.target_id if d.target_type == "article" else None, title=d.title, message=d.message,
        delivered_at_ms=float(d.delivered_ms),
        opened_at_ms=None if d.opened_ms is None else float(d.opened_ms),
    )  # fmt: skip
