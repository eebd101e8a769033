r"""Foreign text made safe to print: a server's words must not drive the terminal that shows them, nor the
Markdown of a comment (``md_text``, ``md_code``).

>>> print(escape_control("bad\n\x1b[2Jvalue"))
bad\n\x1b[2Jvalue
"""

from __future__ import annotations

import html
import re

# C0 and C1 controls and DEL; the line and paragraph separators (str.splitlines breaks on them); the
# bidirectional overrides and isolates, which reorder what a terminal shows ("Trojan Source").
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_control(text: str) -> str:
    r"""``text`` on one line, with every control character written as an escape (``\n``, ``\x1b``, ``\u202e``).

    Printable text, emoji and non-Latin scripts pass unchanged; backslashes are left as they are.
    """
    return _CONTROL.sub(_escape, text)


def clip(text: str, limit: int = 300) -> str:
    """``text`` cut to ``limit`` characters, marked with an ellipsis when it was cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_\[\]!|~#:])")  # what can start markup mid-line


def md_text(text: str) -> str:
    """Text that renders as itself: no link, image, emphasis, HTML, table cell break or ``@`` mention."""
    escaped = _MARKDOWN_PUNCTUATION.sub(r"\\\1", html.escape(escape_control(text), quote=False))
    return escaped.replace("@", "@\u200b")  # a zero-width space: GitHub makes no mention of it


def md_code(text: str) -> str:
    """A code span that no backtick inside can close, safe in a table cell."""
    text = escape_control(text).replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"
