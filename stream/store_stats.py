"""Pure dataflow steps for the live dashboard and the recommender: windowed per-store and per-mall stats.

Both mappers fit `op.stateful_flat_map`: `(state | None, event) -> (state, list[Write])`. Time is event
time (`ts_ms`) bucketed into tumbling buckets aligned to the epoch; the clock of a store (or mall) is the
newest event time seen for it and never moves back. Counters live in the state and every write carries
an absolute value, so a replay after recovery writes the same values again.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from guang.domain.events import DwellEvent, Event, FaceEvent, PaymentEvent
from guang.domain.keys import (
    conversion_key,
    dwell_count_key,
    dwell_key,
    footfall_key,
    redemptions_key,
    trending_key,
)
from guang.domain.writes import Announce, Delete, Put, Write, ZPut

MINUTE_MS = 60_000


# Config and state


@dataclass(frozen=True)
class StatsConfig:
    bucket_ms: int = 5 * MINUTE_MS
    trending_window_ms: int = 60 * MINUTE_MS
    retention_ms: int = 120 * MINUTE_MS
    """How far behind a store's clock a bucket still takes events. The intake already holds back events
    more than `allowed_lateness_s` behind, so this only needs to exceed that; kept small because every
    retained bucket holds its subject ids in the snapshotted state."""
    history_ms: int = 24 * 60 * MINUTE_MS
    """How long written store stats stay readable: key TTL, and when per-store hash fields are deleted."""
    dwell_sku_weight: float = 0.2
    max_seen_event_ids: int = 4096

    def __post_init__(self) -> None:
        if (
            self.bucket_ms <= 0
            or self.trending_window_ms % self.bucket_ms
            or self.retention_ms % self.bucket_ms
        ):
            raise ValueError("the trending window and the retention must be whole numbers of buckets")
        if not self.bucket_ms <= self.retention_ms <= self.history_ms:
            raise ValueError("need bucket_ms <= retention_ms <= history_ms")

    @property
    def history_s(self) -> int:
        return self.history_ms // 1000

    @property
    def trending_ttl_s(self) -> int:
        """With no writes for a whole window, every score would have slid out: let the key expire."""
        return self.trending_window_ms // 1000


@dataclass
class StoreBucket:
    visitors: set[str] = field(default_factory=set)
    payers: set[str] = field(default_factory=set)
    dwell_ms: dict[str, int] = field(default_factory=dict)
    dwell_events: dict[str, int] = field(default_factory=dict)
    redemptions: int = 0


@dataclass
class StoreStatsState:
    """Per store; snapshotted by Bytewax recovery. Holds at most retention / bucket buckets."""

    newest_ms: int
    buckets: dict[int, StoreBucket] = field(default_factory=dict)
    faded: deque[int] = field(default_factory=deque)
    """Starts of buckets evicted from `buckets` whose fields in the per-store hashes are still there."""
    seen: dict[str, None] = field(default_factory=dict)


@dataclass
class MallTrendingState:
    """Per mall: SKU scores of the buckets inside the window, and the totals as last written."""

    newest_ms: int
    buckets: dict[int, dict[str, float]] = field(default_factory=dict)
    totals: dict[str, float] = field(default_factory=dict)
    seen: dict[str, None] = field(default_factory=dict)


def bucket_start(ts_ms: int, bucket_ms: int) -> int:
    return ts_ms - ts_ms % bucket_ms


def _first_time(seen: dict[str, None], event_id: str, limit: int) -> bool:
    """Remember the newest `limit` event ids (an insertion-ordered dict: O(1) lookup and eviction)."""
    if event_id in seen:
        return False
    seen[event_id] = None
    if len(seen) > limit:
        del seen[next(iter(seen))]
    return True


# Store stats


def update_store_stats(
    state: StoreStatsState | None, event: Event, *, config: StatsConfig
) -> tuple[StoreStatsState | None, list[Write]]:
    """Fold a face, dwell or payment event into its store's bucket; emit the values that changed.

    An event whose bucket is at or behind the store's clock minus the retention is ignored.
    """
    if not isinstance(event, FaceEvent | DwellEvent | PaymentEvent) or event.store_id is None:
        return state, []
    if state is None:
        state = StoreStatsState(newest_ms=event.ts_ms)
    if not _first_time(state.seen, event.event_id, config.max_seen_event_ids):
        return state, []
    if isinstance(event, PaymentEvent) and not _first_time(
        state.seen, f"order:{event.order_id}", config.max_seen_event_ids
    ):
        return state, []
    store = event.store_id
    writes = _advance_store_clock(state, store, event.ts_ms, config)
    start = bucket_start(event.ts_ms, config.bucket_ms)
    if start <= state.newest_ms - config.retention_ms:
        return state, writes
    bucket = state.buckets.setdefault(start, StoreBucket())
    ttl = config.history_s
    subject = event.subject_id
    if isinstance(event, PaymentEvent):
        if subject not in bucket.payers:
            bucket.payers.add(subject)
            writes.append(Put(conversion_key(store, start), len(bucket.payers), field="payers", ttl_s=ttl))
        if event.coupon_ids:
            bucket.redemptions += len(set(event.coupon_ids))
            writes.append(Put(redemptions_key(store), bucket.redemptions, field=str(start), ttl_s=ttl))
        writes.append(Announce(store, subject, event.event_id))  # face and dwell are announced with features
        return state, writes
    if subject not in bucket.visitors:
        bucket.visitors.add(subject)
        count = len(bucket.visitors)
        writes.append(Put(footfall_key(store), count, field=str(start), ttl_s=ttl))
        writes.append(Put(conversion_key(store, start), count, field="visitors", ttl_s=ttl))
    if isinstance(event, DwellEvent):
        zone = event.zone_id
        bucket.dwell_ms[zone] = bucket.dwell_ms.get(zone, 0) + event.dwell_ms
        bucket.dwell_events[zone] = bucket.dwell_events.get(zone, 0) + 1
        writes.append(Put(dwell_key(store, start), bucket.dwell_ms[zone], field=zone, ttl_s=ttl))
        writes.append(Put(dwell_count_key(store, start), bucket.dwell_events[zone], field=zone, ttl_s=ttl))
    return state, writes


def _advance_store_clock(
    state: StoreStatsState, store_id: str, ts_ms: int, config: StatsConfig
) -> list[Write]:
    """Move the clock forward, evict buckets past the retention, delete hash fields past the history.

    Per-bucket keys expire by TTL; the per-store hashes are refreshed by every write, so their old
    fields are removed here. `faded` stays in ascending order: no bucket behind an eviction cutoff
    is ever created again.
    """
    if ts_ms <= state.newest_ms:
        return []
    state.newest_ms = ts_ms
    for start in sorted(b for b in state.buckets if b <= ts_ms - config.retention_ms):
        del state.buckets[start]
        state.faded.append(start)
    writes: list[Write] = []
    while state.faded and state.faded[0] <= ts_ms - config.history_ms:
        field_name = str(state.faded.popleft())
        writes.append(Delete(footfall_key(store_id), member=field_name))
        writes.append(Delete(redemptions_key(store_id), member=field_name))
    return writes


# Mall trending


def update_mall_trending(
    state: MallTrendingState | None, event: Event, *, config: StatsConfig
) -> tuple[MallTrendingState | None, list[Write]]:
    """Fold payments (qty) and dwells (a fixed weight per SKU on the shelf) into the mall's trending SKUs.

    The score of a SKU is the sum over buckets whose start lies in (clock - window, clock]; the window
    slides with the newest event time. Emits a ZPut for every SKU whose score changed and a Delete for
    every SKU that slid out; events in buckets already out of the window change nothing.
    """
    if not isinstance(event, PaymentEvent | DwellEvent) or event.mall_id is None:
        return state, []
    if state is None:
        state = MallTrendingState(newest_ms=event.ts_ms)
    if not _first_time(state.seen, event.event_id, config.max_seen_event_ids):
        return state, []
    changed: set[str] = set()
    if event.ts_ms > state.newest_ms:
        state.newest_ms = event.ts_ms
        for start in [b for b in state.buckets if b <= event.ts_ms - config.trending_window_ms]:
            changed.update(state.buckets.pop(start))
    start = bucket_start(event.ts_ms, config.bucket_ms)
    weights = _sku_weights(event, config)
    if weights and start > state.newest_ms - config.trending_window_ms:
        scores = state.buckets.setdefault(start, {})
        for sku, weight in weights:
            scores[sku] = scores.get(sku, 0.0) + weight
            changed.add(sku)
    return state, _trending_writes(state, event.mall_id, changed, config)


def _sku_weights(event: PaymentEvent | DwellEvent, config: StatsConfig) -> list[tuple[str, float]]:
    if isinstance(event, PaymentEvent):
        return [(item.sku_id, float(item.qty)) for item in event.items]
    return [(sku, config.dwell_sku_weight) for sku in dict.fromkeys(event.sku_ids)]


def _trending_writes(
    state: MallTrendingState, mall_id: str, skus: set[str], config: StatsConfig
) -> list[Write]:
    """Recompute each SKU's total from its buckets (oldest first, rounded) so no float drift survives."""
    key = trending_key(mall_id)
    ordered = [scores for _, scores in sorted(state.buckets.items())]
    writes: list[Write] = []
    for sku in sorted(skus):
        total = round(sum(scores.get(sku, 0.0) for scores in ordered), 6)
        if total == state.totals.get(sku, 0.0):
            continue
        if total == 0.0:
            del state.totals[sku]
            writes.append(Delete(key, member=sku))
        else:
            state.totals[sku] = total
            writes.append(ZPut(key, sku, total, ttl_s=config.trending_ttl_s))
    return writes
