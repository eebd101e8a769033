"""Colour for a terminal, nothing elsewhere."""

from __future__ import annotations

import io

import pytest

from reconciler.render.style import ansi, plain, styler, wants_color


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("style", "code"), [
    ("create", "32"), ("update", "33"), ("delete", "31"), ("bold", "1"), ("dim", "2"), ("warn", "33"), ("error", "31"),
])
def test_each_style_is_one_ansi_code_reset_after_the_text(style, code):
    assert ansi("+ whatsapp:+15017122661", style) == f"\x1b[{code}m+ whatsapp:+15017122661\x1b[0m"
    assert plain("+ whatsapp:+15017122661", style) == "+ whatsapp:+15017122661"


def test_colour_only_on_a_terminal_and_never_with_no_color(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert wants_color(Terminal()) and not wants_color(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "")  # set, even empty: no colour (https://no-color.org)
    assert not wants_color(Terminal())


def test_the_styler_is_ansi_or_plain():
    assert styler(True) is ansi and styler(False) is plain
