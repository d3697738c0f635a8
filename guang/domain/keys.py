"""Where derived features live in the key-value store: written by the dataflow, read by api and recsys."""

from __future__ import annotations

from datetime import date, timedelta

DAY_MS = 86_400_000
LOCAL_OFFSET_MS = 8 * 3_600_000
"""Frequency-cap days are calendar days in UTC+8 (China has no daylight saving time)."""
_EPOCH = date(1970, 1, 1)


def local_day(ts_ms: int) -> str:
    """The UTC+8 calendar day of an epoch-ms time, as `YYYY-MM-DD` (the `day` of `subject_freq_key`)."""
    return (_EPOCH + timedelta(days=day_number(ts_ms))).isoformat()


def day_number(ts_ms: int) -> int:
    return (ts_ms + LOCAL_OFFSET_MS) // DAY_MS


def subject(subject_id: str) -> str:
    return f"f:subj:{subject_id}"


def presence(store_id: str) -> str:
    return f"f:store:{store_id}:present"


PRESENCE_PATTERN = presence("*")
"""Every store's presence key, as a SCAN pattern (store ids hold no glob characters)."""


def store_of_presence(key: str) -> str:
    """The store id of a `presence` key."""
    return key.removeprefix(presence("").removesuffix(":present")).removesuffix(":present")


def store_best(store_id: str) -> str:
    return f"f:store:{store_id}:best"


FACE_CONSENT = "consent:face"
"""Set of member ids whose separate face-recognition consent is active (the live view of documents)."""


# purchases


def subject_bought(subject_id: str) -> str:
    """Hash: sku_id -> last bought ts (ms)."""
    return f"f:subj:{subject_id}:bought"


def subject_orders(subject_id: str) -> str:
    """Hash: `count`, `spend_fen`."""
    return f"f:subj:{subject_id}:orders"


def sku_co_purchase(sku_id: str) -> str:
    """Sorted set: partner sku_id -> number of orders bought together."""
    return f"f:sku:{sku_id}:co"


def guide_ledger(guide_id: str) -> str:
    """Hash: order_id -> commission (fen)."""
    return f"f:guide:{guide_id}:ledger"


def guide_totals(guide_id: str) -> str:
    """Hash: `orders`, `sales_fen`, `commission_fen`."""
    return f"f:guide:{guide_id}:totals"


def coupon_redeemed(coupon_id: str) -> str:
    """Hash: order_id -> redemption ts (ms)."""
    return f"f:coupon:{coupon_id}:redeemed"


def coupon_stats(coupon_id: str) -> str:
    """Hash: `redemptions`."""
    return f"f:coupon:{coupon_id}:stats"


# geofence

WHERE_MALL = "mall"
WHERE_STORE = "store"
WHERE_TS = "ts"


def where_key(subject_id: str) -> str:
    """Hash of where a subject is: fields `mall`, `store` (absent when outside) and `ts` of the change."""
    return f"f:subj:{subject_id}:where"


# store_stats


def footfall_key(store_id: str) -> str:
    """Hash: bucket start (epoch ms, as text) -> unique subjects seen by face or dwell in that bucket."""
    return f"f:store:{store_id}:footfall"


def dwell_key(store_id: str, bucket_ms: int) -> str:
    """Hash: zone_id -> total dwell ms in the bucket starting at `bucket_ms`."""
    return f"f:store:{store_id}:dwell:{bucket_ms}"


def dwell_count_key(store_id: str, bucket_ms: int) -> str:
    """Hash: zone_id -> number of dwell events in the bucket starting at `bucket_ms`."""
    return f"f:store:{store_id}:dwell_n:{bucket_ms}"


def conversion_key(store_id: str, bucket_ms: int) -> str:
    """Hash with fields `visitors` and `payers` (unique subjects); a missing field means 0."""
    return f"f:store:{store_id}:conv:{bucket_ms}"


def redemptions_key(store_id: str) -> str:
    """Hash: bucket start (epoch ms, as text) -> coupon ids redeemed on payments in that bucket."""
    return f"f:store:{store_id}:redemptions"


def trending_key(mall_id: str) -> str:
    """Sorted set: sku_id -> score over the sliding trending window."""
    return f"f:mall:{mall_id}:trending"


# interactions


def subject_freq_key(subject_id: str, day: str) -> str:
    """Hash: `freq_field(...)` -> impressions of that target on that surface on `day` (see `local_day`)."""
    return f"f:subj:{subject_id}:freq:{day}"


def freq_field(surface: str, target_type: str, target_id: str) -> str:
    return f"{surface}:{target_type}:{target_id}"


def subject_engage_key(subject_id: str) -> str:
    """Hash: `clicks`, `likes`, `shares`, `follows`, `claims`, `consults` (lifetime counts)."""
    return f"f:subj:{subject_id}:engage"


def ctr_surface_group(surface: str) -> str:
    return f"surface:{surface}"


def ctr_arm_group(experiment: str, arm: str, surface: str) -> str:
    return f"arm:{experiment}:{arm}:{surface}"


def ctr_key(group: str) -> str:
    """Hash: `impressions`, `clicks`, `conversions`, `ctr` of a `ctr_surface_group` or `ctr_arm_group`."""
    return f"f:ctr:{group}"
