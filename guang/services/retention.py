"""Retention limits, applied by a scheduled job: records about people are kept only as long as a setting
says. Each rule deletes one collection's documents older than its limit by one time field."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from guang.accounts.face_enrolment import ENROLMENT_CODES, MATCHES
from guang.adapters.ports import DocumentStore
from guang.clienteling.models import DELIVERIES
from guang.services.app_events import now_ms

log = logging.getLogger(__name__)
DAY_MS = 86_400_000


@dataclass(frozen=True)
class Rule:
    collection: str
    field: str
    """Epoch milliseconds the age is measured from."""
    why: str


RULES = {
    "face_matches": Rule(MATCHES, "logged_ms", "the audit log of face matches"),
    "face_enrolment_codes": Rule(ENROLMENT_CODES, "expires_ms", "one-time kiosk codes, after they expire"),
    "campaign_deliveries": Rule(DELIVERIES, "delivered_ms", "advisors' messages to clients"),
}
"""Names are the keys of the `retention_days` setting."""


def check_rules(days: Mapping[str, int]) -> None:
    """Refuse a misconfigured `retention_days` at start-up rather than at the first hourly run."""
    unknown = sorted(set(days) - set(RULES))
    if unknown:
        raise ValueError(f"unknown retention rule(s): {', '.join(unknown)}; known: {', '.join(RULES)}")
    short = sorted(name for name, limit in days.items() if limit < 1)
    if short:
        raise ValueError(f"retention limits are whole days ≥ 1: {', '.join(short)}")


async def apply_retention(
    documents: DocumentStore, days: Mapping[str, int], *, now: int | None = None
) -> dict[str, int]:
    """Delete what is older than each configured limit; how many went, per rule."""
    check_rules(days)
    at = now if now is not None else now_ms()
    deleted = {}
    for name, limit in days.items():
        rule = RULES[name]
        deleted[name] = await documents.delete_many(
            rule.collection, {rule.field: {"$lt": at - limit * DAY_MS}}
        )
    return deleted


async def retention_job(
    documents: DocumentStore, days: Mapping[str, int], *, every_s: float, stop: Callable[[], bool]
) -> None:
    """Apply the limits now and then every `every_s` until `stop()`; a failed run is logged and retried."""
    while not stop():
        try:
            deleted = await apply_retention(documents, days)
            if any(deleted.values()):
                log.info("retention: deleted %s", deleted)
        except Exception as error:
            log.warning("retention run failed (next in %.0f s): %s", every_s, error)
        await asyncio.sleep(every_s)
