"""店员说: staff posts, staff profiles, 向TA咨询 (WeCom 联系我), 我的购物顾问, publishing and moderation."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from enum import Enum
from typing import Any

import strawberry
from strawberry.dataloader import DataLoader
from strawberry.types import Info

from api.graphql.context import principal, require, require_member, services
from api.graphql.pagination import Connection, paginate
from api.graphql.types import Product, StaffMember, StoreTile, product_of, tile_of
from guang.accounts.models import Role
from guang.staff.models import AdvisorView, PostDraft, PostEdit, PostView, StaffCard
from guang.staff.models import ConsultSource as ConsultSourceEnum

ConsultSource = strawberry.enum(ConsultSourceEnum, description="Where the shopper pressed 向TA咨询")
PUBLISHERS = (Role.STAFF, Role.BRAND_ADMIN)


def _batched(
    info: Info[Any, Any], name: str, load: Callable[[Sequence[str]], Awaitable[dict[str, Any]]], default: Any
) -> DataLoader[str, Any]:
    """A per-request loader: every profile on a page asks at once, and they are answered in one call."""
    key = f"staff.{name}"
    if key not in info.context:

        async def load_all(ids: list[str]) -> list[Any]:
            found = await load(ids)
            return [found.get(i, default) for i in ids]

        info.context[key] = DataLoader(load_fn=load_all)
    loader: DataLoader[str, Any] = info.context[key]
    return loader


@strawberry.enum(description="Drafts are seen only by their editors")
class StaffPostStatus(Enum):
    DRAFT = "draft"
    PUBLISHED = "published"


@strawberry.type(description="A product a post links to, sold at the post's store")
class StaffPostProduct:
    product: Product
    store: StoreTile


@strawberry.type(description="A 店员说 post")
class StaffPost:
    id: str
    text: str
    products: list[StaffPostProduct]
    staff: StaffMember
    store: StoreTile
    status: StaffPostStatus
    published_at_ms: float = strawberry.field(description="When published (creation time for a draft)")
    updated_at_ms: float | None
    hidden: bool = strawberry.field(description="Hidden by the mall operator")
    hidden_reason: str | None


@strawberry.type(description="A staff member's profile page")
class StaffProfile:
    id: str
    name: str
    title: str
    store: StoreTile

    known_advisor: strawberry.Private[bool | None] = None
    """Set when the resolver already knows (我的购物顾问, 向TA咨询), so `isMyAdvisor` asks nothing."""

    @strawberry.field(description="How many posts shoppers can see")
    async def post_count(self, info: Info[Any, Any]) -> int:
        count: int = await _batched(info, "post_count", services(info).staff.post_counts, 0).load(self.id)
        return count

    @strawberry.field(description="Their latest published posts, newest first")
    async def posts(
        self, info: Info[Any, Any], first: int = 10, after: str | None = None
    ) -> Connection[StaffPost]:
        desk = services(info).staff

        async def fetch(skip: int, limit: int) -> list[PostView]:
            return await desk.posts(staff_id=self.id, skip=skip, limit=limit)

        return await paginate(fetch, first=first, after=after, node=lambda v: post_of(info, v))

    @strawberry.field(
        description="Whether they are in the calling shopper's 我的购物顾问 (false if anonymous)"
    )
    async def is_my_advisor(self, info: Info[Any, Any]) -> bool:
        who = principal(info)
        if who is None or who.member_id is None:
            return False
        if self.known_advisor is not None:
            return self.known_advisor
        member_id, desk = who.member_id, services(info).staff

        async def advisors(staff_ids: Sequence[str]) -> dict[str, bool]:
            found = await desk.advisors_among(member_id=member_id, staff_ids=staff_ids)
            return dict.fromkeys(found, True)

        mine: bool = await _batched(info, "is_my_advisor", advisors, False).load(self.id)
        return mine


@strawberry.type(description="A staff member in 我的购物顾问")
class ShoppingAdvisor:
    staff: StaffProfile
    since_ms: float
    source: ConsultSource  # type: ignore[valid-type]


@strawberry.type(
    description="向TA咨询: show `qrUrl` as a QR; WeCom hands `state` back when the shopper adds them"
)
class ConsultResult:
    qr_url: str
    state: str
    staff: StaffProfile
    advisor_since_ms: float
    new_advisor: bool


@strawberry.type(description="Who consulted, from where and when (for the consulted store's staff)")
class ConsultAttribution:
    state: str
    source: ConsultSource  # type: ignore[valid-type]
    consulted_at_ms: float
    member_id: str
    member_nickname: str
    staff: StaffMember


@strawberry.input
class StaffPostInput:
    text: str
    product_ids: list[str] = strawberry.field(default_factory=list)
    store_id: str | None = strawberry.field(default=None, description="Required of brand admins")
    staff_id: str | None = strawberry.field(default=None, description="The author; required of brand admins")


@strawberry.input
class StaffPostChanges:
    text: str | None = None
    product_ids: list[str] | None = None


def member_of(c: StaffCard) -> StaffMember:
    return StaffMember(
        id=c.id, name=c.name, title=c.title, store_id=c.store.store.id, store_name=c.store.store.name,
        brand_name=c.store.brand.name, mall_name=c.store.mall.name,
    )  # fmt: skip


def profile_of(c: StaffCard, *, advisor: bool | None = None) -> StaffProfile:
    """`advisor`: whether they are the caller's advisor, when already known."""
    return StaffProfile(id=c.id, name=c.name, title=c.title, store=tile_of(c.store), known_advisor=advisor)


def post_of(info: Info[Any, Any], view: PostView) -> StaffPost:
    catalog = services(info).catalog
    store = tile_of(view.author.store)
    p = view.post
    products = [
        StaffPostProduct(product=product_of(catalog.products[pid]), store=store)
        for pid in p.product_ids
        if pid in catalog.products
    ]
    return StaffPost(
        id=p.id, text=p.text, products=products, staff=member_of(view.author), store=store,
        status=StaffPostStatus(p.status), published_at_ms=float(p.published_ms),
        updated_at_ms=float(p.updated_ms) if p.updated_ms is not None else None, hidden=p.hidden,
        hidden_reason=p.hidden_reason,
    )  # fmt: skip


def advisor_of(view: AdvisorView) -> ShoppingAdvisor:
    return ShoppingAdvisor(
        staff=profile_of(view.staff, advisor=True),
        since_ms=float(view.advisor.since_ms),
        source=view.advisor.source,
    )


@strawberry.type
class Query:
    @strawberry.field(
        description="The 店员说 tab: shown posts, newest first, by mall (商圈), brand and/or store"
    )
    async def staff_posts(
        self, info: Info[Any, Any], mall_id: str | None = None, brand_id: str | None = None,
        store_id: str | None = None, first: int = 10, after: str | None = None,
    ) -> Connection[StaffPost]:  # fmt: skip
        desk = services(info).staff

        async def fetch(skip: int, limit: int) -> list[PostView]:
            return await desk.posts(
                mall_id=mall_id, brand_id=brand_id, store_id=store_id, skip=skip, limit=limit
            )

        return await paginate(fetch, first=first, after=after, node=lambda v: post_of(info, v))

    @strawberry.field(description="One post; drafts and hidden posts only for their editors and moderators")
    async def staff_post(self, info: Info[Any, Any], id: str) -> StaffPost:
        view = await services(info).staff.post(post_id=str(id), viewer=principal(info))
        return post_of(info, view)

    @strawberry.field(
        description="Posts you publish or moderate, drafts and hidden ones included (staff: yours; brand "
        "admin: your brand's; mall operator: your mall's), newest first"
    )
    async def managed_staff_posts(
        self, info: Info[Any, Any], store_id: str | None = None, first: int = 10, after: str | None = None
    ) -> Connection[StaffPost]:
        who = require(info, Role.STAFF, Role.BRAND_ADMIN, Role.MALL_OPERATOR)
        desk = services(info).staff

        async def fetch(skip: int, limit: int) -> list[PostView]:
            return await desk.managed_posts(who=who, store_id=store_id, skip=skip, limit=limit)

        return await paginate(fetch, first=first, after=after, node=lambda v: post_of(info, v))

    @strawberry.field(description="A staff member's profile")
    async def staff_profile(self, info: Info[Any, Any], id: str) -> StaffProfile:
        return profile_of(await services(info).staff.profile(str(id)))

    @strawberry.field(description="我的购物顾问: the calling shopper's advisors, newest first")
    async def my_advisors(
        self, info: Info[Any, Any], first: int = 10, after: str | None = None
    ) -> Connection[ShoppingAdvisor]:
        member_id = require_member(info)
        desk = services(info).staff

        async def fetch(skip: int, limit: int) -> list[AdvisorView]:
            return await desk.advisors(member_id=member_id, skip=skip, limit=limit)

        return await paginate(fetch, first=first, after=after, node=advisor_of)

    @strawberry.field(description="Staff: who consulted you (or a colleague of your store) with this state")
    async def resolve_consult_state(self, info: Info[Any, Any], state: str) -> ConsultAttribution:
        who = require(info, Role.STAFF)
        record = await services(info).staff.resolve_state(who=who, state=state)
        c = record.consult
        return ConsultAttribution(
            state=c.state, source=c.source, consulted_at_ms=float(c.at_ms), member_id=c.member_id,
            member_nickname=record.member_nickname, staff=member_of(record.staff),
        )  # fmt: skip


@strawberry.type
class Mutation:
    @strawberry.mutation(description="向TA咨询: the staff's WeCom 联系我 QR; adds them to 我的购物顾问")
    async def consult_staff(
        self,
        info: Info[Any, Any],
        staff_id: str,
        source: ConsultSource,  # type: ignore[valid-type]
    ) -> ConsultResult:
        member_id = require_member(info)
        ticket = await services(info).staff.consult(
            member_id=member_id, staff_id=str(staff_id), source=ConsultSourceEnum(source)
        )
        return ConsultResult(
            qr_url=ticket.qr_url, state=ticket.state, staff=profile_of(ticket.staff, advisor=True),
            advisor_since_ms=float(ticket.advisor_since_ms), new_advisor=ticket.new_advisor,
        )  # fmt: skip

    @strawberry.mutation(description="Remove a staff member from 我的购物顾问; false if they were not there")
    async def remove_advisor(self, info: Info[Any, Any], staff_id: str) -> bool:
        member_id = require_member(info)
        return await services(info).staff.remove_advisor(member_id=member_id, staff_id=str(staff_id))

    @strawberry.mutation(description="A new draft post (staff: own store; brand admin: a store of the brand)")
    async def create_staff_post(self, info: Info[Any, Any], input: StaffPostInput) -> StaffPost:
        who = require(info, *PUBLISHERS)
        draft = PostDraft(
            text=input.text, product_ids=input.product_ids, store_id=input.store_id, staff_id=input.staff_id
        )
        return post_of(info, await services(info).staff.create_post(who=who, draft=draft))

    @strawberry.mutation(description="Edit the text or product links of a post you may edit")
    async def update_staff_post(self, info: Info[Any, Any], id: str, input: StaffPostChanges) -> StaffPost:
        who = require(info, *PUBLISHERS)
        edit = PostEdit(text=input.text, product_ids=input.product_ids)
        return post_of(info, await services(info).staff.update_post(who=who, post_id=str(id), edit=edit))

    @strawberry.mutation(description="Publish a draft (it appears at the top of 店员说)")
    async def publish_staff_post(self, info: Info[Any, Any], id: str) -> StaffPost:
        who = require(info, *PUBLISHERS)
        return post_of(
            info, await services(info).staff.set_published(who=who, post_id=str(id), published=True)
        )

    @strawberry.mutation(description="Take a post back to draft")
    async def unpublish_staff_post(self, info: Info[Any, Any], id: str) -> StaffPost:
        who = require(info, *PUBLISHERS)
        view = await services(info).staff.set_published(who=who, post_id=str(id), published=False)
        return post_of(info, view)

    @strawberry.mutation(description="Delete a post you may edit")
    async def delete_staff_post(self, info: Info[Any, Any], id: str) -> bool:
        who = require(info, *PUBLISHERS)
        return await services(info).staff.delete_post(who=who, post_id=str(id))

    @strawberry.mutation(description="Mall operators: hide (with a reason) or restore a post in their mall")
    async def moderate_staff_post(
        self, info: Info[Any, Any], id: str, hidden: bool, reason: str | None = None
    ) -> StaffPost:
        who = require(info, Role.MALL_OPERATOR)
        view = await services(info).staff.moderate(who=who, post_id=str(id), hidden=hidden, reason=reason)
        return post_of(info, view)
