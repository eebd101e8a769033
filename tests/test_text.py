"""escape_control and clip: a server's words reach a terminal as one printable line."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.text import clip, escape_control


@pytest.mark.parametrize(("text", "escaped"), [
    ("a\nb", "a\\nb"),
    ("a\r\nb\tc", "a\\r\\nb\\tc"),
    ("\x1b[2J\x1b[31mred", "\\x1b[2J\\x1b[31mred"),
    ("\x00\x07\x7f", "\\x00\\x07\\x7f"),
    ("\x9b31m\x85", "\\x9b31m\\x85"),  # C1 controls: CSI and NEL
    ("a\u2028b\u2029c", "a\\u2028b\\u2029c"),
    ("abc\u202edcba\u2066x\u2069\u200f", "abc\\u202edcba\\u2066x\\u2069\\u200f"),
])
def test_controls_are_escaped(text, escaped):
    assert escape_control(text) == escaped


@pytest.mark.parametrize("text", ["Acme Café", "Zoë’s shop — open", "店舗", "👩‍💻 dev", "C:\\path\\n", ""])
def test_printable_text_passes_unchanged(text):
    assert escape_control(text) == text


@given(st.text())
def test_whatever_comes_in_goes_out_on_one_line_without_controls(text):
    out = escape_control(text)
    assert len(out.splitlines()) <= 1
    assert not [c for c in out if unicodedata.category(c) in ("Cc", "Zl", "Zp")]
    assert "\u202e" not in out and "\u2066" not in out


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Zl", "Zp", "Cf", "Cs"))))
def test_text_without_controls_is_left_alone(text):
    assert escape_control(text) == text


def test_clip():
    assert clip("short", 10) == "short"
    assert clip("x" * 11, 10) == "x" * 9 + "…"
    assert len(clip("y" * 10_000)) == 300
