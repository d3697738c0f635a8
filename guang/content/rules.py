"""Pure rules of the 种草 domain: text limits, the comment blocklist, who may do what.

Text cleaning itself is `guang.domain.text` (shared with 店员说 posts).

Automatic comment flag: a comment whose text contains any entry of `BLOCKLIST` (compared case-folded,
with all whitespace removed, so "加 微 信" and "FUCK" match too) is stored with `flagged=true` and status
`held`. Held comments are not listed in `comments` and do not count in `commentCount` until a mall
operator or the brand admin moderates them (`moderateComment(hidden: false)` releases one). The author
always sees their own comments in `myComments`, with `hidden` and `flagged`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from guang.accounts.models import Principal, Role
from guang.domain.errors import Invalid
from guang.domain.geo import distance_to
from guang.domain.models import Article, GeoPoint
from guang.domain.text import clean_text

TITLE_MAX = 60
BODY_MAX = 5000
COMMENT_MAX = 500
REASON_MAX = 200
MAX_PRODUCT_LINKS = 9

BLOCKLIST: tuple[str, ...] = (
    "加微信", "加vx", "加v信", "私聊加", "代购", "刷单", "兼职日结", "赌博", "博彩", "色情", "傻逼",
    "fuck", "shit",
)  # fmt: skip


def reason_text(reason: str | None) -> str | None:
    if reason is None:
        return None
    cleaned = clean_text(reason, multiline=False)
    if len(cleaned) > REASON_MAX:
        raise Invalid(f"reason is {len(cleaned)} characters; at most {REASON_MAX} are allowed")
    return cleaned or None


def is_flagged(text: str) -> bool:
    """Whether the text contains a blocklisted word (case- and whitespace-insensitive)."""
    squashed = "".join(text.casefold().split())
    return any(word in squashed for word in BLOCKLIST)


def is_public(article: Article) -> bool:
    return article.status == "published" and not article.hidden


def owns_brand(who: Principal | None, article: Article) -> bool:
    """Staff or an admin of the article's brand (they see its drafts and hidden state)."""
    return (
        who is not None
        and who.role in (Role.STAFF, Role.BRAND_ADMIN)
        and who.brand_id is not None
        and who.brand_id == article.brand_id
    )


def can_manage(who: Principal, article: Article) -> bool:
    """Edit, publish, delete: the brand's admin, or the staff member who wrote it."""
    if who.role is Role.BRAND_ADMIN:
        return who.brand_id == article.brand_id
    if who.role is Role.STAFF:
        return who.brand_id == article.brand_id and article.author_staff_id == who.staff_id
    return False


def operates_brand(who: Principal, brand_id: str, mall_brands: Iterable[str]) -> bool:
    """A mall operator whose mall has a store of `brand_id` (`mall_brands`: the brands in their mall)."""
    return who.role is Role.MALL_OPERATOR and brand_id in set(mall_brands)


def moderation_refusal(who: Principal, brand_id: str, brand_malls: Iterable[str]) -> str | None:
    """Why `who` may not hide or show the brand's articles and comments, or None when they may.

    Articles are brand-wide (one article shows in every mall with a store of the brand), so a mall
    operator moderates them only when every store of the brand is in their mall; otherwise hiding
    would reach into other malls, and the brand's admin moderates instead."""
    if who.role is Role.BRAND_ADMIN:
        return None if who.brand_id == brand_id else "brand admins moderate their own brand's content only"
    if who.role is not Role.MALL_OPERATOR:
        return "only the brand's admin or a mall operator may moderate"
    malls = set(brand_malls)
    if who.mall_id is None or who.mall_id not in malls:
        return "this brand has no store in your mall; its brand admin moderates its articles and comments"
    if malls != {who.mall_id}:
        return (
            "this brand also has stores in other malls and its articles show there too, so its brand admin "
            "moderates its articles and comments"
        )
    return None


def can_see(who: Principal | None, article: Article, mall_brands: Iterable[str] = ()) -> bool:
    """Public articles for everyone; drafts and hidden ones for the brand; hidden ones for its mall."""
    if is_public(article) or owns_brand(who, article):
        return True
    return (
        who is not None
        and article.status == "published"
        and operates_brand(who, article.brand_id, mall_brands)
    )


def pick_store(
    candidates: Sequence[tuple[str, int, GeoPoint, str]],
    *,
    lat: float | None,
    lng: float | None,
    mall_id: str | None,
) -> tuple[str, float | None] | None:
    """The store to show for a product among (store id, qty, location, mall id) that carry it: the
    nearest when a position is given, else the best-stocked; stores in `mall_id` first when given."""
    stocked = [c for c in candidates if c[1] > 0]
    if mall_id is not None:
        stocked = [c for c in stocked if c[3] == mall_id] or stocked
    if not stocked:
        return None
    if lat is not None and lng is not None:
        scored = sorted((distance_to(c[2], lat=lat, lng=lng), c[0]) for c in stocked)
        return scored[0][1], round(scored[0][0], 1)
    best = min(stocked, key=lambda c: (-c[1], c[0]))
    return best[0], None
