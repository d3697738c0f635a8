"""Reading request bodies without letting a client make us hold more than a limit."""

from __future__ import annotations

from fastapi import Request


class TooLarge(Exception):
    pass


async def read_capped(request: Request, limit: int) -> bytes:
    """The raw body, refused (TooLarge) past `limit` bytes: by its Content-Length before reading, else
    chunk by chunk, so an oversized or lying (chunked, no Content-Length) body is never held whole.
    A malformed Content-Length is refused too (ValueError)."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            raise ValueError("Content-Length is not a number")
        if int(declared) > limit:
            raise TooLarge(f"body larger than {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"body larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
