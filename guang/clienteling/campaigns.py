"""Rule-based client groups and targeted campaigns (a coupon or an article sent to a group).

Only clients with an active marketing consent receive a campaign; the others are counted as skipped.
Each recipient gets one message in their inbox; opening it is recorded once. Results count deliveries,
opens, and claims and redemptions of the campaign's coupon by its recipients after it was sent."""

from __future__ import annotations

from typing import Any

from guang.accounts.models import Principal, Role
from guang.accounts.service import MEMBERS
from guang.adapters.ports import DocumentStore
from guang.clienteling.book import ClientBook, Desk, doc_of
from guang.clienteling.library import library_of
from guang.clienteling.models import (
    CAMPAIGNS,
    DELIVERIES,
    GROUPS,
    Campaign,
    CampaignResults,
    ClientGroup,
    Delivery,
    TargetType,
)
from guang.clienteling.rules import members, parse_rule, tag_ids_of
from guang.content.models import ARTICLES
from guang.coupons.service import CLAIMS, COUPONS
from guang.domain.errors import Forbidden, Invalid, NotFound
from guang.domain.models import Article, Coupon
from guang.domain.text import bounded
from guang.services.app_events import new_event_id, now_ms

GROUP_NAME_MAX = 30
MESSAGE_MAX = 200
MAX_GROUPS = 100


def delivery_id(campaign_id: str, member_id: str) -> str:
    return f"{campaign_id}:{member_id}"


class Campaigns:
    def __init__(self, *, documents: DocumentStore, book: ClientBook) -> None:
        self._documents = documents
        self._book = book
        self._indexed = False

    # ---- groups

    async def create_group(self, *, who: Principal, name: str, rule: Any) -> ClientGroup:
        desk = await self._book.desk(who)
        parsed = parse_rule(rule)
        library = await library_of(self._documents, desk.store.brand_id)
        unknown = sorted(tag_ids_of(parsed) - set(library))
        if unknown:
            raise Invalid(f"the rule names tags not in your brand's library: {', '.join(unknown)}")
        if await self._documents.count(GROUPS, {"staff_id": desk.staff.id}) >= MAX_GROUPS:
            raise Invalid(f"a staff member keeps at most {MAX_GROUPS} groups")
        group = ClientGroup(
            id=f"grp-{new_event_id()[:16]}", staff_id=desk.staff.id, store_id=desk.store.id,
            name=bounded(name, what="a group's name", max_len=GROUP_NAME_MAX, multiline=False),
            rule=dict(rule), created_ms=now_ms(),
        )  # fmt: skip
        await self._documents.insert_one(GROUPS, doc_of(group.id, group))
        return group

    async def groups(self, *, who: Principal) -> list[ClientGroup]:
        desk = await self._book.desk(who)
        docs = await self._documents.find(
            GROUPS, {"staff_id": desk.staff.id}, sort=[("created_ms", -1), ("_id", 1)]
        )
        return [ClientGroup.model_validate(d) for d in docs]

    async def group(self, *, who: Principal, group_id: str) -> tuple[ClientGroup, list[str]]:
        """The caller's group and its members now (member ids, newest clients first)."""
        desk = await self._book.desk(who)
        group = await self._own_group(desk, group_id)
        return group, await self._members(desk, group)

    # ---- campaigns

    async def send(
        self, *, who: Principal, group_id: str, coupon_id: str | None, article_id: str | None,
        message: str | None,
    ) -> Campaign:  # fmt: skip
        """Deliver a coupon or an article to the group's clients who accept marketing."""
        desk = await self._book.desk(who)
        group = await self._own_group(desk, group_id)
        if (coupon_id is None) == (article_id is None):
            raise Invalid("send either a coupon (couponId) or an article (articleId)")
        target_type: TargetType = "coupon" if coupon_id is not None else "article"
        target_id = str(coupon_id or article_id)
        title = await self._target_title(desk, target_type, target_id)
        text = bounded(message, what="a message", max_len=MESSAGE_MAX, multiline=True) if message else ""
        wanted = await self._members(desk, group)
        consenting = await self._consenting(wanted)
        recipients = [m for m in wanted if m in consenting]
        campaign = Campaign(
            id=f"cmp-{new_event_id()[:16]}", group_id=group.id, staff_id=desk.staff.id,
            store_id=desk.store.id, brand_id=desk.store.brand_id, target_type=target_type,
            target_id=target_id,
            title=title, message=text, sent_ms=now_ms(), delivered=len(recipients),
            skipped_no_consent=len(wanted) - len(recipients),
        )  # fmt: skip
        await self._ensure_indexes()
        await self._documents.insert_one(CAMPAIGNS, doc_of(campaign.id, campaign))
        for member_id in recipients:
            delivery = Delivery(
                campaign_id=campaign.id, member_id=member_id, staff_id=desk.staff.id, target_type=target_type,
                target_id=target_id, title=title, message=text, delivered_ms=campaign.sent_ms,
                staff_name=desk.staff.name, store_name=desk.store.name,
            )  # fmt: skip
            await self._documents.insert_one(
                DELIVERIES, doc_of(delivery_id(campaign.id, member_id), delivery)
            )
        return campaign

    async def results(self, *, who: Principal, campaign_id: str) -> CampaignResults:
        doc = await self._documents.find_one(CAMPAIGNS, {"_id": campaign_id})
        campaign = Campaign.model_validate(doc) if doc is not None else None
        if campaign is None or not (
            (who.role is Role.STAFF and who.staff_id == campaign.staff_id)
            or (who.role is Role.BRAND_ADMIN and who.brand_id == campaign.brand_id)
        ):
            raise NotFound(f"no campaign {campaign_id} of yours")
        deliveries = await self._documents.find(
            DELIVERIES, {"campaign_id": campaign.id}, projection={"member_id": 1, "opened_ms": 1}
        )
        recipients = [str(d["member_id"]) for d in deliveries]
        claimed: set[str] = set()
        redeemed: set[str] = set()
        if campaign.target_type == "coupon" and recipients:
            claims = await self._documents.find(
                CLAIMS,
                {"coupon_id": campaign.target_id, "member_id": {"$in": recipients},
                 "claimed_ms": {"$gte": campaign.sent_ms}},
                projection={"member_id": 1, "status": 1},
            )  # fmt: skip
            claimed = {str(c["member_id"]) for c in claims}
            redeemed = {str(c["member_id"]) for c in claims if c.get("status") == "redeemed"}
        return CampaignResults(
            campaign=campaign, delivered=len(recipients),
            opened=sum(1 for d in deliveries if d.get("opened_ms") is not None), claimed=len(claimed),
            redeemed=len(redeemed),
        )  # fmt: skip

    # ---- the shopper's side

    async def inbox(self, *, member_id: str, skip: int, limit: int) -> list[Delivery]:
        await self._ensure_indexes()
        docs = await self._documents.find(
            DELIVERIES,
            {"member_id": member_id},
            sort=[("delivered_ms", -1), ("_id", 1)],
            skip=skip,
            limit=limit,
        )
        return [Delivery.model_validate(d) for d in docs]

    async def open(self, *, member_id: str, campaign_id: str) -> Delivery:
        """Mark the shopper's message opened (the first time counts); NOT_FOUND if it is not theirs."""
        key = delivery_id(campaign_id, member_id)
        doc = await self._documents.find_one_and_update(
            DELIVERIES, {"_id": key, "opened_ms": None}, {"$set": {"opened_ms": now_ms()}}
        )
        if doc is None:
            doc = await self._documents.find_one(DELIVERIES, {"_id": key})
        if doc is None:
            raise NotFound(f"no message of campaign {campaign_id} for you")
        return Delivery.model_validate(doc)

    # ---- helpers

    async def _own_group(self, desk: Desk, group_id: str) -> ClientGroup:
        doc = await self._documents.find_one(GROUPS, {"_id": group_id, "staff_id": desk.staff.id})
        if doc is None:
            raise NotFound(f"no group {group_id} of yours")
        return ClientGroup.model_validate(doc)

    async def _members(self, desk: Desk, group: ClientGroup) -> list[str]:
        return members(parse_rule(group.rule), await self._book.facts(desk), now_ms=now_ms())

    async def _consenting(self, member_ids: list[str]) -> set[str]:
        if not member_ids:
            return set()
        docs = await self._documents.find(
            MEMBERS,
            {"_id": {"$in": member_ids}, "consents.marketing_ms": {"$ne": None}},
            projection={"_id": 1},
        )
        return {str(d["_id"]) for d in docs}

    async def _target_title(self, desk: Desk, target_type: TargetType, target_id: str) -> str:
        if target_type == "coupon":
            doc = await self._documents.find_one(COUPONS, {"_id": target_id})
            coupon = Coupon.model_validate(doc) if doc is not None else None
            if coupon is None or coupon.brand_id != desk.store.brand_id:
                raise NotFound(f"no coupon {target_id} of your brand")
            if coupon.store_id not in (None, desk.store.id):
                raise Forbidden("this coupon is for another store of the brand")
            if coupon.ends_ms <= now_ms():
                raise Invalid(f"coupon {target_id} has ended")
            return coupon.title
        doc = await self._documents.find_one(ARTICLES, {"_id": target_id})
        article = Article.model_validate(doc) if doc is not None else None
        if article is None or article.brand_id != desk.store.brand_id:
            raise NotFound(f"no article {target_id} of your brand")
        if article.status == "draft" or article.hidden:
            raise Invalid(f"article {target_id} is not published")
        return article.title

    async def _ensure_indexes(self) -> None:
        if self._indexed:
            return
        self._indexed = True
        await self._documents.create_index(DELIVERIES, [("member_id", 1), ("delivered_ms", -1)])
        await self._documents.create_index(DELIVERIES, [("campaign_id", 1)])
