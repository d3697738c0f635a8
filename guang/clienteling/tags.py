"""The brand's tag library, tagging clients (every change logged: who, what, when) and client notes."""

from __future__ import annotations

from collections.abc import Sequence

from guang.accounts.models import Principal, Role
from guang.adapters.ports import DocumentStore
from guang.clienteling.book import ClientBook, doc_of
from guang.clienteling.library import library_of
from guang.clienteling.models import (
    LIBRARY,
    MAX_TAGS_PER_CALL,
    NOTE_MAX,
    NOTES,
    TAG_LOG,
    TAG_NAME_MAX,
    TAGGED,
    ClientNote,
    ClientTag,
    TagChange,
    TagGroup,
    TagMark,
)
from guang.domain.errors import Conflict, Forbidden, Invalid
from guang.domain.text import bounded
from guang.places.directory import Directories
from guang.services.app_events import new_event_id, now_ms

MAX_BRAND_TAGS = 200
MAX_TAG_CATEGORIES = 20


def mark_id(store_id: str, member_id: str, tag_id: str) -> str:
    return f"{store_id}:{member_id}:{tag_id}"


class TagDesk:
    def __init__(self, *, documents: DocumentStore, book: ClientBook, directories: Directories) -> None:
        self._documents = documents
        self._book = book
        self._directories = directories

    async def library(self, who: Principal) -> list[ClientTag]:
        """The caller's brand's library: staff and brand admins (grouped, default tags first)."""
        brand_id = await self._brand_of(who)
        tags = await library_of(self._documents, brand_id)
        order = list(TagGroup)
        return sorted(tags.values(), key=lambda t: (order.index(t.group), t.brand_id is not None))

    async def add_tag(
        self, *, who: Principal, group: TagGroup, name: str, categories: Sequence[str] = (),
        min_price_fen: int | None = None, max_price_fen: int | None = None,
    ) -> ClientTag:  # fmt: skip
        """A brand admin's own tag; categories and a unit-price band make it auditable."""
        if who.role is not Role.BRAND_ADMIN or who.brand_id is None:
            raise Forbidden("only brand admins add tags to their brand's library")
        name = bounded(name, what="a tag's name", max_len=TAG_NAME_MAX, multiline=False)
        wanted = list(dict.fromkeys(c.strip() for c in categories if c.strip()))
        if len(wanted) > MAX_TAG_CATEGORIES:
            raise Invalid(f"a tag maps to at most {MAX_TAG_CATEGORIES} categories")
        for bound in (min_price_fen, max_price_fen):
            if bound is not None and bound < 0:
                raise Invalid("price bounds are fen, 0 or more")
        if min_price_fen is not None and max_price_fen is not None and min_price_fen >= max_price_fen:
            raise Invalid("minPriceFen must be below maxPriceFen")
        library = await library_of(self._documents, who.brand_id)
        if any(t.group is group and t.name == name for t in library.values()):
            raise Conflict(f"the library already has the tag {group.label}/{name}")
        if len(library) >= MAX_BRAND_TAGS:
            raise Conflict(f"a brand's library holds at most {MAX_BRAND_TAGS} tags")
        tag = ClientTag(
            id=f"bt-{new_event_id()[:16]}", group=group, name=name, brand_id=who.brand_id, categories=wanted,
            min_price_fen=min_price_fen, max_price_fen=max_price_fen, created_by=who.subject_id,
            created_ms=now_ms(),
        )  # fmt: skip
        await self._documents.insert_one(LIBRARY, doc_of(tag.id, tag))
        return tag

    async def tag(self, *, who: Principal, member_id: str, tag_ids: Sequence[str], on: bool) -> None:
        """Put tags on (or take them off) one of the caller's clients; each change is logged."""
        desk = await self._book.desk(who)
        await self._book.own(desk, member_id)
        wanted = list(dict.fromkeys(t.strip() for t in tag_ids))
        if not 1 <= len(wanted) <= MAX_TAGS_PER_CALL:
            raise Invalid(f"name 1 to {MAX_TAGS_PER_CALL} tags")
        library = await library_of(self._documents, desk.store.brand_id)
        unknown = [t for t in wanted if t not in library]
        if unknown:
            raise Invalid(f"not in your brand's tag library: {', '.join(unknown)}")
        store_id, staff_id, at = desk.store.id, desk.staff.id, now_ms()
        for n, tag_id in enumerate(wanted):
            key = mark_id(store_id, member_id, tag_id)
            if on:
                mark = TagMark(
                    store_id=store_id, member_id=member_id, tag_id=tag_id, by_staff_id=staff_id, at_ms=at
                )
                changed = await self._documents.insert_one(TAGGED, doc_of(key, mark))
            else:
                changed = await self._documents.delete_one(TAGGED, {"_id": key})
            if changed:
                change = TagChange(
                    store_id=store_id, member_id=member_id, tag_id=tag_id, action="tag" if on else "untag",
                    by_staff_id=staff_id, at_ms=at,
                )  # fmt: skip
                await self._documents.insert_one(
                    TAG_LOG, doc_of(f"{at:013d}:{n:02d}:{new_event_id()[:8]}", change)
                )

    async def history(self, *, who: Principal, member_id: str) -> list[TagChange]:
        """Every tag change on one of the caller's clients at their store, oldest first (log ids start
        with the time and the position in the call, so changes made together keep their order)."""
        desk = await self._book.desk(who)
        await self._book.own(desk, member_id)
        docs = await self._documents.find(
            TAG_LOG, {"store_id": desk.store.id, "member_id": member_id}, sort=[("at_ms", 1), ("_id", 1)]
        )
        return [TagChange.model_validate(d) for d in docs]

    async def add_note(self, *, who: Principal, member_id: str, text: str) -> ClientNote:
        desk = await self._book.desk(who)
        await self._book.own(desk, member_id)
        note = ClientNote(
            id=f"note-{new_event_id()[:16]}", store_id=desk.store.id, member_id=member_id,
            by_staff_id=desk.staff.id, text=bounded(text, what="a note", max_len=NOTE_MAX, multiline=True),
            at_ms=now_ms(),
        )  # fmt: skip
        await self._documents.insert_one(NOTES, doc_of(note.id, note))
        return note

    async def _brand_of(self, who: Principal) -> str:
        if who.role is Role.BRAND_ADMIN and who.brand_id:
            return who.brand_id
        if who.role is Role.STAFF:
            return (await self._book.desk(who)).store.brand_id
        raise Forbidden("only staff and brand admins use the client tag library")
