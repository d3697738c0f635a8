"""The committed SDL is what clients code against: it must match the schema the code builds."""

from __future__ import annotations

from pathlib import Path

from api.schema import schema

SDL = Path(__file__).parents[2] / "api" / "schema.graphql"


def test_committed_sdl_matches_the_code() -> None:
    assert SDL.read_text(encoding="utf-8") == schema.as_str() + "\n", (
        "api/schema.graphql is out of date: run `guang schema` (make schema) and commit it"
    )
