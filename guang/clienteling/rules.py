"""Pure rules over a client book: group membership and the tag accuracy audit. No I/O here.

A group rule is JSON: `{"all": [...]}`, `{"any": [...]}`, `{"not": rule}` combine conditions;
conditions are `{"tag": "<tag id>"}`, `{"bought_category": "牛仔", "within_days": 90}` (a purchase whose
category contains the text; `within_days` optional), `{"not_seen_days": 30}` (no visit in that many days,
or never), `{"seen_within_days": 7}`, `{"min_orders": 3, "within_days": 180}` and `{"source": "advisor"}`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from guang.clienteling.models import ClientSource, ClientTag
from guang.domain.errors import Invalid

DAY_MS = 86_400_000
MAX_DEPTH = 4
MAX_CONDITIONS = 20
MAX_DAYS = 3650
CONFIRM_SHARE = 0.5
"""A tag is confirmed when at least this share of the client's purchased units match it."""


@dataclass(frozen=True)
class Purchase:
    """One order line at the brand."""

    order_id: str
    paid_ms: int
    category: str
    unit_price_fen: int
    qty: int


@dataclass(frozen=True)
class ClientFacts:
    """What rules may look at about one client."""

    member_id: str
    tag_ids: frozenset[str]
    purchases: tuple[Purchase, ...]
    last_seen_ms: int | None
    sources: frozenset[ClientSource] = frozenset()


# ---------------------------------------------------------------- grouping


@dataclass(frozen=True)
class All:
    rules: tuple[Rule, ...]


@dataclass(frozen=True)
class Any_:
    rules: tuple[Rule, ...]


@dataclass(frozen=True)
class Not:
    rule: Rule


@dataclass(frozen=True)
class HasTag:
    tag_id: str


@dataclass(frozen=True)
class BoughtCategory:
    category: str
    within_days: int | None


@dataclass(frozen=True)
class NotSeen:
    days: int


@dataclass(frozen=True)
class SeenWithin:
    days: int


@dataclass(frozen=True)
class MinOrders:
    count: int
    within_days: int | None


@dataclass(frozen=True)
class FromSource:
    source: ClientSource


Rule = All | Any_ | Not | HasTag | BoughtCategory | NotSeen | SeenWithin | MinOrders | FromSource
_KEYS = {
    "tag": set(), "bought_category": {"within_days"}, "not_seen_days": set(), "seen_within_days": set(),
    "min_orders": {"within_days"}, "source": set(),
}  # fmt: skip


def _days(value: Any, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_DAYS:
        raise Invalid(f"{what} must be a whole number of days from 1 to {MAX_DAYS}")
    return value


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 50:
        raise Invalid(f"{what} must be a non-empty text of at most 50 characters")
    return value.strip()


def parse_rule(raw: Any) -> Rule:
    """The rule a JSON value describes; Invalid, with the reason, for anything else."""
    counter = [0]
    return _parse(raw, 0, counter)


def _parse(raw: Any, depth: int, counter: list[int]) -> Rule:
    if depth > MAX_DEPTH:
        raise Invalid(f"a group rule nests at most {MAX_DEPTH} levels")
    if not isinstance(raw, Mapping) or not raw:
        raise Invalid('a group rule is a JSON object such as {"all": [{"tag": "…"}]}')
    if len(raw) == 1 and ("all" in raw or "any" in raw):
        [(kind, parts)] = raw.items()
        if not isinstance(parts, list) or not parts:
            raise Invalid(f'"{kind}" takes a non-empty list of rules')
        rules = tuple(_parse(p, depth + 1, counter) for p in parts)
        return All(rules) if kind == "all" else Any_(rules)
    if len(raw) == 1 and "not" in raw:
        return Not(_parse(raw["not"], depth + 1, counter))
    counter[0] += 1
    if counter[0] > MAX_CONDITIONS:
        raise Invalid(f"a group rule has at most {MAX_CONDITIONS} conditions")
    main = [k for k in raw if k in _KEYS]
    if len(main) != 1 or set(raw) - {main[0]} - _KEYS[main[0]]:
        known = ", ".join(sorted(_KEYS))
        raise Invalid(f"unknown condition {sorted(raw)}; conditions are {known}, combined with all/any/not")
    key = main[0]
    within = _days(raw["within_days"], "within_days") if "within_days" in raw else None
    if key == "tag":
        return HasTag(_text(raw[key], "tag"))
    if key == "bought_category":
        return BoughtCategory(_text(raw[key], "bought_category"), within)
    if key == "not_seen_days":
        return NotSeen(_days(raw[key], key))
    if key == "seen_within_days":
        return SeenWithin(_days(raw[key], key))
    if key == "min_orders":
        count = raw[key]
        if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 1000:
            raise Invalid("min_orders must be a whole number from 1 to 1000")
        return MinOrders(count, within)
    try:
        return FromSource(ClientSource(raw[key]))
    except ValueError as error:
        raise Invalid(f"source is one of {', '.join(s.value for s in ClientSource)}") from error


def tag_ids_of(rule: Rule) -> set[str]:
    """Every tag id the rule names (to check they exist in the library)."""
    if isinstance(rule, All | Any_):
        return set().union(*(tag_ids_of(r) for r in rule.rules))
    if isinstance(rule, Not):
        return tag_ids_of(rule.rule)
    return {rule.tag_id} if isinstance(rule, HasTag) else set()


def _recent(purchases: Iterable[Purchase], within_days: int | None, now_ms: int) -> list[Purchase]:
    if within_days is None:
        return list(purchases)
    return [p for p in purchases if p.paid_ms >= now_ms - within_days * DAY_MS]


def matches(rule: Rule, client: ClientFacts, *, now_ms: int) -> bool:
    """Whether the client is in the group the rule describes, as of `now_ms`."""
    if isinstance(rule, All):
        return all(matches(r, client, now_ms=now_ms) for r in rule.rules)
    if isinstance(rule, Any_):
        return any(matches(r, client, now_ms=now_ms) for r in rule.rules)
    if isinstance(rule, Not):
        return not matches(rule.rule, client, now_ms=now_ms)
    if isinstance(rule, HasTag):
        return rule.tag_id in client.tag_ids
    if isinstance(rule, BoughtCategory):
        recent = _recent(client.purchases, rule.within_days, now_ms)
        return any(rule.category in p.category for p in recent)
    if isinstance(rule, NotSeen):
        return client.last_seen_ms is None or client.last_seen_ms < now_ms - rule.days * DAY_MS
    if isinstance(rule, SeenWithin):
        return client.last_seen_ms is not None and client.last_seen_ms >= now_ms - rule.days * DAY_MS
    if isinstance(rule, MinOrders):
        return len({p.order_id for p in _recent(client.purchases, rule.within_days, now_ms)}) >= rule.count
    return rule.source in client.sources


def members(rule: Rule, clients: Iterable[ClientFacts], *, now_ms: int) -> list[str]:
    """Member ids of the clients in the group, in the order given."""
    return [c.member_id for c in clients if matches(rule, c, now_ms=now_ms)]


# ---------------------------------------------------------------- tag accuracy audit


def item_matches(tag: ClientTag, purchase: Purchase) -> bool:
    if tag.categories and purchase.category not in tag.categories:
        return False
    if tag.min_price_fen is not None and purchase.unit_price_fen < tag.min_price_fen:
        return False
    return tag.max_price_fen is None or purchase.unit_price_fen < tag.max_price_fen


def confirmed(tag: ClientTag, purchases: Sequence[Purchase]) -> bool | None:
    """Whether the purchases bear the tag out (None: nothing bought, so no evidence either way)."""
    units = sum(p.qty for p in purchases)
    if units == 0:
        return None
    return sum(p.qty for p in purchases if item_matches(tag, p)) >= CONFIRM_SHARE * units


@dataclass(frozen=True)
class Marked:
    """A tag a staff member put on a client."""

    staff_id: str
    member_id: str
    tag_id: str


@dataclass(frozen=True)
class Score:
    """Confirmed, contradicted (bought, but not what the tag predicts) and unverified (bought nothing)."""

    tagged: int = 0
    confirmed: int = 0
    contradicted: int = 0
    unverified: int = 0

    @property
    def precision(self) -> float | None:
        judged = self.confirmed + self.contradicted
        return self.confirmed / judged if judged else None

    def plus(self, verdict: bool | None) -> Score:
        return Score(
            self.tagged + 1, self.confirmed + (verdict is True), self.contradicted + (verdict is False),
            self.unverified + (verdict is None),
        )  # fmt: skip


@dataclass(frozen=True)
class Audit:
    by_staff_tag: dict[tuple[str, str], Score]
    by_staff: dict[str, Score]
    by_tag: dict[str, Score]
    not_auditable: dict[str, int]
    """Tag id → how many times it was given (tags without a purchase mapping)."""


def audit(
    marks: Iterable[Marked], *, tags: Mapping[str, ClientTag], purchases: Mapping[str, Sequence[Purchase]]
) -> Audit:
    """Compare each tag a staff member gave with what the tagged client bought."""
    by_staff_tag: dict[tuple[str, str], Score] = defaultdict(Score)
    by_staff: dict[str, Score] = defaultdict(Score)
    by_tag: dict[str, Score] = defaultdict(Score)
    not_auditable: dict[str, int] = defaultdict(int)
    for mark in marks:
        tag = tags.get(mark.tag_id)
        if tag is None or not tag.auditable:
            not_auditable[mark.tag_id] += 1
            continue
        verdict = confirmed(tag, purchases.get(mark.member_id, ()))
        key = (mark.staff_id, mark.tag_id)
        by_staff_tag[key] = by_staff_tag[key].plus(verdict)
        by_staff[mark.staff_id] = by_staff[mark.staff_id].plus(verdict)
        by_tag[mark.tag_id] = by_tag[mark.tag_id].plus(verdict)
    return Audit(dict(by_staff_tag), dict(by_staff), dict(by_tag), dict(not_auditable))
