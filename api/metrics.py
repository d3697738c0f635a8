"""Prometheus metrics of the serving process."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

registry = CollectorRegistry()
events_received = Counter(
    "guang_events_received_total", "Events received on POST /events by outcome", ["status"], registry=registry
)
event_batches_refused = Counter(
    "guang_event_batches_refused_total",
    "Whole event batches refused, by reason",
    ["reason"],
    registry=registry,
)
recommendation_seconds = Histogram(
    "guang_recommendation_seconds",
    "Time to build one recommendation list",
    ["surface"],
    buckets=(0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
    registry=registry,
)
dataflow_lag_events = Gauge(
    "guang_dataflow_lag_events",
    "Bus entries the dataflow has not read yet (counted up to 10,000; see the seconds gauge beyond)",
    registry=registry,
)
dataflow_lag_seconds = Gauge(
    "guang_dataflow_lag_seconds",
    "How far the dataflow's read position is behind the newest event",
    registry=registry,
)
screens_connected = Gauge("guang_screens_connected", "Screen subscriptions open", registry=registry)
store_lists_served = Gauge(
    "guang_store_lists_served",
    "Store-wide recommendation lists served since start, by whether they were computed or reused",
    ["result"],
    registry=registry,
)
screen_updates = Counter("guang_screen_updates_total", "Updates pushed to screens", registry=registry)
recommendations_degraded = Gauge(
    "guang_recommendations_degraded",
    "1 while recommendation lists are served degraded (popular items from memory), else 0",
    registry=registry,
)
degraded_lists_served = Gauge(
    "guang_degraded_lists_served",
    "Recommendation lists served degraded since start",
    registry=registry,
)
