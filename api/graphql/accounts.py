"""Login, the caller's own member profile, consents and member cards."""

from __future__ import annotations

from enum import Enum
from typing import Any

import strawberry
from strawberry.types import Info

from api.graphql.context import limit, require, require_member, services
from guang.accounts.models import Principal
from guang.accounts.models import Role as RoleEnum
from guang.domain.models import Member as MemberModel

Role = strawberry.enum(RoleEnum, description="What a session may do")


@strawberry.enum(description="Separately given consents (DESIGN §6)")
class ConsentKind(Enum):
    LOCATION = "location"
    MARKETING = "marketing"
    FACE = "face"


@strawberry.type(description="A consent flag: given when `grantedAtMs` is set")
class Consent:
    kind: ConsentKind
    granted: bool
    granted_at_ms: float | None


@strawberry.type
class MemberCard:
    brand_id: str
    card_no: str
    bound_at_ms: float


@strawberry.type
class Member:
    id: str
    nickname: str
    city_id: str
    consents: list[Consent]
    cards: list[MemberCard]


@strawberry.type
class Viewer:
    subject_id: str
    role: Role  # type: ignore[valid-type]
    store_id: str | None
    brand_id: str | None
    mall_id: str | None
    demo: bool = strawberry.field(
        description="The server runs as a demo: simulatePayment and simulateDwell work, logins are demo codes"
    )


@strawberry.type
class LoginResult:
    token: str
    expires_in_s: int
    new_member: bool
    viewer: Viewer


@strawberry.type(description="Everything guang holds about the calling member, as one JSON document")
class DataExport:
    json: str = strawberry.field(
        description="The document: profile, consents and their log, member cards, follows, likes, comments, "
        "advisors, consult states, coupon claims, orders with items, share links, live features and events "
        "still on the bus. Parts longer than the cap are cut and named in `truncated`"
    )
    generated_at_ms: float
    truncated: list[str]


@strawberry.type(description="A one-time code to show at a store's face-enrolment kiosk")
class FaceEnrolmentCode:
    code: str
    expires_at_ms: float


@strawberry.type(description="One collection or store and how many of the member's entries were handled")
class DeletedCount:
    name: str
    count: int


@strawberry.type
class DataDeletion:
    counts: list[DeletedCount] = strawberry.field(
        description="Per collection or store: deleted, or, for names ending in `_kept`, de-identified"
    )
    at_ms: float


def viewer_of(who: Principal, *, demo: bool) -> Viewer:
    return Viewer(
        subject_id=who.subject_id, role=who.role, store_id=who.store_id, brand_id=who.brand_id,
        mall_id=who.mall_id, demo=demo,
    )  # fmt: skip


def member_of(m: MemberModel) -> Member:
    consents = [
        Consent(kind=kind, granted=at is not None, granted_at_ms=float(at) if at is not None else None)
        for kind in ConsentKind
        for at in [getattr(m.consents, f"{kind.value}_ms")]
    ]
    cards = [
        MemberCard(brand_id=c.brand_id, card_no=c.card_no, bound_at_ms=float(c.bound_ms)) for c in m.cards
    ]
    return Member(id=m.id, nickname=m.nickname, city_id=m.city_id, consents=consents, cards=cards)


@strawberry.type
class Query:
    @strawberry.field(description="Who this session is")
    def viewer(self, info: Info[Any, Any]) -> Viewer:
        return viewer_of(require(info), demo=services(info).container.settings.demo)

    @strawberry.field(description="The calling shopper's member profile, consents and cards")
    async def me(self, info: Info[Any, Any]) -> Member:
        return member_of(await services(info).accounts.member(require_member(info)))

    @strawberry.field(description="Export everything guang holds about the calling shopper (DESIGN §6)")
    async def export_my_data(self, info: Info[Any, Any]) -> DataExport:
        export = await services(info).data_rights.export(member_id=require_member(info))
        return DataExport(
            json=export.to_json(), generated_at_ms=float(export.generated_at_ms), truncated=export.truncated
        )


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Exchange a mini-program login code (demo: `demo:<openid>`) for a session"
    )
    async def login(self, info: Info[Any, Any], code: str) -> LoginResult:
        app = services(info)
        await limit(info, "login", per_min=app.container.settings.login_rate_per_min)
        session = await app.accounts.login(code=code)
        return LoginResult(
            token=session.token,
            expires_in_s=app.accounts.tokens.ttl_for(session.principal.role),
            new_member=session.new_member,
            viewer=viewer_of(session.principal, demo=app.container.settings.demo),
        )

    @strawberry.mutation(description="Give or withdraw one consent; face consent gates recognition at once")
    async def set_consent(self, info: Info[Any, Any], kind: ConsentKind, granted: bool) -> Member:
        member = await services(info).accounts.set_consent(
            member_id=require_member(info), kind=kind.value, granted=granted
        )
        return member_of(member)

    @strawberry.mutation(
        description='Delete the calling shopper\'s data and account; `confirm` must be exactly "DELETE". '
        "Follows, likes, comments, advisors, consult states, unredeemed coupon claims, share links, member "
        "cards, consents, live features, presence, face consent and their events on the bus are deleted. "
        "Orders and redeemed claims are kept for accounting but de-identified (the member id is replaced "
        "by a tombstone id, the openid cleared). The session ends: every later call with it is "
        "UNAUTHENTICATED. Safe to retry"
    )
    async def delete_my_data(self, info: Info[Any, Any], confirm: str) -> DataDeletion:
        done = await services(info).data_rights.delete(member_id=require_member(info), confirm=confirm)
        counts = [DeletedCount(name=name, count=n) for name, n in sorted(done.counts.items())]
        return DataDeletion(counts=counts, at_ms=float(done.at_ms))

    @strawberry.mutation(
        description="A one-time code (valid 5 minutes) to enrol your face at a store's kiosk; needs active "
        "face consent. The kiosk keeps your face on the store's own device; withdrawing consent deletes "
        "it there"
    )
    async def face_enrolment_code(self, info: Info[Any, Any]) -> FaceEnrolmentCode:
        issued = await services(info).face_enrolments.issue_code(member_id=require_member(info))
        return FaceEnrolmentCode(code=issued.code, expires_at_ms=float(issued.expires_ms))

    @strawberry.mutation(description="Bind a brand's member card to the calling shopper")
    async def bind_member_card(self, info: Info[Any, Any], brand_id: str, card_no: str) -> Member:
        member = await services(info).accounts.bind_member_card(
            member_id=require_member(info), brand_id=brand_id, card_no=card_no
        )
        return member_of(member)
