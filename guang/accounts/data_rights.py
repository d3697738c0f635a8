"""A member's data rights (DESIGN §6): export everything we hold about them, and delete it.

Deletion spans every domain, so it lives here and works through the ports only. It is idempotent and safe
to retry after a crash midway: the member's sessions are revoked first (nothing new is written for them
while it runs), every step tolerates data already gone, and the member document, which carries the
deletion's tombstone id, is removed last, so a retry reuses the same tombstone.

What is kept: orders (with their items) and redeemed coupon claims, for accounting, de-identified — their
`member_id` becomes the tombstone id (`deleted-<random>`, linked to nothing) and the order's `openid` is
cleared. Payment notifications hold no member data. Comments are deleted, not tombstoned: comments are
flat (nothing replies to or quotes one), so a placeholder would keep no value and only a trace.
`data_rights_log` records each deletion by tombstone with counts per collection, never who it was.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from guang.accounts.face_enrolment import ENROLMENT_CODES, ENROLMENTS, MATCHES
from guang.accounts.revocations import SessionRevocations
from guang.accounts.service import CONSENT_LOG, MEMBER_CARDS, MEMBERS, WX_SESSIONS
from guang.adapters.ports import DocumentStore, EventBus, FeatureStore
from guang.clienteling.models import DELIVERIES, LINKS, NOTES, TAG_LOG, TAGGED
from guang.content.models import COMMENTS, LIKES, SHARE_LINKS
from guang.coupons.service import CLAIMS, COUPONS, EXIT_OFFERS, QUOTAS
from guang.domain.errors import Invalid, NotFound
from guang.domain.events import member_subject
from guang.payments.service import ORDERS
from guang.places.service import FOLLOWS
from guang.services.app_events import now_ms
from guang.staff.service import ADVISORS
from guang.staff.service import STATES as CONSULT_STATES

CONFIRM = "DELETE"
EXPORT_CAP = 1000
"""Documents exported per collection (and events, feature keys): beyond it the export says it is cut."""
PAGE = 200
LOG = "data_rights_log"

BY_MEMBER = (
    CONSENT_LOG, MEMBER_CARDS, FOLLOWS, LIKES, COMMENTS, ADVISORS, CONSULT_STATES, CLAIMS, QUOTAS,
    EXIT_OFFERS, ORDERS, SHARE_LINKS, ENROLMENTS, MATCHES, LINKS, TAGGED, TAG_LOG, NOTES, DELIVERIES, LOG,
)  # fmt: skip
"""Exported by `member_id`, in this order."""
DELETED_BY_MEMBER = (
    FOLLOWS, ADVISORS, CONSULT_STATES, QUOTAS, EXIT_OFFERS, SHARE_LINKS, MEMBER_CARDS, ENROLMENT_CODES,
    ENROLMENTS, MATCHES, LINKS, TAGGED, TAG_LOG, NOTES, DELIVERIES,
)  # fmt: skip
"""Deleted outright by `member_id` (likes, comments, claims and consents have steps of their own)."""


class ArticleCounts(Protocol):
    """The content domain's in-memory like and comment counts, put right after a deletion."""

    async def recount(self, article_id: str) -> None: ...
    def forget_likes(self, member_id: str) -> None: ...


@dataclass(frozen=True)
class DataExport:
    document: dict[str, Any]
    generated_at_ms: int
    truncated: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(self.document, ensure_ascii=False, default=str, sort_keys=True)


@dataclass(frozen=True)
class Deletion:
    counts: dict[str, int]
    """What went (or was de-identified), per collection or store; all zero when there was nothing left."""
    at_ms: int


def _plain(doc: Mapping[str, Any]) -> dict[str, Any]:
    return {k: str(v) if k == "_id" else v for k, v in doc.items()}


class MemberAlerts(Protocol):
    """The guide inbox's recent alerts, which name the member to their advisors for a day."""

    async def forget_member(self, member_id: str) -> int: ...


class DataRights:
    def __init__(
        self, *, documents: DocumentStore, features: FeatureStore, bus: EventBus,
        revocations: SessionRevocations, articles: ArticleCounts | None = None,
        guide_alerts: MemberAlerts | None = None,
    ) -> None:  # fmt: skip
        self._documents = documents
        self._features = features
        self._bus = bus
        self._revocations = revocations
        self._articles = articles
        self._guide_alerts = guide_alerts

    # ---- export

    async def export(self, *, member_id: str) -> DataExport:
        """Everything held about the member, as one JSON-able document; capped per part, and says so."""
        member = await self._documents.find_one(MEMBERS, {"id": member_id})
        if member is None:
            raise NotFound(f"no member {member_id}")
        at = now_ms()
        truncated: list[str] = []
        document: dict[str, Any] = {
            "about": "Everything guang holds about you, as of generated_at_ms. Parts cut at "
            f"{EXPORT_CAP} entries are listed in `truncated`.",
            "generated_at_ms": at,
            "profile": _plain(member),
        }
        for collection in BY_MEMBER:
            docs = await self._documents.find(
                collection, {"member_id": member_id}, sort=[("_id", 1)], limit=EXPORT_CAP + 1
            )
            if len(docs) > EXPORT_CAP:
                truncated.append(collection)
            document[collection] = [_plain(d) for d in docs[:EXPORT_CAP]]
        session = await self._documents.find_one(WX_SESSIONS, {"_id": member.get("openid", "")})
        if session is not None:  # the WeChat session key is a server secret: its existence, not its value
            document[WX_SESSIONS] = [{"unionid": session.get("unionid"), "at_ms": session.get("at_ms")}]
        subject = member_subject(member_id)
        features = await self._features.subject_data(subject, member_id, max_keys=EXPORT_CAP)
        if features.truncated:
            truncated.append("features")
        document["features"] = {
            "subject": subject,
            "keys": dict(features.keys),
            "present_in_stores": dict(features.present_in),
            "face_consent_active": features.face_consent,
        }
        events, more = await self._bus.events_of(member_id, limit=EXPORT_CAP)
        if more:
            truncated.append("events")
        document["events_on_bus"] = events
        document["truncated"] = truncated
        await self._documents.insert_many(LOG, [{"member_id": member_id, "action": "export", "at_ms": at}])
        return DataExport(document=document, generated_at_ms=at, truncated=truncated)

    # ---- deletion

    async def delete(self, *, member_id: str, confirm: str) -> Deletion:
        """Delete the member's data everywhere (see the module docstring); a repeat finds nothing to do."""
        if confirm != CONFIRM:
            raise Invalid(f'to delete all your data, confirm with exactly "{CONFIRM}" (got {confirm[:20]!r})')
        started = now_ms()
        member = await self._documents.find_one(MEMBERS, {"id": member_id})
        tombstone = await self._tombstone(member, member_id, started)
        await self._revocations.revoke(member_id, at_ms=started)
        counts: dict[str, int] = {}
        # bus before features: what the dataflow has not read yet cannot bring features back
        counts["bus_events"] = await self._bus.delete_events_of(member_id)
        forgotten = await self._features.forget_subject(member_subject(member_id), member_id)
        counts |= {f"features_{name}": n for name, n in forgotten.items()}
        if self._guide_alerts is not None:
            counts["guide_alerts"] = await self._guide_alerts.forget_member(member_id)
        counts[LIKES] = await self._delete_counted(LIKES, member_id)
        counts[COMMENTS] = await self._delete_counted(COMMENTS, member_id)
        if self._articles is not None:
            self._articles.forget_likes(member_id)
        for collection in DELETED_BY_MEMBER:
            counts[collection] = await self._documents.delete_many(collection, {"member_id": member_id})
        counts[CLAIMS], counts[f"{CLAIMS}_kept"] = await self._claims(member_id, tombstone)
        counts[ORDERS + "_kept"] = await self._reassign(
            ORDERS, member_id, {"member_id": tombstone, "openid": ""}
        )
        counts[CONSENT_LOG] = await self._documents.delete_many(CONSENT_LOG, {"member_id": member_id})
        counts[LOG] = await self._reassign(LOG, member_id, {"member_id": tombstone})
        if member is not None and member.get("openid"):
            counts[WX_SESSIONS] = int(
                await self._documents.delete_one(WX_SESSIONS, {"_id": member["openid"]})
            )
        at = now_ms()
        if member is not None or any(counts.values()):
            await self._log(tombstone, counts, started=started, at=at)
        counts[MEMBERS] = int(await self._documents.delete_one(MEMBERS, {"id": member_id}))
        return Deletion(counts=counts, at_ms=at)

    async def _tombstone(self, member: Mapping[str, Any] | None, member_id: str, now: int) -> str:
        """The deletion's tombstone id, kept on the member document so a retry reuses it."""
        if member is not None and member.get("deletion", {}).get("tombstone"):
            return str(member["deletion"]["tombstone"])
        tombstone = f"deleted-{uuid.uuid4().hex[:16]}"
        if member is None:
            return tombstone
        deletion = {"tombstone": tombstone, "started_ms": now}
        await self._documents.update_one(
            MEMBERS, {"id": member_id, "deletion": {"$exists": False}}, {"$set": {"deletion": deletion}}
        )
        again = await self._documents.find_one(MEMBERS, {"id": member_id})
        return str(((again or {}).get("deletion") or deletion)["tombstone"])  # a concurrent run's, if it won

    async def _delete_counted(self, collection: str, member_id: str) -> int:
        """Delete the member's likes or comments, then recount the articles they were on."""
        rows = await self._documents.find(collection, {"member_id": member_id}, projection={"article_id": 1})
        deleted = await self._documents.delete_many(collection, {"member_id": member_id})
        if self._articles is not None:
            for article_id in sorted({str(r["article_id"]) for r in rows}):
                await self._articles.recount(article_id)
        return deleted

    async def _claims(self, member_id: str, tombstone: str) -> tuple[int, int]:
        """Unredeemed claims are deleted and their unit of stock given back to the coupon; redeemed ones are
        kept for accounting under the tombstone. (A crash between a claim's delete and its stock return
        loses that one unit of stock, never more.)"""
        deleted, progress = 0, True
        while progress and (
            rows := await self._documents.find(
                CLAIMS, {"member_id": member_id, "status": {"$ne": "redeemed"}}, limit=PAGE
            )
        ):
            progress = False
            for claim in rows:
                unredeemed = {"_id": claim["_id"], "status": {"$ne": "redeemed"}}
                if await self._documents.delete_one(CLAIMS, unredeemed):
                    deleted, progress = deleted + 1, True
                    await self._documents.update_one(
                        COUPONS, {"_id": claim["coupon_id"], "claimed": {"$gt": 0}}, {"$inc": {"claimed": -1}}
                    )
        kept = await self._reassign(CLAIMS, member_id, {"member_id": tombstone})
        return deleted, kept

    async def _reassign(self, collection: str, member_id: str, changes: Mapping[str, Any]) -> int:
        """De-identify the member's documents in `collection`, page by page (each update conditional)."""
        done, progress = 0, True
        while progress and (
            rows := await self._documents.find(
                collection, {"member_id": member_id}, projection={"_id": 1}, limit=PAGE
            )
        ):
            progress = False
            for row in rows:
                if await self._documents.update_one(
                    collection, {"_id": row["_id"], "member_id": member_id}, {"$set": dict(changes)}
                ):
                    done, progress = done + 1, True
        return done

    async def _log(self, tombstone: str, counts: Mapping[str, int], *, started: int, at: int) -> None:
        """One audit record per deletion, without personal data; a retry adds its counts to it."""
        await self._documents.update_one(
            LOG,
            {"_id": f"delete:{tombstone}"},
            {
                "$setOnInsert": {"member_id": tombstone, "action": "delete", "started_ms": started},
                "$set": {"at_ms": at},
                "$inc": {f"counts.{name}": n for name, n in counts.items()},
            },
            upsert=True,
        )
