"""Desired-state files → :class:`~reconciler.models.DesiredState`: each file read, validated and located,
then the checks across files (duplicates, ignored and protected senders, ``safety:`` in one file only).

    state = load_desired(["senders.yaml", "conf.d/"], environ={"HOOKS": "https://hooks.example.com"})
    model = load_file("senders.yaml")               # one file as written: defaults not merged
    model, state = load_text(text, "senders.yaml")  # the same, from a text at hand, with its state
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from reconciler.config import reader
from reconciler.config.interpolate import Variables, interpolate
from reconciler.config.messages import MISSING, kind_of, validation_messages
from reconciler.config.places import service_declarations
from reconciler.config.reader import DataPath, InputError, Position
from reconciler.defaults import DEFAULT_FILE as DEFAULT_FILE
from reconciler.defaults import STDIN_NAME, STDIO
from reconciler.errors import ConfigError, ConfigIssue, Location
from reconciler.models import (
    ACCOUNT_SID,
    SANDBOX_SENDER_ID,
    SECTIONS,
    DesiredSender,
    DesiredState,
    Safety,
    SendersFile,
    check_sender_id,
)

#: File name endings read when ``-f`` names a directory.
YAML_SUFFIXES: tuple[str, ...] = (".yaml", ".yml")


def load_desired(
    paths: Sequence[str | Path] = (DEFAULT_FILE,),
    environ: Mapping[str, str] | None = None,
) -> DesiredState:
    """Read, validate and merge desired-state files of one account.

    ``paths`` are files or directories (every ``*.yaml``/``*.yml`` inside, sorted). ``environ``
    supplies ``${VAR}`` values (default: ``os.environ``), and with ``RECONCILER_FILE_VARS`` the only
    names they may come from; names that may hold credentials are never read (see
    :mod:`~reconciler.config.interpolate`). Raises :class:`ConfigError` carrying every issue found,
    each at ``file:line:col``, and when the files name more than one account (:func:`load_accounts`
    reads those).
    """
    states = load_accounts(paths, environ)
    if len(states) > 1:
        named = ", ".join(s.account or "the credentials' account" for s in states)
        raise ConfigError([ConfigIssue(Location(states[1].sources[0]), f"the files name several accounts ({named})")])
    return states[0]


def load_accounts(
    paths: Sequence[str | Path] = (DEFAULT_FILE,),
    environ: Mapping[str, str] | None = None,
    default_account: str | None = None,
) -> list[DesiredState]:
    """Read and validate desired-state files, merged per account: one :class:`DesiredState` each.

    A file's ``account:`` names its account; a file without one belongs to ``default_account`` (the
    SID of the credentials in use, when known; ``None`` otherwise). Files of one account merge
    (``ignore:``, ``protect:``, one ``safety:``); a sender declared under two accounts is an issue at both places.
    The states come in the order their accounts first appear in the files.
    """
    variables = Variables.from_environ(os.environ if environ is None else environ)
    files, issues = _expand_paths(paths)
    loaded = [_load_one(path, variables) for path in files]
    groups: dict[str | None, list[_Loaded]] = {}
    for item in loaded:
        groups.setdefault(_account_of(item, default_account), []).append(item)
    for group in groups.values():
        _check_across_files(group)
    _check_across_accounts(groups)
    for item in loaded:
        issues.extend(item.located_issues())
    if issues:
        raise ConfigError(issues)
    return [_merged(account, group) for account, group in groups.items()]


def _account_of(item: _Loaded, default: str | None) -> str | None:
    """The account a file's senders belong to (for a file with problems: as far as it can be read)."""
    if item.model is not None:
        return item.model.account or default
    named = item.data.get("account") if isinstance(item.data, dict) else None
    return named if isinstance(named, str) and ACCOUNT_SID.match(named) else default


def _merged(account: str | None, group: list[_Loaded]) -> DesiredState:
    senders: list[DesiredSender] = []
    ignore: set[str] = set()
    protect: dict[str, str] = {}
    safety = Safety()
    declared: dict[str, tuple[str, DataPath]] = {}
    for item in group:
        assert item.model is not None
        senders.extend(merge_defaults(item.model))
        ignore.update(item.model.ignore)
        for sender_id, where in item.protect_ids:  # located now: a plan that would delete one names the place
            protect.setdefault(sender_id, str(item.location(where)))
        if item.model.safety is not None:
            safety = item.model.safety
        if item.text is not None and "messaging_service" in item.text:
            declared.update(service_declarations(item.model, item.name))
    # Every check DesiredState's validators make was made above, with locations.
    return DesiredState.model_construct(
        senders=tuple(senders),
        ignore=frozenset(ignore),
        protect=protect,
        safety=safety,
        sources=tuple(item.name for item in group),
        account=account,
        service_declarations=declared,
    )


def load_file(path: str | Path, environ: Mapping[str, str] | None = None) -> SendersFile:
    """One file as written (``defaults:`` not merged). Raises :class:`ConfigError`."""
    item = _load_one(None if path == STDIO else Path(path), Variables.from_environ(os.environ if environ is None else environ))
    _check_across_files([item])
    issues = item.located_issues()
    if issues:
        raise ConfigError(issues)
    assert item.model is not None
    return item.model


def load_text(text: str, name: str, environ: Mapping[str, str] | None = None,
              default_account: str | None = None) -> tuple[SendersFile, DesiredState]:
    """One file whose text is at hand, checked as :func:`load_accounts` checks it (messages name ``name``): the
    file as written, and its state. Raises :class:`ConfigError`."""
    item = _load_one(None, Variables.from_environ(os.environ if environ is None else environ), text, name)
    _check_across_files([item])
    issues = item.located_issues()
    if issues:
        raise ConfigError(issues)
    assert item.model is not None
    return item.model, _merged(_account_of(item, default_account), [item])


def merge_defaults(file: SendersFile) -> list[DesiredSender]:
    """The file's senders with its ``defaults:`` merged under them.

    Per field inside ``configuration``/``webhook``/``profile``; the sender's own values win, lists
    are replaced, not merged. A default counts as managed for every sender it applies to.
    """
    defaults = file.defaults
    if defaults is None or not defaults.model_fields_set:
        return list(file.senders)
    out = []
    for sender in file.senders:
        update: dict[str, Any] = {}
        for section in SECTIONS:
            base = getattr(defaults, section)
            if base is None:
                continue
            own = getattr(sender, section)
            if own is None:
                update[section] = base
            else:
                update[section] = base.model_copy(update={k: getattr(own, k) for k in own.model_fields_set})
        if defaults.manages_service and not sender.manages_service:
            update["messaging_service"] = defaults.messaging_service
        out.append(sender.model_copy(update=update) if update else sender)
    return out


def _expand_paths(paths: Sequence[str | Path]) -> tuple[list[Path | None], list[ConfigIssue]]:
    """Files to read, in order: a directory gives its ``*.yaml``/``*.yml`` files, sorted by name; the string ``-``
    gives ``None``, standard input (read once)."""
    files: list[Path | None] = []
    issues: list[ConfigIssue] = []
    seen: set[Path | None] = set()
    if isinstance(paths, (str, Path)):
        paths = [paths]
    for raw in paths:
        if isinstance(raw, str) and raw == STDIO:
            if None not in seen:
                seen.add(None)
                files.append(None)
            continue
        path = Path(raw)
        if path.is_dir():
            found = sorted(
                p for p in path.iterdir()
                if p.suffix in YAML_SUFFIXES and not p.name.startswith(".") and p.is_file()
            )
            if not found:
                issues.append(ConfigIssue(Location(str(path)), "the directory holds no *.yaml or *.yml files"))
        elif path.exists():
            found = [path]
        else:
            issues.append(ConfigIssue(Location(str(path)), "no such file or directory"))
            found = []
        for p in found:
            resolved = p.resolve()
            if resolved not in seen:  # the same file named twice is read once
                seen.add(resolved)
                files.append(p)
    return files, issues


# --------------------------------------------------------------------------- one file


@dataclass
class _Pending:
    """An issue known by its place in the data, before line numbers are looked up."""

    path: DataPath
    message: str
    key: bool = False  # point at the key itself rather than its value
    line: int | None = None  # set when the location is known without reading positions
    column: int | None = None
    #: Other places the message names: each fills a ``{}`` in ``message`` with ``file:line:col``.
    refs: tuple[tuple[_Loaded, DataPath, bool], ...] = ()
    #: Prefix the message with the field's path (``profile.about: ...``).
    label: bool = True
    #: The ``${...}`` references the value came from: named after the path, as the value is never quoted.
    origin: str | None = None


@dataclass(eq=False)
class _Loaded:
    path: Path | None  # None: standard input
    name: str
    text: str | None = None
    data: Any = None
    model: SendersFile | None = None
    pending: list[_Pending] = field(default_factory=list)
    #: (sender_id, data path) of every sender with a valid id, and of every ignore and protect entry.
    sender_ids: list[tuple[str, DataPath]] = field(default_factory=list)
    ignore_ids: list[tuple[str, DataPath]] = field(default_factory=list)
    protect_ids: list[tuple[str, DataPath]] = field(default_factory=list)
    #: True when the C parser read the file: its events can then give positions cheaply.
    fast: bool = False
    _marks: dict[DataPath, Position] | None = None
    _marked: bool = False

    def add(
        self,
        message: str,
        path: DataPath = (),
        *,
        key: bool = False,
        line: int | None = None,
        column: int | None = None,
        refs: tuple[tuple[_Loaded, DataPath, bool], ...] = (),
        label: bool = True,
        origin: str | None = None,
    ) -> None:
        self.pending.append(_Pending(path, message, key, line, column, refs, label, origin))

    def refuse(self, exc: InputError) -> None:
        self.add(exc.message, line=exc.line, column=exc.column)

    @property
    def marks(self) -> dict[DataPath, Position] | None:
        """Positions of the file's nodes, computed only when a message needs one (about a second for
        10,000 senders), from the same parser that read the file."""
        if not self._marked and self.text is not None:
            self._marked = True
            self._marks = reader.positions(self.text, fast=self.fast)
        return self._marks

    def location(self, path: DataPath, key: bool = False) -> Location:
        marks = self.marks
        line, column = reader.locate(marks, path, key) if marks is not None else (None, None)
        return Location(self.name, line, column)

    def located_issues(self) -> list[ConfigIssue]:
        issues = []
        for p in self.pending:
            if p.line is not None or not p.path:
                line, column = p.line, p.column
                if line is None and self.text is not None:
                    line, column = reader.first_content(self.text)
                where = Location(self.name, line, column)
            else:
                where = self.location(p.path, p.key)
            message = p.message.format(*(other.location(op, k) for other, op, k in p.refs)) if p.refs else p.message
            sender_id, message = _attribute(self.data, p.path, message, p.label, p.origin)
            issues.append(ConfigIssue(where, message, sender_id))
        issues.sort(key=lambda i: (i.location.line or 0, i.location.column or 0))
        return issues


def _load_one(path: Path | None, variables: Variables, text: str | None = None, name: str | None = None) -> _Loaded:
    """One file read (or ``text``, read already), parsed, validated and located; named ``name`` when given."""
    item = _Loaded(path, name or (STDIN_NAME if path is None else str(path)))
    text = _read_text(item) if text is None else text
    if text is None:
        return item
    item.text = text
    data = _parse_safe(item, text)
    if item.pending:
        return item
    if data is None:
        item.add("the file is empty; expected a mapping with 'senders:'", line=1, column=1)
        return item
    if not isinstance(data, dict):
        line, column = reader.first_content(text)
        item.add(f"the top level must be a mapping with 'senders:', not {kind_of(data)}", line=line, column=column)
        return item
    try:
        reader.check_aliases(data, text)
    except InputError as exc:
        item.refuse(exc)
        return item
    item.data = data
    found = interpolate(data, variables) if "$" in text else None
    for message, where in found.problems if found else ():
        item.add(message, where)
    try:
        item.model = SendersFile.model_validate(data)
    except ValidationError as exc:
        reported = {p.path for p in item.pending if p.path}
        for said in validation_messages(exc, reported, found.origin if found else None):
            item.add(said.text, said.path, key=said.key, origin=said.origin)
    except RecursionError:
        item.add("the file is nested too deeply", line=1, column=1)
    _collect_ids(item)
    return item


def _read_text(item: _Loaded) -> str | None:
    """The file's text, or ``None`` with the reason added to ``item``."""
    try:
        return reader.read_text(item.path)
    except InputError as exc:
        item.refuse(exc)
        return None


def _parse_safe(item: _Loaded, text: str) -> Any:
    """The file's values, or ``None`` with the reason added to ``item``."""
    try:
        document = reader.parse(text)
    except InputError as exc:
        item.refuse(exc)
        return None
    item.fast = document.fast
    return document.data


# --------------------------------------------------------------------------- ids, duplicates


def _collect_ids(item: _Loaded) -> None:
    if item.model is not None:  # already checked: no need to parse the numbers again
        item.sender_ids = [(s.sender_id, ("senders", i, "sender_id")) for i, s in enumerate(item.model.senders)]
        item.ignore_ids = [(s, ("ignore", i)) for i, s in enumerate(item.model.ignore)]
        item.protect_ids = [(s, ("protect", i)) for i, s in enumerate(item.model.protect)]
        return
    data = item.data
    senders = data.get("senders")
    if isinstance(senders, list):
        for index, sender in enumerate(senders):
            if isinstance(sender, dict) and _valid_id(sender.get("sender_id")):
                item.sender_ids.append((sender["sender_id"], ("senders", index, "sender_id")))
    for key, found in (("ignore", item.ignore_ids), ("protect", item.protect_ids)):
        entries = data.get(key)
        if isinstance(entries, list):
            found.extend((entry, (key, index)) for index, entry in enumerate(entries) if _valid_id(entry))


def _valid_id(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        check_sender_id(value)
    except ValueError:
        return False
    return True


def _check_across_files(loaded: list[_Loaded]) -> None:
    """Senders unique across all files; none both managed and ignored, nor both protected and ignored; ``safety:``
    in one file only.

    Each conflict is reported at both places, each message naming the other.
    """
    first: dict[str, tuple[_Loaded, DataPath]] = {}
    for item in loaded:
        for sender_id, where in item.sender_ids:
            if sender_id == SANDBOX_SENDER_ID:
                item.add("this is Twilio's shared WhatsApp sandbox number; it cannot be managed", where, label=False)
            if sender_id not in first:
                first[sender_id] = (item, where)
                continue
            other, other_where = first[sender_id]
            item.add("duplicate sender; first declared at {}", where, refs=((other, other_where, False),), label=False)
            other.add("duplicate sender; declared again at {}", other_where, refs=((item, where, False),), label=False)
    for item in loaded:
        for sender_id, where in item.ignore_ids:
            if sender_id in first:
                other, other_where = first[sender_id]
                item.add(f"{sender_id} is ignored but also declared under senders at {{}}", where,
                         refs=((other, other_where, False),))
                other.add("declared under senders but also listed under ignore at {}", other_where,
                          refs=((item, where, False),), label=False)
    _check_protected(loaded)
    with_safety = [i for i in loaded if isinstance(i.data, dict) and "safety" in i.data]
    for item in with_safety[1:]:
        first_item = with_safety[0]
        item.add("may be set in one file only; already set at {}", ("safety",), key=True,
                 refs=((first_item, ("safety",), True),))
        first_item.add("may be set in one file only; set again at {}", ("safety",), key=True,
                       refs=((item, ("safety",), True),))


def _check_protected(loaded: list[_Loaded]) -> None:
    """None both protected and ignored (across the files of one account), reported at both places."""
    ignored: dict[str, tuple[_Loaded, DataPath]] = {}
    for item in loaded:
        for sender_id, where in item.ignore_ids:
            ignored.setdefault(sender_id, (item, where))
    for item in loaded:
        for sender_id, where in item.protect_ids:
            if sender_id in ignored:
                other, other_where = ignored[sender_id]
                item.add(f"{sender_id} is protected but also listed under ignore at {{}}: a sender the files leave "
                         "alone cannot also be protected by them; keep one", where, refs=((other, other_where, False),))
                other.add(f"{sender_id} is ignored but also listed under protect at {{}}", other_where,
                          refs=((item, where, False),))


def _check_across_accounts(groups: Mapping[str | None, list[_Loaded]]) -> None:
    """A number belongs to one WhatsApp Business Account, so to one Twilio account: one declared under two
    accounts is reported at both places."""
    first: dict[str, tuple[str | None, _Loaded, DataPath]] = {}
    for account, group in groups.items():
        for item in group:
            for sender_id, where in item.sender_ids:
                seen = first.setdefault(sender_id, (account, item, where))
                if seen[0] == account:
                    continue
                other_account, other, other_where = seen
                item.add(f"declared under two accounts: also under {_account_name(other_account)} at {{}}; "
                         "a number belongs to one account", where, refs=((other, other_where, False),), label=False)
                other.add(f"declared under two accounts: also under {_account_name(account)} at {{}}; "
                          "a number belongs to one account", other_where, refs=((item, where, False),), label=False)


def _account_name(account: str | None) -> str:
    return account or "the credentials' account"


# --------------------------------------------------------------------------- messages: whose, and where


def _attribute(data: Any, path: DataPath, message: str, label: bool = True,
               origin: str | None = None) -> tuple[str | None, str]:
    """Which sender an issue belongs to, and the message prefixed with the field's path (and the ``${...}`` it
    came from: ``profile.about (from ${ABOUT}): ...``)."""
    sender_id = None
    start = 0
    if len(path) >= 2 and path[0] == "senders" and isinstance(data, dict):
        senders = data.get("senders")
        if isinstance(senders, list) and isinstance(path[1], int) and path[1] < len(senders):
            sender = senders[path[1]]
            if isinstance(sender, dict) and _valid_id(sender.get("sender_id")):
                sender_id = sender["sender_id"]
                start = 2
    shown = _format_path(data, path[start:], path[:start]) if label or not sender_id else ""
    if origin is not None:
        shown = f"{shown} (from {origin})".lstrip()
    return sender_id, f"{shown}: {message}" if shown else message


def _format_path(data: Any, path: DataPath, prefix: DataPath) -> str:
    """``profile.websites[0]``: the part of ``path`` that exists in the data, plus a missing key's parent."""
    node = data
    for step in prefix:
        node = node[step]
    out = ""
    for step in path:
        if step is MISSING:
            break
        if isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
            out += f"[{step}]"
            node = node[step]
        elif isinstance(node, dict) and step in node:
            out += f".{step}" if isinstance(step, str) else f"[{step!r}]"
            node = node[step]
        else:
            break
    return out.lstrip(".")
