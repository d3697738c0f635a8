"""Turns one dataflow signal into the alerts it owes: whose client arrived, where, what they looked at
and what to show them (the GUIDE list)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace

from guang.accounts.service import MEMBERS
from guang.adapters.ports import DocumentStore, FeatureStore
from guang.domain import keys
from guang.domain.events import member_subject
from guang.domain.features import SubjectFeatures, top
from guang.domain.signals import Signal
from guang.guide_inbox.models import GuideAlert, LookedAt, Suggestion
from guang.guide_inbox.routing import (
    ALERTING,
    Cooldown,
    StaffPlace,
    client_of,
    consented,
    place_of,
    recipients,
)
from guang.places.directory import Directories, Directory
from guang.services.app_events import now_ms
from guang.services.catalog import Catalog
from guang.staff.service import ADVISORS
from recsys.models import RecList, Surface
from recsys.service import Recommender

TOP_CATEGORIES = 3


class GuideInbox:
    def __init__(
        self, *, documents: DocumentStore, features: FeatureStore, recommender: Recommender, catalog: Catalog,
        directories: Directories, items: int, cooldown_s: int,
    ) -> None:  # fmt: skip
        self._documents = documents
        self._features = features
        self._recommender = recommender
        self._catalog = catalog
        self._directories = directories
        self._items = items
        self._cooldown = Cooldown(window_ms=cooldown_s * 1000)

    async def alerts_for(self, signal: Signal) -> list[GuideAlert]:
        """One alert per advisor of the client the signal concerns (none for visitors, other stores, a
        consent not given, or a repeat within the cooldown)."""
        member_id = client_of(signal)
        if member_id is None:
            return []
        how = ALERTING[signal.kind]
        advisors = await self._documents.find(ADVISORS, {"member_id": member_id}, projection={"staff_id": 1})
        staff_ids = [str(d["staff_id"]) for d in advisors]
        if not staff_ids:
            return []
        stores = [signal.store_id] if signal.store_id else []
        directory = await self._directories.covering(staff=staff_ids, stores=stores)
        chosen = recipients(signal, _places(directory, staff_ids))
        if not chosen:
            return []
        member = await self._documents.find_one(MEMBERS, {"_id": member_id})
        if member is None or not consented(how, member.get("consents")):
            return []
        place = place_of(signal)
        chosen = [a for a in chosen if self._cooldown.admit(a.staff_id, member_id, place, signal.ts_ms)]
        if not chosen:
            return []
        looked_at, categories = await self._interest(member_id, directory)
        store_ids = sorted({a.store_id for a in chosen})
        lists = await asyncio.gather(*(self._suggest(member_id, store_id) for store_id in store_ids))
        by_store = dict(zip(store_ids, lists, strict=True))
        mall = directory.malls.get(signal.mall_id)
        store = directory.stores.get(signal.store_id) if signal.store_id else None
        about = GuideAlert(
            alert_id=signal.dedupe_id, staff_id="", member_id=member_id,
            nickname=str(member.get("nickname", "")), how=how, signal=signal.kind, mall_id=signal.mall_id,
            mall_name=mall.name if mall else "", store_id=store.id if store else None,
            store_name=store.name if store else None, at_ms=signal.ts_ms, event_id=signal.event_id, rec_id="",
            top_categories=categories,
        )  # fmt: skip
        return [_addressed(about, a, by_store[a.store_id], looked_at) for a in chosen]

    async def _suggest(self, member_id: str, store_id: str) -> RecList:
        return await self._recommender.for_member(
            member_id, limit=self._items, surface=Surface.GUIDE, store_id=store_id
        )

    async def _interest(
        self, member_id: str, directory: Directory
    ) -> tuple[LookedAt | None, tuple[str, ...]]:
        """The last shelf and top categories; the feature store leaves camera-derived interest out unless
        the member's face consent is active now. The shelf is shown only to staff of its own store."""
        people, _ = await self._features.audience(
            [member_subject(member_id)], surface=Surface.GUIDE.value, day=keys.local_day(now_ms())
        )
        features: SubjectFeatures | None = people[0] if people else None
        if features is None:
            return None, ()
        categories = tuple(top(features.category_scores, TOP_CATEGORIES))
        dwell = features.last_dwell
        if dwell is None:
            return None, categories
        zone = self._catalog.zones.get(dwell.zone_id)
        store = directory.stores.get(dwell.store_id)
        looked = LookedAt(
            store_id=dwell.store_id, store_name=store.name if store else "", zone_id=dwell.zone_id,
            zone_name=zone.name if zone else dwell.zone_id, category=dwell.category, dwell_ms=dwell.dwell_ms,
        )  # fmt: skip
        return looked, categories


def _addressed(about: GuideAlert, staff: StaffPlace, recs: RecList, looked_at: LookedAt | None) -> GuideAlert:
    """The alert about a client as one advisor gets it: their store's list, and its shelf only."""
    return replace(
        about,
        alert_id=f"{about.alert_id}:{staff.staff_id}",
        staff_id=staff.staff_id,
        rec_id=recs.rec_id,
        looked_at=looked_at if looked_at is not None and looked_at.store_id == staff.store_id else None,
        suggestions=tuple(Suggestion(i.product.id, i.score, i.reason) for i in recs.items),
    )


def _places(directory: Directory, staff_ids: Sequence[str]) -> list[StaffPlace]:
    places = []
    for staff_id in staff_ids:
        staff = directory.staff.get(staff_id)
        store = directory.stores.get(staff.store_id) if staff is not None else None
        if staff is not None and store is not None:
            places.append(StaffPlace(staff_id, staff.store_id, store.mall_id))
    return places
