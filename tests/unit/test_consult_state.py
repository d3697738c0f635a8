"""The WeCom 联系我 `state` of 向TA咨询: compact, attributable, tamper-evident."""

from __future__ import annotations

import pytest

from guang.domain.errors import Invalid
from guang.staff.models import ConsultSource
from guang.staff.service import post_text
from guang.staff.state import (
    ALPHABET,
    STATE_CHARS,
    WECOM_STATE_MAX,
    contact_way_url,
    new_state,
    state_key,
    verify_state,
)

KEY = state_key("unit-secret")


@pytest.mark.parametrize("source", list(ConsultSource))
def test_a_state_fits_wecom_and_round_trips_its_source(source: ConsultSource) -> None:
    state = new_state(KEY, source)
    assert len(state) == STATE_CHARS <= WECOM_STATE_MAX
    assert all(c in ALPHABET for c in state)
    assert verify_state(KEY, state) is source
    assert verify_state(KEY, f"  {state} ") is source


def test_states_are_unique() -> None:
    assert len({new_state(KEY, ConsultSource.POST) for _ in range(1000)}) == 1000


def test_every_single_character_change_is_refused() -> None:
    state = new_state(KEY, ConsultSource.STORE)
    for i, original in enumerate(state):
        for replacement in {"P", "A", "2", "7"} - {original}:
            with pytest.raises(Invalid):
                verify_state(KEY, state[:i] + replacement + state[i + 1 :])


@pytest.mark.parametrize("bad", ["", "short", "P" + "a" * (STATE_CHARS - 1), "X" * STATE_CHARS])
def test_malformed_states_are_refused(bad: str) -> None:
    with pytest.raises(Invalid):
        verify_state(KEY, bad)


def test_a_state_signed_with_another_secret_is_refused() -> None:
    with pytest.raises(Invalid):
        verify_state(KEY, new_state(state_key("another-secret"), ConsultSource.POST))


def test_the_contact_way_url_is_stable_per_staff_and_hides_the_wecom_id() -> None:
    one = contact_way_url(KEY, "wecom-staff-0001", "STATE")
    assert one == contact_way_url(KEY, "wecom-staff-0001", "STATE")
    assert one.startswith("https://work.weixin.qq.com/ca/") and one.endswith("?state=STATE")
    assert "wecom-staff-0001" not in one
    assert one != contact_way_url(KEY, "wecom-staff-0002", "STATE")


def test_post_text_is_trimmed_and_bounded() -> None:
    assert post_text("  好物  ") == "好物"
    assert len(post_text("长" * 1000)) == 1000
    for bad in ("", "   ", "长" * 1001, "\u202e\x00 \x1b"):
        with pytest.raises(Invalid):
            post_text(bad)


def test_post_text_drops_control_and_bidi_characters_like_articles_and_comments() -> None:
    assert post_text("新\u202e款\x00到\x1b店\u2066") == "新款到店"
    assert post_text("第一行\r\n\n\n\n第二行") == "第一行\n\n第二行"
