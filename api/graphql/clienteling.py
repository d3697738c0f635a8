"""导购 clienteling: the client book, tags and notes, reassignment, the tag audit, groups and campaigns."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from api.graphql.clienteling_types import (
    AUDIT_READERS,
    Campaign,
    CampaignResults,
    Client,
    ClientGroup,
    ClientGroupDetail,
    ClientGroupMember,
    ClientMessage,
    ClientNote,
    ClientTag,
    ClientTagChange,
    Reassignment,
    TagAudit,
    TagGroup,
    audit_of,
    campaign_of,
    client_of,
    group_of,
    message_of,
    note_of,
    tag_of,
)
from api.graphql.context import require, require_member, services
from api.graphql.pagination import Connection, paginate
from guang.accounts.models import Role
from guang.clienteling import models


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
