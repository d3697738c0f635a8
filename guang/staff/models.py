"""店员说 records: consult states (向TA咨询 attribution), shoppers' advisors, and views of posts and staff."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from guang.domain.models import Domain, Staff, StaffPost
from guang.places.models import StoreCard

TEXT_MAX = 1000
MAX_PRODUCTS = 9
REASON_MAX = 200

SHOWN_POSTS: Mapping[str, Any] = {"status": {"$ne": "draft"}, "hidden": {"$ne": True}}
"""The document filter for 店员说 posts shoppers see: published and not hidden by the mall operator.
Seeded posts carry neither field: they count as published and shown. `is_shown` is the same test."""


def is_shown(post: StaffPost) -> bool:
    """Whether shoppers see the post (the model twin of `SHOWN_POSTS`)."""
    return post.status != "draft" and not post.hidden


class ConsultSource(StrEnum):
    """Where the shopper pressed 向TA咨询; one letter of it travels in the WeCom `state`."""

    POST = "post"
    PROFILE = "profile"
    STORE = "store"
    ARTICLE = "article"
    SCREEN = "screen"

    @property
    def letter(self) -> str:
        return _LETTERS[self]


_LETTERS = {
    ConsultSource.POST: "P",
    ConsultSource.PROFILE: "F",
    ConsultSource.STORE: "S",
    ConsultSource.ARTICLE: "A",
    ConsultSource.SCREEN: "C",
}
SOURCE_OF_LETTER = {letter: source for source, letter in _LETTERS.items()}


class ConsultState(Domain):
    """One 向TA咨询: the WeCom `state` it was given (`_id`), resolvable later by the store's staff."""

    state: str
    staff_id: str
    store_id: str
    member_id: str
    source: ConsultSource
    at_ms: int


class Advisor(Domain):
    """A staff member in a shopper's 我的购物顾问; `_id` is `<member>:<staff>`, so there is one per pair."""

    member_id: str
    staff_id: str
    since_ms: int
    source: ConsultSource


class PostDraft(Domain):
    """What a publisher writes; `store_id`/`staff_id` are required of brand admins, implied for staff."""

    text: str
    product_ids: list[str]
    store_id: str | None = None
    staff_id: str | None = None


class PostEdit(Domain):
    text: str | None = None
    product_ids: list[str] | None = None


@dataclass(frozen=True)
class StaffCard:
    """A staff member as shoppers see them: never their WeCom user id."""

    id: str
    name: str
    title: str
    store: StoreCard

    @classmethod
    def of(cls, staff: Staff, store: StoreCard) -> StaffCard:
        return cls(id=staff.id, name=staff.name, title=staff.title, store=store)


@dataclass(frozen=True)
class PostView:
    post: StaffPost
    author: StaffCard


@dataclass(frozen=True)
class AdvisorView:
    advisor: Advisor
    staff: StaffCard


@dataclass(frozen=True)
class ConsultTicket:
    """What 向TA咨询 hands back: the 联系我 QR URL carrying `state`, and whether the advisor is new."""

    qr_url: str
    state: str
    staff: StaffCard
    advisor_since_ms: int
    new_advisor: bool


@dataclass(frozen=True)
class ConsultRecord:
    """A resolved state: who consulted whom, from where and when (for the store's own staff)."""

    consult: ConsultState
    staff: StaffCard
    member_nickname: str
