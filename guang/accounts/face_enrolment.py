"""Face enrolment on in-store devices, and keeping every device's gallery in line with consent (DESIGN §6).

A shopper who has given face consent asks the mini-program for a one-time enrolment code and shows it at
an in-store kiosk. The kiosk (the store's edge box) embeds the face locally and redeems the code here:
the server learns only that this member is enrolled on that device, never the image or the embedding.
Every device syncs every few seconds with the member ids in its gallery, and is told which to delete:
those whose face consent is no longer active (withdrawn, or the member deleted). Pulling the whole set
rather than a feed of revocations means a device that was offline or missed a message still converges.
Every match a device reports is audit-logged (`face_matches`).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from guang.adapters.ports import DocumentStore, FeatureStore
from guang.domain.errors import Forbidden, Invalid, NotFound
from guang.domain.models import Device
from guang.services.app_events import now_ms

ENROLMENT_CODES = "face_enrolment_codes"
ENROLMENTS = "face_enrolments"
GALLERIES = "edge_galleries"
MATCHES = "face_matches"
CODE_TTL_MS = 5 * 60 * 1000
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_LENGTH = 8
MAX_GALLERY = 10_000


@dataclass(frozen=True)
class EnrolmentCode:
    code: str
    expires_ms: int


def _normalised(code: str) -> str:
    return code.strip().upper().replace("-", "").replace(" ", "")


class FaceEnrolments:
    def __init__(self, *, documents: DocumentStore, features: FeatureStore) -> None:
        self._documents = documents
        self._features = features
        self._recorded: dict[str, tuple[int, int]] = {}

    async def _consented(self, member_id: str) -> bool:
        return member_id in await self._features.face_consented([member_id])

    async def issue_code(self, *, member_id: str) -> EnrolmentCode:
        """A one-time code to show at a kiosk; only with active face consent."""
        if not await self._consented(member_id):
            raise Forbidden("give face consent first (setConsent FACE) to enrol at a store's kiosk")
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        expires = now_ms() + CODE_TTL_MS
        await self._documents.insert_one(
            ENROLMENT_CODES, {"_id": code, "member_id": member_id, "expires_ms": expires}
        )
        return EnrolmentCode(code=code, expires_ms=expires)

    async def redeem(self, *, code: str, device: Device) -> str:
        """The member a kiosk may enrol with this code (used up now), recorded as enrolled on `device`."""
        key = _normalised(code)
        if not (key.isalnum() and len(key) == CODE_LENGTH):
            raise Invalid(f"an enrolment code is {CODE_LENGTH} letters and digits")
        found = await self._documents.find_one(ENROLMENT_CODES, {"_id": key})
        if found is None or not await self._documents.delete_one(ENROLMENT_CODES, {"_id": key}):
            raise NotFound("unknown or already used enrolment code")
        if found["expires_ms"] < now_ms():
            raise NotFound("this enrolment code has expired; ask for a new one in the mini-program")
        member_id: str = found["member_id"]
        if not await self._consented(member_id):
            raise Forbidden("this member's face consent is not active")
        await self._documents.upsert(
            ENROLMENTS,
            f"{device.id}:{member_id}",
            {"member_id": member_id, "device_id": device.id, "store_id": device.store_id,
             "mall_id": device.mall_id, "enrolled_ms": now_ms()},
        )  # fmt: skip
        return member_id

    async def sync(self, *, device: Device, members: Sequence[str], version: int) -> list[str]:
        """Which of the device's gallery members it must delete now; records the gallery's version."""
        if len(members) > MAX_GALLERY:
            raise Invalid(f"a gallery of more than {MAX_GALLERY} members is not supported")
        listed = list(dict.fromkeys(members))
        consented = await self._features.face_consented(listed)
        remove = [m for m in listed if m not in consented]
        if remove:
            await self._documents.delete_many(
                ENROLMENTS, {"_id": {"$in": [f"{device.id}:{member_id}" for member_id in remove]}}
            )
        state = (version, len(listed) - len(remove))
        if self._recorded.get(device.id) == state:
            return remove
        self._recorded[device.id] = state
        await self._documents.upsert(
            GALLERIES,
            device.id,
            {"device_id": device.id, "store_id": device.store_id, "version": version,
             "members": len(listed) - len(remove), "synced_ms": now_ms()},
        )  # fmt: skip
        return remove

    async def audit(self, events: Sequence[Mapping[str, Any]], *, device: Device) -> int:
        """Log each face match a device reported (accepted face events that name a member)."""
        logged = now_ms()
        rows = [
            {"member_id": e["user_id"], "device_id": device.id, "store_id": e.get("store_id"),
             "zone_id": e.get("zone_id"), "action": e.get("action"), "score": e.get("match_score"),
             "event_id": e.get("event_id"), "ts_ms": e.get("ts_ms"), "logged_ms": logged}
            for e in events
            if e.get("type") == "face" and e.get("user_id")
        ]  # fmt: skip
        if rows:
            await self._documents.insert_many(MATCHES, rows)
        return len(rows)
