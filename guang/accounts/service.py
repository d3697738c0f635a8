"""Login, members and their consents."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

from guang.accounts.code2session import Code2Session
from guang.accounts.models import Account, Principal, Role
from guang.accounts.revocations import SessionRevocations
from guang.accounts.tokens import SessionTokens
from guang.adapters.ports import DocumentStore, FeatureStore
from guang.domain.errors import Forbidden, Invalid, NotFound
from guang.domain.models import Member
from guang.services.app_events import now_ms

ConsentKind = Literal["location", "marketing", "face"]
CONSENT_KINDS: tuple[ConsentKind, ...] = ("location", "marketing", "face")
MEMBERS, CONSENT_LOG, MEMBER_CARDS, WX_SESSIONS = "members", "consent_log", "member_cards", "wx_sessions"
DEFAULT_CITY = "city-sh"


@dataclass(frozen=True)
class Session:
    token: str
    principal: Principal
    new_member: bool


def member_id_for(openid: str) -> str:
    """A stable member id that does not reveal the openid."""
    return "m-" + hashlib.sha256(openid.encode()).hexdigest()[:16]


class Accounts:
    def __init__(
        self, *, documents: DocumentStore, features: FeatureStore, code2session: Code2Session,
        tokens: SessionTokens,
    ) -> None:  # fmt: skip
        self._documents = documents
        self._features = features
        self._code2session = code2session
        self.tokens = tokens
        self.revocations = SessionRevocations(documents=documents, keep_ms=tokens.longest_ttl_s * 1000)
        """Sessions of members who deleted their data; every token check consults it."""
        tokens.check_revocations(self.revocations)

    async def login(self, *, code: str) -> Session:
        """Exchange a mini-program code for our session token; a first-time shopper becomes a member."""
        wx = await self._code2session.exchange(code)
        await self._documents.upsert(
            WX_SESSIONS,
            wx.openid,
            {"session_key": wx.session_key, "unionid": wx.unionid, "at_ms": now_ms()},
        )
        account = await self._documents.find_one("accounts", {"_id": wx.openid})
        if account is not None:
            principal = _principal_of(Account.model_validate(account))
            return Session(self.tokens.issue(principal), principal, new_member=False)
        found = await self._documents.find_one(MEMBERS, {"openid": wx.openid})
        created = found is None
        if found is None:
            member = Member(
                id=member_id_for(wx.openid), openid=wx.openid, nickname="逛友", city_id=DEFAULT_CITY,
                created_ms=now_ms(),
            )  # fmt: skip
            await self._documents.insert_one(MEMBERS, {"_id": member.id, **member.model_dump()})
            member_id = member.id
        else:
            member_id = found["id"]
        principal = Principal(subject_id=member_id, role=Role.SHOPPER)
        return Session(self.tokens.issue(principal), principal, new_member=created)

    async def member(self, member_id: str) -> Member:
        doc = await self._documents.find_one(MEMBERS, {"id": member_id})
        if doc is None:
            raise NotFound(f"no member {member_id}")
        return Member.model_validate(doc)

    async def set_consent(self, *, member_id: str, kind: ConsentKind, granted: bool) -> Member:
        """Each consent is its own flag with the time it was given; every change is logged."""
        if kind not in CONSENT_KINDS:
            raise Invalid(f"unknown consent {kind!r}; one of {', '.join(CONSENT_KINDS)}")
        now = now_ms()
        await self._documents.update_one(
            MEMBERS, {"id": member_id}, {"$set": {f"consents.{kind}_ms": now if granted else None}}
        )
        await self._documents.insert_many(
            CONSENT_LOG, [{"member_id": member_id, "kind": kind, "granted": granted, "at_ms": now}]
        )
        if kind == "face":
            await self._features.set_face_consent(member_id, granted)
        return await self.member(member_id)

    async def bind_member_card(self, *, member_id: str, brand_id: str, card_no: str) -> Member:
        """One card per brand per member, and one member per card, also under concurrent binds: the card
        is claimed first (its own document, unique by id), then attached only if the member has no card
        of that brand yet; a lost race gives the card back."""
        card_no = card_no.strip().upper()
        if not (card_no.isascii() and card_no.isalnum() and 4 <= len(card_no) <= 32):
            raise Invalid("a member card number is 4–32 letters or digits")
        if await self._documents.find_one("brands", {"_id": brand_id}) is None:
            raise NotFound(f"no brand {brand_id}")
        await self.member(member_id)
        card_id = f"{brand_id}:{card_no}"
        now = now_ms()
        if not await self._documents.insert_one(
            MEMBER_CARDS, {"_id": card_id, "member_id": member_id, "bound_ms": now}
        ):
            holder = await self._documents.find_one(MEMBER_CARDS, {"_id": card_id})
            if holder is not None and holder["member_id"] == member_id:
                raise Invalid("this card is already bound to you")
            raise Forbidden("this member card is bound to another member")
        card = {"brand_id": brand_id, "card_no": card_no, "bound_ms": now}
        attached = await self._documents.update_one(
            MEMBERS, {"id": member_id, "cards.brand_id": {"$ne": brand_id}}, {"$push": {"cards": card}}
        )
        if not attached:
            await self._documents.delete_one(MEMBER_CARDS, {"_id": card_id, "member_id": member_id})
            raise Invalid(f"a card of brand {brand_id} is already bound; unbind it first")
        return await self.member(member_id)


def _principal_of(account: Account) -> Principal:
    subject = account.staff_id if account.role is Role.STAFF and account.staff_id else account.id
    return Principal(
        subject_id=subject, role=account.role, store_id=account.store_id, brand_id=account.brand_id,
        mall_id=account.mall_id,
    )  # fmt: skip
