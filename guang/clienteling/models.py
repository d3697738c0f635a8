"""Clienteling records (one collection each) and the views services hand to the API."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from pydantic import Field

from guang.domain.models import Domain, Order

LINKS, LIBRARY, TAGGED, TAG_LOG, NOTES = (
    "client_links", "client_tag_library", "client_tagged", "client_tag_log", "client_notes"
)  # fmt: skip
GROUPS, CAMPAIGNS, DELIVERIES = "client_groups", "client_campaigns", "campaign_deliveries"
NOTE_MAX = 500
NOTES_SHOWN = 20
TAG_NAME_MAX = 20
MAX_TAGS_PER_CALL = 20


class TagGroup(StrEnum):
    STYLE = "style"
    SIZE = "size"
    BUDGET = "budget"
    OCCASION = "occasion"
    LIFE_STAGE = "life_stage"
    CATEGORY = "category"

    @property
    def label(self) -> str:
        return GROUP_LABELS[self]


GROUP_LABELS = {
    TagGroup.STYLE: "风格",
    TagGroup.SIZE: "尺码",
    TagGroup.BUDGET: "预算",
    TagGroup.OCCASION: "场合",
    TagGroup.LIFE_STAGE: "人生阶段",
    TagGroup.CATEGORY: "品类偏好",
}


class ClientSource(StrEnum):
    """How a shopper became someone's client."""

    ADVISOR = "advisor"
    """Added them through 向TA咨询 (我的购物顾问)."""
    SHARE_LINK_ORDER = "share_link_order"
    """Bought through their share link (an order with `guide_id` = them)."""
    REASSIGNED = "reassigned"
    """Handed over from a colleague."""


class ClientTag(Domain):
    """A tag of a brand's library. `categories` and the unit-price band say which purchases confirm it
    (the tag audit); a tag with neither is not auditable."""

    id: str
    group: TagGroup
    name: str
    brand_id: str | None = None
    """None: the default library every brand gets."""
    categories: list[str] = Field(default_factory=list)
    min_price_fen: int | None = None
    """Inclusive lower bound of a confirming item's unit price."""
    max_price_fen: int | None = None
    """Exclusive upper bound of a confirming item's unit price."""
    created_by: str | None = None
    created_ms: int = 0

    @property
    def auditable(self) -> bool:
        return bool(self.categories) or self.min_price_fen is not None or self.max_price_fen is not None


class ClientLink(Domain):
    """A client relationship. `_id` is `<origin_staff_id>:<member_id>`: made once per staff member who won
    the client (advisor or share-link order); `staff_id` is who holds the client now (moves on reassignment).
    """

    member_id: str
    staff_id: str
    store_id: str
    origin_staff_id: str
    since_ms: int
    reassigned_from: str | None = None
    reassigned_ms: int | None = None


class TagMark(Domain):
    """A tag on a client of a store; `_id` is `<store>:<member>:<tag>`, so a tag is on a client once."""

    store_id: str
    member_id: str
    tag_id: str
    by_staff_id: str
    at_ms: int


class TagChange(Domain):
    """One tag or untag, kept for the audit trail: who changed what and when."""

    store_id: str
    member_id: str
    tag_id: str
    action: Literal["tag", "untag"]
    by_staff_id: str
    at_ms: int


class ClientNote(Domain):
    id: str
    store_id: str
    member_id: str
    by_staff_id: str
    text: str
    at_ms: int


class ClientGroup(Domain):
    """A staff member's saved rule (see rules.parse_rule), evaluated on their client book when used."""

    id: str
    staff_id: str
    store_id: str
    name: str
    rule: dict[str, Any]
    created_ms: int


TargetType = Literal["coupon", "article"]


class Campaign(Domain):
    id: str
    group_id: str
    staff_id: str
    store_id: str
    brand_id: str
    target_type: TargetType
    target_id: str
    title: str
    message: str
    sent_ms: int
    delivered: int
    skipped_no_consent: int


class Delivery(Domain):
    """One campaign message in a shopper's inbox; `_id` is `<campaign>:<member>`."""

    campaign_id: str
    member_id: str
    staff_id: str
    target_type: TargetType
    target_id: str
    title: str
    message: str
    delivered_ms: int
    opened_ms: int | None = None
    staff_name: str = ""
    store_name: str = ""


@dataclass(frozen=True)
class Interests:
    """What the dataflow learnt from cameras (only with an active face consent)."""

    top_categories: list[str]
    last_dwell_zone_id: str | None
    last_dwell_category: str | None
    seen_ms: int
    seen_store_id: str | None


@dataclass(frozen=True)
class AppliedTag:
    tag: ClientTag
    mark: TagMark


@dataclass(frozen=True)
class ClientView:
    member_id: str
    nickname: str
    since_ms: int
    sources: list[ClientSource]
    reassigned_from: str | None
    tags: list[AppliedTag]
    notes: list[ClientNote]
    orders: list[Order]
    """Purchases at the brand's stores, newest first."""
    interests: Interests | None
    last_visit_ms: int | None
    marketing_consent: bool


@dataclass(frozen=True)
class Reassignment:
    moved: int
    advisors_moved: int
    from_staff_id: str
    to_staff_id: str


@dataclass(frozen=True)
class CampaignSent:
    campaign: Campaign
    member_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CampaignResults:
    campaign: Campaign
    delivered: int
    opened: int
    claimed: int
    redeemed: int
