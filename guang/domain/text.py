"""Cleaning user-written text (articles, comments, 店员说 posts, moderation reasons): one rule everywhere."""

from __future__ import annotations

import re
import unicodedata

from guang.domain.errors import Invalid

# Bidirectional overrides/isolates reorder text on screen; they are never needed in what users write.
BIDI_CONTROLS = frozenset(chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))
_BLANK_RUNS = re.compile(r"\n{3,}")


def clean_text(text: str, *, multiline: bool) -> str:
    """Drop control characters and bidi overrides (keeping line breaks when `multiline`, at most one
    blank line in a row) and surrounding whitespace; tabs become spaces."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    kept = []
    for ch in text:
        if ch == "\n":
            kept.append("\n" if multiline else " ")
        elif ch == "\t":
            kept.append(" ")
        elif unicodedata.category(ch) == "Cc" or ch in BIDI_CONTROLS:
            continue
        else:
            kept.append(ch)
    cleaned = "".join(kept).strip()
    return _BLANK_RUNS.sub("\n\n", cleaned) if multiline else cleaned


def bounded(text: str, *, what: str, max_len: int, multiline: bool) -> str:
    """`text` cleaned, refused when empty or longer than `max_len` characters."""
    cleaned = clean_text(text, multiline=multiline)
    if not cleaned:
        raise Invalid(f"{what} must not be empty")
    if len(cleaned) > max_len:
        raise Invalid(f"{what} is {len(cleaned)} characters; at most {max_len} are allowed")
    return cleaned
