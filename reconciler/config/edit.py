"""Senders added to a desired-state file's text, leaving every byte already there as it was.

    text = SendersText(original, "senders.yaml")
    text.declared()                          # {"whatsapp:+15017122661": Location("senders.yaml", 5, 16)}
    new = text.with_senders([({"sender_id": "whatsapp:+15017122662", "profile": {"name": "Beta"}}, [])])

A round trip through ruamel's loader and dumper keeps comments but not the file's layout (indents,
spacing before comments, which item a trailing comment belongs to), so the new entries are rendered on
their own, indented as the file's own senders are, and inserted as lines after the last sender. Comments
and blank lines that follow the last sender at its dash's column or left of it stay with what follows.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from typing import Any

from ruamel.yaml import YAML

from reconciler.config import reader
from reconciler.config.reader import DataPath
from reconciler.errors import ConfigError, ConfigIssue, Location

#: A new entry: the sender's mapping, and the comment lines that go above it.
Entry = tuple[dict[str, Any], Sequence[str]]

_EMPTY_FLOW = re.compile(r"\[\s*\]")
_LINE_END = re.compile("(?:\r\n|[\r\n\x85\u2028\u2029])\\Z")
#: A line and its break, as the YAML parsers count lines (NEL, LS and PS too; not str.splitlines's others).
_LINE = re.compile("[^\r\n\x85\u2028\u2029]*(?:\r\n|[\r\n\x85\u2028\u2029])|[^\r\n\x85\u2028\u2029]+$")


class SendersText:
    """A desired-state file's text (valid: :func:`reconciler.config.load_text` read it), and where its nodes stand."""

    def __init__(self, text: str, name: str):
        self.text, self.name = text, name
        document = reader.parse(text)
        self.data: Any = document.data
        self.marks = reader.positions(text, fast=document.fast) or {}
        self.lines = _LINE.findall(text)
        self.newline = "\r\n" if "\r\n" in text else "\n"

    def _at(self, path: DataPath, key: bool = False) -> Location:
        line, column = reader.locate(self.marks, path, key)
        return Location(self.name, line, column)

    def _listed(self, key: str, item_key: str | None = None) -> dict[str, Location]:
        entries = self.data.get(key) if isinstance(self.data, dict) else None
        out: dict[str, Location] = {}
        for index, entry in enumerate(entries if isinstance(entries, list) else ()):
            value = entry.get(item_key) if item_key and isinstance(entry, dict) else entry
            if isinstance(value, str):
                out.setdefault(value, self._at((key, index, item_key) if item_key else (key, index)))
        return out

    def declared(self) -> dict[str, Location]:
        """Sender id → where the file declares it (its ``sender_id``)."""
        return self._listed("senders", "sender_id")

    def ignored(self) -> dict[str, Location]:
        """Sender id → its ``ignore:`` entry."""
        return self._listed("ignore")

    def with_senders(self, entries: Sequence[Entry]) -> str:
        """The text with ``entries`` added at the end of ``senders:`` (made when the file has none)."""
        if not entries:
            return self.text
        if not isinstance(self.data, dict) or self._char(()) == "{":
            raise self._refusal((), "the file is one flow mapping ({...}); write it in block style to add senders")
        if "senders" not in self.data:
            return self._appended(_rendered(entries, self.newline))
        start = self._char(("senders",))
        if start == "[":
            return self._into_empty_flow(entries)
        return self._into_block(entries)

    # ---- where things stand

    def _char(self, path: DataPath) -> str:
        """The first character of the node at ``path``."""
        found = self.marks.get(path)
        if found is None:
            return ""
        line = self.lines[found[2]] if found[2] < len(self.lines) else ""
        return line[found[3]:found[3] + 1]

    def _refusal(self, path: DataPath, message: str) -> ConfigError:
        return ConfigError(ConfigIssue(self._at(path), message))

    def _appended(self, block: str) -> str:
        """``senders:`` and the new entries at the end of the file."""
        text = self.text if not self.lines or _LINE_END.search(self.lines[-1]) else self.text + self.newline
        return text + "senders:" + self.newline + block

    def _into_empty_flow(self, entries: Sequence[Entry]) -> str:
        """``senders: []`` (a comment after it stays) becomes ``senders:`` followed by the new entries."""
        line_no, column = self.marks[("senders",)][2:]
        line = self.lines[line_no]
        empty = _EMPTY_FLOW.match(line, column)
        if empty is None:
            raise self._refusal(("senders",), "senders: is a flow list ([...]); write it one sender a line, in block "
                                              "style, to add senders to it")
        key_column = self.marks[("senders",)][1]
        body = line[:empty.start()].rstrip() + _LINE_END.sub("", line[empty.end():])
        ending = found.group() if (found := _LINE_END.search(line)) else self.newline
        rendered = _rendered(entries, self.newline, key_column)
        return "".join([*self.lines[:line_no], body.rstrip() + ending, rendered, *self.lines[line_no + 1:]])

    def _into_block(self, entries: Sequence[Entry]) -> str:
        """The new entries after the last sender, indented as the first one is."""
        key_column = self.marks[("senders",)][1]
        dash_column = self.marks[("senders",)][3]
        first = self.marks.get(("senders", 0))
        content = first[3] - dash_column if first is not None and first[2] == self.marks[("senders",)][2] else 2
        rendered = _rendered(entries, self.newline, key_column, dash_column - key_column, content, self._mapping_indent())
        end = self._end_of_senders()
        while end > 0 and _belongs_after(self.lines[end - 1], dash_column):
            end -= 1
        before = self.lines[:end]
        if before and not _LINE_END.search(before[-1]):
            before[-1] += self.newline
        return "".join([*before, rendered, *self.lines[end:]])

    def _end_of_senders(self) -> int:
        """The index of the first line after ``senders:``'s value: the next top-level key's, or the end."""
        senders_line = self.marks[("senders",)][0]
        later = [mark[0] for path, mark in self.marks.items() if len(path) == 1 and mark[0] > senders_line]
        return min(later, default=len(self.lines))

    def _mapping_indent(self) -> int:
        """How far the file indents a section under a sender (``profile:`` → ``name:``); 2 when it never does."""
        for path, mark in self.marks.items():
            if len(path) == 4 and path[0] == "senders":
                parent = self.marks.get(path[:3])
                if parent is not None and mark[0] > parent[0] and mark[1] > parent[1]:
                    return mark[1] - parent[1]
        return 2


def _belongs_after(line: str, dash_column: int) -> bool:
    """A blank line, or a comment at the dash's column or left of it: part of what follows the senders."""
    stripped = line.strip()
    return not stripped or (stripped.startswith("#") and len(line) - len(line.lstrip()) <= dash_column)


def _rendered(entries: Sequence[Entry], newline: str, key_column: int = 0, dash: int = 2, content: int = 2,
              mapping: int = 2) -> str:
    """The entries as block-sequence items of a ``senders:`` key at ``key_column``: the dash ``dash`` columns in,
    the item's keys ``content`` columns after the dash, nested keys ``mapping`` columns in; each entry's comment
    lines above it, at the dash's column."""
    yaml = YAML()
    yaml.default_flow_style = False
    yaml.width = 4096  # a long value stays on one line
    yaml.indent(mapping=mapping, sequence=dash + content, offset=dash)
    margin = " " * key_column
    out: list[str] = []
    for mapping_, comments in entries:
        buffer = io.StringIO()
        yaml.dump({"senders": [mapping_]}, buffer)
        lines = buffer.getvalue().splitlines()[1:]  # without "senders:"
        out.extend(f"{margin}{' ' * dash}# {comment}" for comment in comments)
        out.extend(margin + line for line in lines)
    return "".join(line + newline for line in out)
