"""Clienteling, composed: the client book, tags and notes, campaigns, reassignment and the tag audit."""

from __future__ import annotations

from dataclasses import dataclass

from guang.accounts.models import Principal, Role
from guang.adapters.ports import DocumentStore, FeatureStore
from guang.clienteling.book import ORDERS, ClientBook, Desk, doc_of, link_id, purchases_of
from guang.clienteling.campaigns import Campaigns
from guang.clienteling.library import library_of
from guang.clienteling.models import LINKS, TAGGED, ClientTag, Reassignment, TagMark
from guang.clienteling.rules import Audit, Marked, audit
from guang.clienteling.tags import TagDesk
from guang.domain.errors import Forbidden, Invalid, NotFound
from guang.domain.models import Staff
from guang.places.directory import Directories
from guang.services.app_events import now_ms
from guang.services.catalog import Catalog
from guang.staff.models import Advisor
from guang.staff.service import ADVISORS, advisor_id


@dataclass(frozen=True)
class StoreAudit:
    store_id: str
    audit: Audit
    tags: dict[str, ClientTag]
    staff: dict[str, Staff]


class Clienteling:
    def __init__(
        self, *, documents: DocumentStore, features: FeatureStore, directories: Directories, catalog: Catalog
    ) -> None:
        self._documents = documents
        self._directories = directories
        self.book = ClientBook(
            documents=documents, features=features, directories=directories, catalog=catalog
        )
        self.tags = TagDesk(documents=documents, book=self.book, directories=directories)
        self.campaigns = Campaigns(documents=documents, book=self.book)
        self._catalog = catalog

    async def reassign(self, *, who: Principal, from_staff_id: str, to_staff_id: str) -> Reassignment:
        """A brand admin hands one staff member's clients to a colleague of the same store; tags, notes and
        who wrote them stay with the clients, and their 我的购物顾问 shows the new advisor."""
        if who.role is not Role.BRAND_ADMIN:
            raise Forbidden("only brand admins reassign clients")
        new = await self.book.desk_of(to_staff_id)
        old = await self._leaving(from_staff_id)
        if old.store.brand_id != who.brand_id or new.store.brand_id != who.brand_id:
            raise Forbidden(f"staff member {from_staff_id} does not work for your brand")
        if old.staff.id == new.staff.id:
            raise Invalid("reassign to a different staff member")
        if old.store.id != new.store.id:
            raise Invalid("clients move to a colleague in the same store")
        at = now_ms()
        links = await self.book.links(old.staff)
        for link in links:
            await self._documents.update_one(
                LINKS, {"_id": link_id(link.origin_staff_id, link.member_id), "staff_id": old.staff.id},
                {"$set": {"staff_id": new.staff.id, "reassigned_from": old.staff.id, "reassigned_ms": at}},
            )  # fmt: skip
        moved_advisors = 0
        for doc in await self._documents.find(ADVISORS, {"staff_id": old.staff.id}):
            previous = Advisor.model_validate(doc)
            advisor = Advisor(
                member_id=previous.member_id, staff_id=new.staff.id, since_ms=at, source=previous.source
            )
            await self._documents.insert_one(
                ADVISORS, doc_of(advisor_id(advisor.member_id, new.staff.id), advisor)
            )
            moved_advisors += await self._documents.delete_one(ADVISORS, {"_id": doc["_id"]})
        return Reassignment(
            moved=len({link.member_id for link in links}), advisors_moved=moved_advisors,
            from_staff_id=old.staff.id, to_staff_id=new.staff.id,
        )  # fmt: skip

    async def _leaving(self, staff_id: str) -> Desk:
        """The staff member's desk; for someone no longer in the staff directory (they left), the store
        their clients were won at (NOT_FOUND if they had none)."""
        try:
            return await self.book.desk_of(staff_id)
        except NotFound:
            pass
        for collection, query in ((LINKS, {"staff_id": staff_id}), (ORDERS, {"guide_id": staff_id})):
            docs = await self._documents.find(collection, query, projection={"store_id": 1}, limit=1)
            places = await self._directories.get()
            store = places.stores.get(str(docs[0]["store_id"])) if docs else None
            if store is not None:
                gone = Staff(id=staff_id, name="", store_id=store.id, title="", wecom_user_id="")
                return Desk(staff=gone, store=store, brand_stores=[])
        raise NotFound(f"no staff member {staff_id}")

    async def tag_audit(self, *, who: Principal, store_id: str) -> StoreAudit:
        """Each tag given at the store against what the tagged clients bought at the brand."""
        places = await self._directories.covering(stores=[store_id])
        store = places.stores.get(store_id)
        if store is None:
            raise NotFound(f"no store {store_id}")
        if not (
            (who.role is Role.STAFF and who.store_id == store.id)
            or (who.role is Role.BRAND_ADMIN and who.brand_id == store.brand_id)
        ):
            raise Forbidden("only the store's staff and its brand's admins see its tag audit")
        marks = [
            TagMark.model_validate(d) for d in await self._documents.find(TAGGED, {"store_id": store.id})
        ]
        brand_stores = [s.id for s in places.stores.values() if s.brand_id == store.brand_id]
        orders = await self.book.orders(brand_stores, sorted({m.member_id for m in marks}))
        library = await library_of(self._documents, store.brand_id)
        result = audit(
            (Marked(m.by_staff_id, m.member_id, m.tag_id) for m in marks),
            tags=library,
            purchases=purchases_of(orders, self._catalog),
        )
        staff = {s: places.staff[s] for s in result.by_staff if s in places.staff}
        return StoreAudit(store_id=store.id, audit=result, tags=library, staff=staff)
