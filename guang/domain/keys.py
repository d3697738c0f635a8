"""Where derived features live in the key-value store: written by the dataflow, read by api and recsys."""

from __future__ import annotations


def subject(subject_id: str) -> str:
    return f"f:subj:{subject_id}"


def presence(store_id: str) -> str:
    return f"f:store:{store_id}:present"


def store_best(store_id: str) -> str:
    return f"f:store:{store_id}:best"


FACE_CONSENT = "consent:face"
"""Set of member ids whose separate face-recognition consent is active (the live view of documents)."""
