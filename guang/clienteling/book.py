"""A staff member's client book: who their clients are, and each client's card.

Clients are the shoppers who added the staff member as advisor (`advisors`) or paid through their share
links (orders with `guide_id`). Each such pair becomes a `client_links` document once (`sync`); the link
then follows the client when a brand admin hands the book to a colleague, so the origin (advisor, order)
never pulls a reassigned client back. Tags and notes belong to the client at the store, not to a staff
member: a reassignment keeps them, with who wrote them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from guang.accounts.models import Principal
from guang.accounts.service import MEMBERS
from guang.adapters.ports import BackendUnavailable, DocumentStore, FeatureStore
from guang.clienteling.library import library_of
from guang.clienteling.models import (
    LINKS,
    NOTES,
    NOTES_SHOWN,
    TAGGED,
    AppliedTag,
    ClientLink,
    ClientNote,
    ClientSource,
    ClientTag,
    ClientView,
    Interests,
    TagMark,
)
from guang.clienteling.rules import ClientFacts, Purchase
from guang.domain import keys
from guang.domain.errors import Forbidden, NotFound
from guang.domain.events import member_subject
from guang.domain.models import Order, Staff, Store
from guang.payments.service import ORDERS
from guang.places.directory import Directories
from guang.services.app_events import now_ms
from guang.services.catalog import Catalog
from guang.staff.service import ADVISORS

TOP_CATEGORIES = 3
SURFACE = "GUIDE"


def link_id(origin_staff_id: str, member_id: str) -> str:
    return f"{origin_staff_id}:{member_id}"


@dataclass(frozen=True)
class Desk:
    """The calling staff member with their store and the brand's stores."""

    staff: Staff
    store: Store
    brand_stores: list[str]


@dataclass(frozen=True)
class Held:
    """One client as held now: the earliest relationship and the latest handover."""

    member_id: str
    since_ms: int
    reassigned_from: str | None


def held(links: Sequence[ClientLink]) -> list[Held]:
    """One entry per member (a client may have come both ways, or been handed over), newest first."""
    by_member: dict[str, list[ClientLink]] = {}
    for link in links:
        by_member.setdefault(link.member_id, []).append(link)
    found = []
    for member_id, own in by_member.items():
        moved = max(own, key=lambda link: link.reassigned_ms or 0)
        found.append(Held(member_id, min(link.since_ms for link in own), moved.reassigned_from))
    return sorted(found, key=lambda h: (-h.since_ms, h.member_id))


def purchases_of(orders: Sequence[Order], catalog: Catalog) -> dict[str, list[Purchase]]:
    """Member id → order lines (with the product's category) for the rules and the audit."""
    found: dict[str, list[Purchase]] = {}
    for order in orders:
        lines = found.setdefault(order.member_id, [])
        for item in order.items:
            product = catalog.products.get(item.sku_id)
            category = product.category if product is not None else ""
            lines.append(Purchase(order.id, order.paid_ms, category, item.price_fen, item.qty))
    return found


class ClientBook:
    def __init__(
        self, *, documents: DocumentStore, features: FeatureStore, directories: Directories, catalog: Catalog
    ) -> None:
        self._documents = documents
        self._features = features
        self._directories = directories
        self._catalog = catalog
        self._indexed = False

    # ---- who is asking

    async def desk(self, who: Principal) -> Desk:
        """The calling staff member's desk (FORBIDDEN for anyone else)."""
        if who.staff_id is None:
            raise Forbidden("only staff members have a client book")
        return await self.desk_of(who.staff_id)

    async def desk_of(self, staff_id: str) -> Desk:
        places = await self._directories.covering(staff=[staff_id])
        staff = places.staff.get(staff_id)
        store = places.stores.get(staff.store_id) if staff is not None else None
        if staff is None or store is None:
            raise NotFound(f"no staff member {staff_id}")
        brand_stores = sorted(s.id for s in places.stores.values() if s.brand_id == store.brand_id)
        return Desk(staff=staff, store=store, brand_stores=brand_stores)

    # ---- membership

    async def sync(self, staff: Staff) -> None:
        """Make a link for every advisor and share-link buyer of `staff` not linked yet (idempotent)."""
        await self._ensure_indexes()
        advisors = await self._documents.find(
            ADVISORS, {"staff_id": staff.id}, projection={"member_id": 1, "since_ms": 1}
        )
        guided = await self._documents.find(
            ORDERS, {"guide_id": staff.id, "status": {"$ne": "pending"}},
            projection={"member_id": 1, "paid_ms": 1},
        )  # fmt: skip
        since: dict[str, int] = {}
        for doc in [*advisors, *({"member_id": d["member_id"], "since_ms": d["paid_ms"]} for d in guided)]:
            member = str(doc["member_id"])
            since[member] = min(since.get(member, int(doc["since_ms"])), int(doc["since_ms"]))
        ids = [link_id(staff.id, m) for m in since]
        known = {d["_id"] for d in await self._documents.find(LINKS, {"_id": {"$in": ids}}, projection={})}
        for member, at in since.items():
            if link_id(staff.id, member) not in known:
                link = ClientLink(
                    member_id=member, staff_id=staff.id, store_id=staff.store_id, origin_staff_id=staff.id,
                    since_ms=at,
                )  # fmt: skip
                await self._documents.insert_one(
                    LINKS, {"_id": link_id(staff.id, member), **link.model_dump()}
                )

    async def links(self, staff: Staff) -> list[ClientLink]:
        await self.sync(staff)
        return [
            ClientLink.model_validate(d) for d in await self._documents.find(LINKS, {"staff_id": staff.id})
        ]

    async def holding(self, staff: Staff) -> list[Held]:
        """The staff member's clients, newest first."""
        return held(await self.links(staff))

    async def own(self, desk: Desk, member_id: str) -> Held:
        """The client, if they are the staff member's (NOT_FOUND otherwise: no hint whose client they are)."""
        await self.sync(desk.staff)
        docs = await self._documents.find(LINKS, {"staff_id": desk.staff.id, "member_id": member_id})
        if not docs:
            raise NotFound(f"no client {member_id} in your client book")
        return held([ClientLink.model_validate(d) for d in docs])[0]

    # ---- reading

    async def page(self, who: Principal, *, search: str | None, skip: int, limit: int) -> list[ClientView]:
        desk = await self.desk(who)
        clients = await self.holding(desk.staff)
        wanted = (search or "").strip().casefold()
        if wanted:
            names = await self.nicknames([c.member_id for c in clients])
            clients = [c for c in clients if wanted in names.get(c.member_id, "").casefold()
                       or wanted == c.member_id.casefold()]  # fmt: skip
        return await self.views(desk, clients[skip : skip + limit])

    async def client(self, who: Principal, member_id: str) -> ClientView:
        desk = await self.desk(who)
        [view] = await self.views(desk, [await self.own(desk, member_id)])
        return view

    async def views(self, desk: Desk, clients: Sequence[Held]) -> list[ClientView]:
        """Client cards in a fixed number of reads, whatever the page size."""
        ids = [c.member_id for c in clients]
        if not ids:
            return []
        members = {d["_id"]: d for d in await self._documents.find(
            MEMBERS, {"_id": {"$in": ids}}, projection={"nickname": 1, "consents": 1})}  # fmt: skip
        orders = await self.orders(desk.brand_stores, ids)
        tags = await self.applied_tags(desk, ids)
        notes = await self._notes(desk.store.id, ids)
        advisors = await self._advisors(desk.staff.id, ids)
        interests = await self.interests(ids, store_id=desk.store.id)
        views = []
        for c in clients:
            mine = [o for o in orders if o.member_id == c.member_id]
            member = members.get(c.member_id, {})
            seen = interests.get(c.member_id)
            views.append(ClientView(
                member_id=c.member_id, nickname=str(member.get("nickname", "")), since_ms=c.since_ms,
                sources=sources_of(c, mine, advisors, desk.staff.id), reassigned_from=c.reassigned_from,
                tags=tags.get(c.member_id, []),
                notes=notes.get(c.member_id, [])[:NOTES_SHOWN], orders=mine, interests=seen,
                last_visit_ms=last_visit(mine, seen, store_id=desk.store.id),
                marketing_consent=bool((member.get("consents") or {}).get("marketing_ms")),
            ))  # fmt: skip
        return views

    async def facts(self, desk: Desk) -> list[ClientFacts]:
        """Every client of the book as the group rules see them."""
        clients = await self.holding(desk.staff)
        ids = [c.member_id for c in clients]
        orders = await self.orders(desk.brand_stores, ids)
        purchases = purchases_of(orders, self._catalog)
        tags = await self.applied_tags(desk, ids)
        interests = await self.interests(ids, store_id=desk.store.id)
        advisors = await self._advisors(desk.staff.id, ids)
        facts = []
        for c in clients:
            mine = [o for o in orders if o.member_id == c.member_id]
            facts.append(ClientFacts(
                member_id=c.member_id, tag_ids=frozenset(t.tag.id for t in tags.get(c.member_id, [])),
                purchases=tuple(purchases.get(c.member_id, [])),
                last_seen_ms=last_visit(mine, interests.get(c.member_id), store_id=desk.store.id),
                sources=frozenset(sources_of(c, mine, advisors, desk.staff.id)),
            ))  # fmt: skip
        return facts

    async def orders(self, brand_stores: Sequence[str], member_ids: Sequence[str]) -> list[Order]:
        """Paid orders of these members at the brand's stores, newest first."""
        if not member_ids:
            return []
        docs = await self._documents.find(
            ORDERS,
            {"member_id": {"$in": list(member_ids)}, "store_id": {"$in": list(brand_stores)},
             "status": {"$ne": "pending"}},
            sort=[("paid_ms", -1), ("_id", -1)],
        )  # fmt: skip
        return [Order.model_validate(d) for d in docs]

    async def applied_tags(self, desk: Desk, member_ids: Sequence[str]) -> dict[str, list[AppliedTag]]:
        docs = await self._documents.find(
            TAGGED, {"store_id": desk.store.id, "member_id": {"$in": list(member_ids)}}, sort=[("at_ms", 1)]
        )
        library: Mapping[str, ClientTag] = await library_of(self._documents, desk.store.brand_id)
        found: dict[str, list[AppliedTag]] = {}
        for doc in docs:
            mark = TagMark.model_validate(doc)
            tag = library.get(mark.tag_id)
            if tag is not None:
                found.setdefault(mark.member_id, []).append(AppliedTag(tag=tag, mark=mark))
        return found

    async def interests(self, member_ids: Sequence[str], *, store_id: str) -> dict[str, Interests]:
        """Camera-derived interest, for members whose face consent is active now (`audience` leaves the
        others out); none at all while the feature store is down."""
        try:
            features, _ = await self._features.audience(
                [member_subject(m) for m in member_ids], surface=SURFACE, day=keys.local_day(now_ms())
            )
        except BackendUnavailable:
            return {}
        found = {}
        for f in features:
            top = sorted(f.category_scores.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_CATEGORIES]
            dwell = f.last_dwell
            found[f.subject_id.removeprefix(member_subject(""))] = Interests(
                top_categories=[c for c, _ in top], last_dwell_zone_id=dwell.zone_id if dwell else None,
                last_dwell_category=dwell.category if dwell else None, seen_ms=f.ts_ms,
                seen_store_id=f.store_id,
            )  # fmt: skip
        return found

    async def _notes(self, store_id: str, member_ids: Sequence[str]) -> dict[str, list[ClientNote]]:
        docs = await self._documents.find(
            NOTES, {"store_id": store_id, "member_id": {"$in": list(member_ids)}},
            sort=[("at_ms", -1), ("_id", -1)],
        )  # fmt: skip
        found: dict[str, list[ClientNote]] = {}
        for doc in docs:
            note = ClientNote.model_validate(doc)
            found.setdefault(note.member_id, []).append(note)
        return found

    async def _advisors(self, staff_id: str, member_ids: Sequence[str]) -> set[str]:
        docs = await self._documents.find(
            ADVISORS,
            {"staff_id": staff_id, "member_id": {"$in": list(member_ids)}},
            projection={"member_id": 1},
        )
        return {str(d["member_id"]) for d in docs}

    async def nicknames(self, member_ids: Sequence[str]) -> dict[str, str]:
        docs = await self._documents.find(
            MEMBERS, {"_id": {"$in": list(member_ids)}}, projection={"nickname": 1}
        )
        return {str(d["_id"]): str(d.get("nickname", "")) for d in docs}

    async def _ensure_indexes(self) -> None:
        if self._indexed:
            return
        self._indexed = True
        docs = self._documents
        await docs.create_index(LINKS, [("staff_id", 1), ("member_id", 1)])
        await docs.create_index(ORDERS, [("guide_id", 1)])
        await docs.create_index(ADVISORS, [("staff_id", 1)])
        await docs.create_index(TAGGED, [("store_id", 1), ("member_id", 1)])
        await docs.create_index(NOTES, [("store_id", 1), ("member_id", 1), ("at_ms", -1)])


def sources_of(
    client: Held, orders: Sequence[Order], advisors: set[str], staff_id: str
) -> list[ClientSource]:
    """How the client came to the staff member: advisor, share-link order, handed over (any of them)."""
    found = [ClientSource.ADVISOR] if client.member_id in advisors else []
    if any(o.guide_id == staff_id for o in orders):
        found.append(ClientSource.SHARE_LINK_ORDER)
    if client.reassigned_from is not None:
        found.append(ClientSource.REASSIGNED)
    return found


def last_visit(orders: Sequence[Order], seen: Interests | None, *, store_id: str) -> int | None:
    """The latest of: seen in this store by its cameras (with consent), a purchase at the brand."""
    times = [o.paid_ms for o in orders]
    if seen is not None and seen.seen_store_id == store_id:
        times.append(seen.seen_ms)
    return max(times) if times else None


def doc_of(model_id: str, model: Any) -> dict[str, Any]:
    return {"_id": model_id, **model.model_dump(mode="json")}
