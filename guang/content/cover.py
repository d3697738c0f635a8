"""Generated article covers: the title and category on a colour chosen from the article id."""

from __future__ import annotations

import hashlib
from xml.sax.saxutils import escape

PALETTE: tuple[tuple[str, str], ...] = (
    ("#F2545B", "#FFFFFF"), ("#FF9F1C", "#1F1F1F"), ("#2EC4B6", "#0B2027"), ("#3A86FF", "#FFFFFF"),
    ("#8338EC", "#FFFFFF"), ("#FFBE0B", "#1F1F1F"), ("#06D6A0", "#073B4C"), ("#EF476F", "#FFFFFF"),
)  # fmt: skip
WIDTH, HEIGHT = 600, 400
LINE_CHARS = 12
MAX_LINES = 3


def cover_path(article_id: str) -> str:
    return f"/media/covers/{article_id}.svg"


def colours(article_id: str) -> tuple[str, str]:
    """(background, text) colour, the same for an id on every call and every machine."""
    digest = hashlib.sha256(article_id.encode()).digest()
    return PALETTE[digest[0] % len(PALETTE)]


def wrap(title: str, *, width: int = LINE_CHARS, lines: int = MAX_LINES) -> list[str]:
    """Cut the title into lines of `width` characters; the last line ends in … when it does not fit."""
    chunks = [title[i : i + width] for i in range(0, len(title), width)] or [""]
    if len(chunks) > lines:
        chunks = chunks[:lines]
        chunks[-1] = chunks[-1][: width - 1] + "…"
    return chunks


def render_cover(*, article_id: str, title: str, category: str) -> str:
    background, ink = colours(article_id)
    rows = wrap(title)
    top = HEIGHT / 2 - (len(rows) - 1) * 26
    text = "".join(
        f'<text x="40" y="{top + i * 52:.0f}" font-size="40" font-weight="bold">{escape(row)}</text>'
        for i, row in enumerate(rows)
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title, {chr(34): "&quot;"})}">'
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="{background}"/>'
        f'<g fill="{ink}" font-family="PingFang SC, Noto Sans CJK SC, sans-serif">{text}'
        f'<text x="40" y="{HEIGHT - 40}" font-size="24" opacity="0.85"># {escape(category)}</text></g>'
        "</svg>"
    )
