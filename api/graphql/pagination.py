"""Relay-style cursor connections. Cursors are opaque offsets into a stable sort order."""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

import strawberry

from guang.domain.errors import Invalid

T = TypeVar("T")
N = TypeVar("N")
MAX_PAGE = 50
MAX_OFFSET = 10_000
"""Deeper than this, ask a narrower question (a filter) instead of paging further."""
DEFAULT_PAGE = 10
_PREFIX = "o:"


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo

    @strawberry.field(description="The nodes of this page, without cursors")
    def nodes(self) -> list[T]:
        return [edge.node for edge in self.edges]


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"{_PREFIX}{offset}".encode()).decode()


def decode_cursor(cursor: str | None) -> int:
    """The offset just after `cursor` (0 for the first page)."""
    if cursor is None:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
        if not text.startswith(_PREFIX):
            raise ValueError(text)
        offset = int(text.removeprefix(_PREFIX))
    except (ValueError, UnicodeDecodeError) as error:
        raise Invalid(f"malformed cursor {cursor!r}") from error
    if not 0 <= offset < MAX_OFFSET:
        raise Invalid(f"cursor out of range: lists page at most {MAX_OFFSET} items deep")
    return offset + 1


def page_bounds(first: int, after: str | None) -> tuple[int, int]:
    """(skip, limit) for a page; `limit` is one more than asked, to know whether a next page exists."""
    if not 1 <= first <= MAX_PAGE:
        raise Invalid(f"first must be between 1 and {MAX_PAGE}")
    return decode_cursor(after), first + 1


def connection(items: Sequence[N], *, skip: int, first: int, node: Callable[[N], T]) -> Connection[T]:
    """A page from `items` fetched with `page_bounds` (one extra item signals a next page)."""
    page = items[:first]
    edges = [Edge(cursor=encode_cursor(skip + i), node=node(item)) for i, item in enumerate(page)]
    return Connection(
        edges=edges,
        page_info=PageInfo(has_next_page=len(items) > first, end_cursor=edges[-1].cursor if edges else None),
    )


async def paginate(
    fetch: Callable[[int, int], Awaitable[Sequence[N]]],
    *,
    first: int,
    after: str | None,
    node: Callable[[N], T],
) -> Connection[T]:
    """Fetch one page with `fetch(skip, limit)` and wrap it as a connection."""
    skip, limit = page_bounds(first, after)
    return connection(await fetch(skip, limit), skip=skip, first=first, node=node)
