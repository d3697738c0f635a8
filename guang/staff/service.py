"""店员说: staff posts, staff profiles, 向TA咨询 and shoppers' advisors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from guang.accounts.models import Principal, Role
from guang.adapters.ports import DocumentStore
from guang.domain.errors import Conflict, Forbidden, Invalid, NotFound
from guang.domain.events import InteractionEvent
from guang.domain.models import Staff, StaffPost
from guang.domain.text import bounded
from guang.places.directory import Directories
from guang.places.models import StoreCard
from guang.services.app_events import AppEvents, new_event_id, now_ms
from guang.services.catalog import Catalog
from guang.settings import Settings
from guang.staff.directory import PostDirectory
from guang.staff.models import (
    MAX_PRODUCTS,
    REASON_MAX,
    TEXT_MAX,
    Advisor,
    AdvisorView,
    ConsultRecord,
    ConsultSource,
    ConsultState,
    ConsultTicket,
    PostDraft,
    PostEdit,
    PostView,
    StaffCard,
    is_shown,
)
from guang.staff.state import contact_way_url, new_state, state_key, verify_state

POSTS, STAFF, ADVISORS, STATES = "staff_posts", "staff", "advisors", "consult_states"
NEWEST = [("published_ms", -1), ("_id", -1)]


def _doc(model_id: str, model: Any) -> dict[str, Any]:
    return {"_id": model_id, **model.model_dump(mode="json")}


def advisor_id(member_id: str, staff_id: str) -> str:
    return f"{member_id}:{staff_id}"


def post_text(text: str) -> str:
    """A post's text cleaned like articles and comments (`guang.domain.text`), 1–`TEXT_MAX` characters."""
    return bounded(text, what="a post's text", max_len=TEXT_MAX, multiline=True)


class StaffDesk:
    def __init__(
        self, *, documents: DocumentStore, events: AppEvents, catalog: Catalog, settings: Settings,
        secret_key: str, directories: Directories,
    ) -> None:  # fmt: skip
        self._documents = documents
        self._events = events
        self._catalog = catalog
        self._settings = settings
        self._key = state_key(secret_key)
        self._directories = directories
        self._indexed = False
        self.directory = PostDirectory(documents=documents)

    # ---- reading: the 店员说 tab and staff profiles

    async def posts(
        self, *, mall_id: str | None = None, brand_id: str | None = None, store_id: str | None = None,
        staff_id: str | None = None, skip: int, limit: int,
    ) -> list[PostView]:  # fmt: skip
        """Published, non-hidden posts, newest first, narrowed by any combination of the filters."""
        posts = await self.directory.newest(
            shown_only=True, mall_id=mall_id, brand_id=brand_id, store_id=store_id, staff_id=staff_id
        )
        return await self._views(posts[skip : skip + limit])

    async def post(self, *, post_id: str, viewer: Principal | None) -> PostView:
        """A shown post; drafts and hidden posts only for those who may edit or moderate them."""
        post = await self.directory.get(post_id)
        if post is None or not (
            is_shown(post)
            or (viewer is not None and (_may_edit(viewer, post) or _may_moderate(viewer, post)))
        ):
            raise NotFound(f"no post {post_id}")
        [view] = await self._views([post])
        return view

    async def profile(self, staff_id: str) -> StaffCard:
        return await self._card(await self._staff(staff_id))

    async def post_counts(self, staff_ids: Sequence[str]) -> dict[str, int]:
        """How many shown posts each staff member has (from memory: no query)."""
        return await self.directory.shown_counts(staff_ids)

    async def advisors_among(self, *, member_id: str, staff_ids: Sequence[str]) -> set[str]:
        """Which of `staff_ids` are the member's advisors, in one query."""
        keys = [advisor_id(member_id, s) for s in dict.fromkeys(staff_ids)]
        docs = await self._documents.find(ADVISORS, {"_id": {"$in": keys}}, projection={"staff_id": 1})
        return {str(d["staff_id"]) for d in docs}

    async def is_store_client(self, *, store_id: str, member_id: str) -> bool:
        """Whether the member has a shopping advisor at this store (a client of its staff), in one query."""
        places = await self._directories.covering(stores=[store_id])
        colleagues = [s.id for s in places.staff_of(store_id)]
        return bool(colleagues) and bool(await self.advisors_among(member_id=member_id, staff_ids=colleagues))

    # ---- 向TA咨询 and 我的购物顾问

    async def consult(self, *, member_id: str, staff_id: str, source: ConsultSource) -> ConsultTicket:
        """A fresh attributable state and the staff's 联系我 URL; the first consult adds the advisor."""
        staff = await self._staff(staff_id)
        card = await self._card(staff)
        at = now_ms()
        for _ in range(3):
            state = new_state(self._key, source)
            record = ConsultState(
                state=state, staff_id=staff.id, store_id=staff.store_id, member_id=member_id, source=source,
                at_ms=at,
            )  # fmt: skip
            if await self._documents.insert_one(STATES, _doc(state, record)):
                break
        else:  # three 60-bit nonce collisions in a row: something is wrong with the randomness
            raise Conflict("could not allocate a consult state; try again")
        key = advisor_id(member_id, staff.id)
        advisor = Advisor(member_id=member_id, staff_id=staff.id, since_ms=at, source=source)
        created = await self._documents.insert_one(ADVISORS, _doc(key, advisor))
        if not created:
            existing = await self._documents.find_one(ADVISORS, {"_id": key})
            if existing is not None:
                advisor = Advisor.model_validate(existing)
        await self._events.emit(
            InteractionEvent(
                type="interaction", event_id=new_event_id(), ts_ms=at, mall_id=card.store.mall.id,
                store_id=staff.store_id, user_id=member_id, action="consult", target_type="staff",
                target_id=staff.id, surface="SCREEN" if source is ConsultSource.SCREEN else "FEED",
            ),
            dedupe_id=f"consult:{state}",
        )  # fmt: skip
        return ConsultTicket(
            qr_url=contact_way_url(self._key, staff.wecom_user_id, state), state=state, staff=card,
            advisor_since_ms=advisor.since_ms, new_advisor=created,
        )  # fmt: skip

    async def resolve_state(self, *, who: Principal, state: str) -> ConsultRecord:
        """Who consulted and from where: only for staff of the consulted member's store."""
        source = verify_state(self._key, state)
        doc = await self._documents.find_one(STATES, {"_id": state.strip()})
        if doc is None:
            raise NotFound("no consult with this state")
        record = ConsultState.model_validate(doc)
        if who.role is not Role.STAFF or who.store_id != record.store_id:
            raise Forbidden("only staff of the consulted store can resolve its consult states")
        assert record.source is source
        member = await self._documents.find_one("members", {"_id": record.member_id})
        card = await self.profile(record.staff_id)
        return ConsultRecord(consult=record, staff=card, member_nickname=(member or {}).get("nickname", ""))

    async def advisors(self, *, member_id: str, skip: int, limit: int) -> list[AdvisorView]:
        await self._ensure_indexes()
        docs = await self._documents.find(
            ADVISORS, {"member_id": member_id}, sort=[("since_ms", -1), ("_id", 1)], skip=skip, limit=limit
        )
        advisors = [Advisor.model_validate(d) for d in docs]
        cards = await self._cards([a.staff_id for a in advisors])
        return [AdvisorView(advisor=a, staff=cards[a.staff_id]) for a in advisors if a.staff_id in cards]

    async def remove_advisor(self, *, member_id: str, staff_id: str) -> bool:
        """Whether it was one of the shopper's advisors (removing twice is harmless)."""
        return await self._documents.delete_one(ADVISORS, {"_id": advisor_id(member_id, staff_id)})

    # ---- publishing (staff, brand admins) and moderation (mall operators)

    async def create_post(self, *, who: Principal, draft: PostDraft) -> PostView:
        """A new draft: staff write as themselves for their store; brand admins name store and author."""
        if who.role is Role.STAFF:
            if draft.store_id not in (None, who.store_id):
                raise Forbidden("staff publish for their own store only")
            if draft.staff_id not in (None, who.staff_id):
                raise Forbidden("staff publish as themselves only")
            assert who.staff_id is not None
            author = await self._staff(who.staff_id)
        elif who.role is Role.BRAND_ADMIN:
            if not draft.store_id or not draft.staff_id:
                raise Invalid("a brand admin names the store (storeId) and its staff author (staffId)")
            store = (await self._store(draft.store_id)).store
            if store.brand_id != who.brand_id:
                raise Forbidden(f"store {store.id} is not of your brand")
            author = await self._staff(draft.staff_id)
            if author.store_id != store.id:
                raise Invalid(f"staff {author.id} does not work at store {store.id}")
        else:
            raise Forbidden("only staff and brand admins publish 店员说 posts")
        store = (await self._store(author.store_id)).store
        now = now_ms()
        post = StaffPost(
            id=f"post-{new_event_id()[:16]}", staff_id=author.id, store_id=store.id, mall_id=store.mall_id,
            brand_id=store.brand_id, text=post_text(draft.text),
            product_ids=await self._stocked(store.id, draft.product_ids), published_ms=now, status="draft",
            updated_ms=now,
        )  # fmt: skip
        await self._documents.insert_one(POSTS, _doc(post.id, post))
        await self.directory.put(post.id)
        [view] = await self._views([post])
        return view

    async def managed_posts(
        self, *, who: Principal, store_id: str | None, skip: int, limit: int
    ) -> list[PostView]:
        """Drafts, published and hidden posts a publisher or moderator is responsible for, newest first:
        staff their own, brand admins their brand's, mall operators their mall's."""
        scope = {Role.STAFF: "staff_id", Role.BRAND_ADMIN: "brand_id", Role.MALL_OPERATOR: "mall_id"}
        field = scope.get(who.role)
        if field is None:
            raise Forbidden("only staff, brand admins and mall operators manage 店员说 posts")
        owner = who.subject_id if who.role is Role.STAFF else getattr(who, field)
        posts = await self.directory.newest(shown_only=False, **{field: owner or "", "store_id": store_id})
        return await self._views(posts[skip : skip + limit])

    async def update_post(self, *, who: Principal, post_id: str, edit: PostEdit) -> PostView:
        post = await self._editable(who, post_id)
        changes: dict[str, Any] = {"updated_ms": now_ms()}
        if edit.text is not None:
            changes["text"] = post_text(edit.text)
        if edit.product_ids is not None:
            changes["product_ids"] = await self._stocked(post.store_id, edit.product_ids)
        return await self._change(post_id, changes)

    async def set_published(self, *, who: Principal, post_id: str, published: bool) -> PostView:
        """Publishing stamps the time (so it rises to the top); publishing twice changes nothing."""
        post = await self._editable(who, post_id)
        status = "published" if published else "draft"
        if post.status == status:
            [view] = await self._views([post])
            return view
        changes: dict[str, Any] = {"status": status, "updated_ms": now_ms()}
        if published:
            changes["published_ms"] = changes["updated_ms"]
        return await self._change(post_id, changes)

    async def delete_post(self, *, who: Principal, post_id: str) -> bool:
        await self._editable(who, post_id)
        deleted = await self._documents.delete_one(POSTS, {"_id": post_id})
        await self.directory.put(post_id)
        return deleted

    async def moderate(self, *, who: Principal, post_id: str, hidden: bool, reason: str | None) -> PostView:
        """Mall operators hide (with a reason) or restore posts of stores in their own mall."""
        post = await self._post(post_id)
        if not _may_moderate(who, post):
            raise Forbidden("mall operators moderate posts of their own mall only")
        reason = (reason or "").strip() or None
        if hidden and reason is None:
            raise Invalid("say why the post is hidden (reason)")
        if reason is not None and len(reason) > REASON_MAX:
            raise Invalid(f"a moderation reason is at most {REASON_MAX} characters")
        changes = {"hidden": hidden, "hidden_reason": reason if hidden else None, "moderated_ms": now_ms()}
        return await self._change(post_id, changes)

    # ---- helpers

    async def _post(self, post_id: str) -> StaffPost:
        doc = await self._documents.find_one(POSTS, {"_id": post_id})
        if doc is None:
            raise NotFound(f"no post {post_id}")
        return StaffPost.model_validate(doc)

    async def _editable(self, who: Principal, post_id: str) -> StaffPost:
        post = await self._post(post_id)
        if not _may_edit(who, post):
            raise Forbidden(
                "staff edit only their own posts; brand admins only their brand's"
                if who.role in (Role.STAFF, Role.BRAND_ADMIN)
                else "only staff and brand admins edit 店员说 posts"
            )
        return post

    async def _change(self, post_id: str, changes: Mapping[str, Any]) -> PostView:
        if not await self._documents.update_one(POSTS, {"_id": post_id}, {"$set": dict(changes)}):
            raise NotFound(f"no post {post_id}")
        post = await self.directory.put(post_id)
        if post is None:
            raise NotFound(f"no post {post_id}")
        [view] = await self._views([post])
        return view

    async def _stocked(self, store_id: str, product_ids: Sequence[str]) -> list[str]:
        """The distinct product ids, each of which must be in stock at the store."""
        ids = list(dict.fromkeys(p.strip() for p in product_ids))
        if len(ids) > MAX_PRODUCTS:
            raise Invalid(f"a post links at most {MAX_PRODUCTS} products")
        docs = await self._documents.find("products", {"_id": {"$in": ids}}, projection={"stock": 1})
        stocked = {
            d["_id"]
            for d in docs
            if any(s["store_id"] == store_id and s["qty"] > 0 for s in d.get("stock", []))
        }
        missing = [p for p in ids if p not in stocked]
        if missing:
            raise Invalid(f"not in stock at store {store_id}: {', '.join(missing)}")
        return ids

    async def _staff(self, staff_id: str) -> Staff:
        found = (await self._directories.covering(staff=[staff_id])).staff.get(staff_id)
        if found is None:
            raise NotFound(f"no staff member {staff_id}")
        return found

    async def _store(self, store_id: str) -> StoreCard:
        """The store with its brand and mall, from the store directory (re-read once for a store opened
        since it was loaded)."""
        places = await self._directories.covering(stores=[store_id])
        store = places.stores.get(store_id)
        if store is None or not places.knows(store):
            raise NotFound(f"no store {store_id}")
        return places.card(store)

    async def _card(self, staff: Staff) -> StaffCard:
        return StaffCard.of(staff, await self._store(staff.store_id))

    async def _cards(self, staff_ids: Sequence[str]) -> dict[str, StaffCard]:
        places = await self._directories.covering(staff=staff_ids)
        found = {i: places.staff[i] for i in dict.fromkeys(staff_ids) if i in places.staff}
        return {i: await self._card(staff) for i, staff in found.items()}

    async def _views(self, posts: Sequence[StaffPost]) -> list[PostView]:
        cards = await self._cards([p.staff_id for p in posts])
        return [PostView(post=p, author=cards[p.staff_id]) for p in posts if p.staff_id in cards]

    async def _ensure_indexes(self) -> None:
        if self._indexed:
            return
        self._indexed = True
        await self._documents.create_index(POSTS, [("published_ms", -1), ("_id", -1)])
        for field in ("mall_id", "brand_id", "store_id", "staff_id"):
            await self._documents.create_index(POSTS, [(field, 1), ("published_ms", -1), ("_id", -1)])
        await self._documents.create_index(ADVISORS, [("member_id", 1), ("since_ms", -1), ("_id", 1)])


def _may_edit(who: Principal, post: StaffPost) -> bool:
    if who.role is Role.STAFF:
        return who.staff_id == post.staff_id
    if who.role is Role.BRAND_ADMIN:
        return who.brand_id == post.brand_id
    return False


def _may_moderate(who: Principal, post: StaffPost) -> bool:
    return who.role is Role.MALL_OPERATOR and who.mall_id == post.mall_id
