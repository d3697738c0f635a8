"""导购 clienteling: the client book, tags and notes, reassignment, the tag audit, groups and campaigns."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from api.graphql.context import require, require_member, services
from api.graphql.pagination import Connection, paginate
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


@strawberry.type
class Query:
    @strawberry.field(description="Staff: your clients, newest first; `search` matches nicknames")
    async def client_book(
        self, info: Info[Any, Any], first: int = 10, after: str | None = None, search: str | None = None
    ) -> Connection[Client]:
        who = require(info, Role.STAFF)
        book = services(info).clienteling.book

        async def fetch(skip: int, limit: int) -> list[models.ClientView]:
            return await book.page(who, search=search, skip=skip, limit=limit)

        return await paginate(fetch, first=first, after=after, node=lambda v: client_of(info, v))

    @strawberry.field(description="Staff: one of your clients")
    async def client(self, info: Info[Any, Any], member_id: str) -> Client:
        who = require(info, Role.STAFF)
        return client_of(info, await services(info).clienteling.book.client(who, str(member_id)))

    @strawberry.field(description="Staff: every tag change on one of your clients, oldest first")
    async def client_tag_history(self, info: Info[Any, Any], member_id: str) -> list[ClientTagChange]:
        who = require(info, Role.STAFF)
        changes = await services(info).clienteling.tags.history(who=who, member_id=str(member_id))
        return [
            ClientTagChange(tag_id=c.tag_id, action=c.action, by_staff_id=c.by_staff_id, at_ms=float(c.at_ms))
            for c in changes
        ]

    @strawberry.field(description="Your brand's client tag library (staff and brand admins)")
    async def client_tag_library(self, info: Info[Any, Any]) -> list[ClientTag]:
        who = require(info, Role.STAFF, Role.BRAND_ADMIN)
        return [tag_of(t) for t in await services(info).clienteling.tags.library(who)]

    @strawberry.field(
        description="Tag accuracy per staff member and tag (the store's staff, its brand's admins)"
    )
    async def tag_audit(self, info: Info[Any, Any], store_id: str) -> TagAudit:
        who = require(info, *AUDIT_READERS)
        return audit_of(await services(info).clienteling.tag_audit(who=who, store_id=str(store_id)))

    @strawberry.field(description="Staff: your client groups, newest first")
    async def client_groups(self, info: Info[Any, Any]) -> list[ClientGroup]:
        who = require(info, Role.STAFF)
        return [group_of(g) for g in await services(info).clienteling.campaigns.groups(who=who)]

    @strawberry.field(description="Staff: one of your groups with who is in it now")
    async def client_group(self, info: Info[Any, Any], id: str) -> ClientGroupDetail:
        who = require(info, Role.STAFF)
        clienteling = services(info).clienteling
        group, member_ids = await clienteling.campaigns.group(who=who, group_id=str(id))
        names = await clienteling.book.nicknames(member_ids)
        return ClientGroupDetail(
            group=group_of(group), size=len(member_ids),
            members=[ClientGroupMember(member_id=m, nickname=names.get(m, "")) for m in member_ids],
        )  # fmt: skip

    @strawberry.field(description="Delivered, opened, claimed and redeemed (its staff member, brand admins)")
    async def campaign_results(self, info: Info[Any, Any], campaign_id: str) -> CampaignResults:
        who = require(info, Role.STAFF, Role.BRAND_ADMIN)
        r = await services(info).clienteling.campaigns.results(who=who, campaign_id=str(campaign_id))
        return CampaignResults(
            campaign=campaign_of(r.campaign), delivered=r.delivered, opened=r.opened, claimed=r.claimed,
            redeemed=r.redeemed,
        )  # fmt: skip

    @strawberry.field(description="Shoppers: messages from your shopping advisors, newest first")
    async def my_client_messages(
        self, info: Info[Any, Any], first: int = 10, after: str | None = None
    ) -> Connection[ClientMessage]:
        member_id = require_member(info)
        campaigns = services(info).clienteling.campaigns

        async def fetch(skip: int, limit: int) -> list[models.Delivery]:
            return await campaigns.inbox(member_id=member_id, skip=skip, limit=limit)

        return await paginate(fetch, first=first, after=after, node=message_of)


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Brand admins: add a tag to the brand's library")
    async def add_client_tag(
        self, info: Info[Any, Any], group: TagGroup, name: str,  # type: ignore[valid-type]
        categories: list[str] | None = None, min_price_fen: int | None = None,
        max_price_fen: int | None = None,
    ) -> ClientTag:  # fmt: skip
        who = require(info, Role.BRAND_ADMIN)
        tag = await services(info).clienteling.tags.add_tag(
            who=who, group=models.TagGroup(group), name=name, categories=categories or [],
            min_price_fen=min_price_fen, max_price_fen=max_price_fen,
        )  # fmt: skip
        return tag_of(tag)

    @strawberry.mutation(description="Staff: tag one of your clients (tags already on are kept as they were)")
    async def tag_client(self, info: Info[Any, Any], member_id: str, tag_ids: list[str]) -> Client:
        return await _retag(info, str(member_id), tag_ids, on=True)

    @strawberry.mutation(description="Staff: take tags off one of your clients")
    async def untag_client(self, info: Info[Any, Any], member_id: str, tag_ids: list[str]) -> Client:
        return await _retag(info, str(member_id), tag_ids, on=False)

    @strawberry.mutation(
        description=f"Staff: a note on one of your clients (at most {models.NOTE_MAX} characters)"
    )
    async def add_client_note(self, info: Info[Any, Any], member_id: str, text: str) -> ClientNote:
        who = require(info, Role.STAFF)
        return note_of(
            await services(info).clienteling.tags.add_note(who=who, member_id=str(member_id), text=text)
        )

    @strawberry.mutation(
        description="Brand admins: hand a staff member's clients to a colleague of the same store"
    )
    async def reassign_clients(
        self, info: Info[Any, Any], from_staff_id: str, to_staff_id: str
    ) -> Reassignment:
        who = require(info, Role.BRAND_ADMIN)
        r = await services(info).clienteling.reassign(
            who=who, from_staff_id=str(from_staff_id), to_staff_id=str(to_staff_id)
        )
        return Reassignment(
            moved=r.moved,
            advisors_moved=r.advisors_moved,
            from_staff_id=r.from_staff_id,
            to_staff_id=r.to_staff_id,
        )

    @strawberry.mutation(
        description='Staff: save a group rule, e.g. {"all": [{"tag": "std-category-denim"}]}'
    )
    async def create_client_group(self, info: Info[Any, Any], name: str, rule: JSON) -> ClientGroup:
        who = require(info, Role.STAFF)
        return group_of(
            await services(info).clienteling.campaigns.create_group(who=who, name=name, rule=rule)
        )

    @strawberry.mutation(description="Staff: send a coupon or an article to a group (marketing consent only)")
    async def send_campaign(
        self, info: Info[Any, Any], group_id: str, coupon_id: str | None = None,
        article_id: str | None = None, message: str | None = None,
    ) -> Campaign:  # fmt: skip
        who = require(info, Role.STAFF)
        campaign = await services(info).clienteling.campaigns.send(
            who=who, group_id=str(group_id), coupon_id=coupon_id, article_id=article_id, message=message
        )
        return campaign_of(campaign)

    @strawberry.mutation(description="Shoppers: open a message from your advisor (recorded the first time)")
    async def open_campaign_message(self, info: Info[Any, Any], campaign_id: str) -> ClientMessage:
        member_id = require_member(info)
        delivery = await services(info).clienteling.campaigns.open(
            member_id=member_id, campaign_id=str(campaign_id)
        )
        return message_of(delivery)


async def _retag(info: Info[Any, Any], member_id: str, tag_ids: list[str], *, on: bool) -> Client:
    who = require(info, Role.STAFF)
    clienteling = services(info).clienteling
    await clienteling.tags.tag(who=who, member_id=member_id, tag_ids=tag_ids, on=on)
    return client_of(info, await clienteling.book.client(who, member_id))
