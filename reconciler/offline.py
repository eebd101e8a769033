"""The offline commands' work: checking desired-state files, the file's JSON Schema, the accounts' CI matrix.

    states = validate_files(["senders.yaml"])     # one per account; ConfigError lists every problem
    document = json_schema()
    places = sender_places(["senders.yaml"], {"whatsapp:+15017122661"})   # where each is declared

Apart from :mod:`reconciler.session` so that ``reconciler validate`` and ``reconciler schema`` (a
pre-commit hook runs the first on every commit) import neither the HTTP client nor the planner.
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from reconciler import __version__
from reconciler.config import MAX_FILE_BYTES, STDIN_NAME, YAML_SUFFIXES, load_accounts, reader
from reconciler.errors import AccountError, ConfigError, ConfigIssue, CredentialsError, Location
from reconciler.models import ACCOUNT_SID, DesiredState, account_sid_problem, senders_file_json_schema

#: Where ``reconciler schema`` says its JSON Schema dialect is.
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def validate_files(files: Sequence[str | Path], environ: Mapping[str, str] | None = None, *,
                   accounts: Sequence[str] = ()) -> list[DesiredState]:
    """Load and check desired-state files offline, one state per account; :class:`ConfigError` lists every problem.

    ``TWILIO_ACCOUNT_SID``, when set, is the account of files that name none (no secret is needed).
    ``accounts``: only the states of those accounts (``--account``), each of which some file must name.
    """
    env = os.environ if environ is None else environ
    default = env.get("TWILIO_ACCOUNT_SID") or None
    if default is not None and not ACCOUNT_SID.match(default):
        raise CredentialsError(account_sid_problem(default))
    states = load_accounts(files, environ=env, default_account=default)
    return only(states, accounts)


def only(states: list[DesiredState], accounts: Sequence[str]) -> list[DesiredState]:
    """The states of the accounts ``--account`` names; an account no file names is an error."""
    if not accounts:
        return states
    named = {s.account for s in states}
    missing = [a for a in accounts if a not in named]
    if missing:
        raise AccountError(f"--account {', '.join(missing)}: no file names this account "
                           f"(the files name: {', '.join(str(a) for a in named if a) or 'none'})")
    return [s for s in states if s.account in accounts]


def protections(files: Sequence[str], account: str, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Sender id → where ``files`` protect it, for ``account``, as the files are now (a saved plan's files at apply).

    Standard input is not read again: :class:`ConfigError` says so, as for a file that is gone.
    """
    if STDIN_NAME in files:
        raise ConfigError(ConfigIssue(Location(STDIN_NAME), "standard input cannot be read a second time"))
    return {k: v for state in validate_files(files, environ, accounts=[account]) for k, v in state.protect.items()}


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the desired-state file, for editors."""
    return {"$schema": JSON_SCHEMA_DIALECT, "$id": f"urn:whatsapp-senders-reconciler:senders.yaml:{__version__}",
            **senders_file_json_schema()}


def account_matrix(states: Sequence[DesiredState], shards: int | None = None) -> list[dict[str, Any]]:
    """The accounts the files name, as rows for a CI matrix: one per account, or ``shards`` rows of several.

    Each row has ``args``, the ``--account`` options that limit a run to it. A row without them would run
    every account, so two jobs would write the same accounts: files that name no account need
    ``TWILIO_ACCOUNT_SID`` (the SID alone, no secret), or :class:`AccountError` names them.
    """
    unnamed = [source for s in states if s.account is None for source in s.sources]
    if unnamed:
        raise AccountError(
            f"{', '.join(unnamed)}: no 'account:' and TWILIO_ACCOUNT_SID is not set, so no --account option can "
            "limit a CI job to the credentials' own account (a job without one runs every account); set "
            "TWILIO_ACCOUNT_SID to that account's SID (no secret is needed) or write 'account:' in those files")

    def args(sids: Iterable[str | None]) -> str:
        return " ".join(f"--account {sid}" for sid in sids)

    if shards is None:
        return [{"account": s.account, "senders": len(s.senders), "files": list(s.sources), "args": args([s.account])}
                for s in states]
    groups: list[list[DesiredState]] = [[] for _ in range(min(shards, len(states)))]  # none is left empty
    for state in sorted(states, key=lambda s: -len(s.senders)):  # the largest first, each to the lightest shard
        min(groups, key=lambda g: sum(len(s.senders) for s in g)).append(state)
    return [{"shard": i + 1, "accounts": [s.account for s in group], "senders": sum(len(s.senders) for s in group),
             "args": args(s.account for s in group)} for i, group in enumerate(groups)]


def sender_places(sources: Sequence[str], sender_ids: Collection[str]) -> dict[str, Location]:
    """Where each of ``sender_ids`` is declared in the files ``sources`` (the line and column of its ``sender_id``).

    The files are read again, as they are now; a file that cannot be read, or a sender written through a
    ``${VAR}``, is left out: a place is a help (an annotation on the line), never needed.
    """
    places: dict[str, Location] = {}
    for source in sources:
        wanted = set(sender_ids) - places.keys()
        if not wanted:
            break
        try:
            text = reader.read_text(Path(source))
            document = reader.parse(text)
        except reader.InputError:
            continue
        index = _entries(document.data, wanted)
        marks = reader.positions(text, fast=document.fast) if index else None
        for sender_id, i in index.items():
            line, column = reader.locate(marks, ("senders", i, "sender_id")) if marks is not None else (None, None)
            if line is not None:
                places[sender_id] = Location(source, line, column)
    return places


def _entries(data: Any, wanted: Collection[str]) -> dict[str, int]:
    """The index under ``senders:`` of each wanted sender a file's data declares."""
    senders = data.get("senders") if isinstance(data, dict) else None
    return {entry["sender_id"]: i for i, entry in enumerate(senders if isinstance(senders, list) else ())
            if isinstance(entry, dict) and isinstance(entry.get("sender_id"), str) and entry["sender_id"] in wanted}


#: A top-level ``account:`` naming a SID as plainly as it can be written (quoted or not, a comment after it).
_ACCOUNT_LINE = re.compile(rb"account:[ \t]*(['\"]?)(AC[0-9a-fA-F]{32})\1[ \t]*(?:#[^\n]*)?\r?$", re.MULTILINE)


class Glance(NamedTuple):
    """What one read of the files' bytes tells about an account, before they are loaded (only a guess to save a
    wait: the files are loaded as ever, whatever it says)."""

    #: The files may hold its senders (:func:`may_name`).
    holds: bool
    #: They may name a Messaging Service for it (:func:`may_declare_services`).
    services: bool


def glance(files: Sequence[str | Path], account_sid: str) -> Glance:
    """Both guesses about ``account_sid``, the default account of a file that names none, from one read of each file.

    A file may hold its senders unless it plainly names another account (a top-level ``account: AC…`` line); a path
    that is not a regular file (standard input, a FIFO) may, and is never opened here. It may name a service when
    such a file has a ``messaging_service:`` key outside a comment. A regular file that cannot be read may do both.
    """
    holds = services = glanced = False
    for path in _glanced(files):
        glanced = True
        if not path.is_file():
            holds = True
            continue
        try:
            with path.open("rb") as fh:
                data = fh.read(MAX_FILE_BYTES)
        except OSError:
            return Glance(True, True)
        named = _named(data)
        mine = not named or account_sid.upper() in named
        holds = holds or mine
        services = services or (mine and b"messaging_service" in data and _service_key(data))
    return Glance(holds or not glanced, services)


def may_name(files: Sequence[str | Path], account_sid: str) -> bool:
    """Whether the files may hold senders of ``account_sid``: False only when every file plainly names other accounts,
    as far as :func:`glance` tells; anything else (no such line, a name to interpolate, a path that is not a regular
    file or a directory of them) may."""
    return glance(files, account_sid).holds


def may_declare_services(files: Sequence[str | Path], account_sid: str) -> bool:
    """Whether the files may name a Messaging Service for ``account_sid`` (:func:`glance`): then the account's pools
    are read while the files load."""
    return glance(files, account_sid).services


def _named(data: bytes) -> set[str]:
    """The SIDs of the top-level ``account:`` lines of a file's bytes (upper-cased); found with ``bytes.find``, which
    goes through 9 MB in a millisecond, where a multi-line regular expression took 130."""
    starts = [0] if data.startswith(b"account:") else []
    at = data.find(b"\naccount:")
    while at >= 0:
        starts.append(at + 1)
        at = data.find(b"\naccount:", at + 1)
    return {m.group(2).decode().upper() for start in starts if (m := _ACCOUNT_LINE.match(data, start))}


#: A ``messaging_service`` key: at the start of a line (after the indent and a list's dash) or in a flow mapping.
_SERVICE_KEY = re.compile(rb"(?:^[ \t-]*|[{,][ \t]*)messaging_service[ \t]*:")


def _service_key(data: bytes) -> bool:
    """Whether a line of the file has a ``messaging_service`` key before any comment (``#`` after a blank)."""
    for line in data.splitlines():
        if b"messaging_service" in line:
            code = re.split(rb"(?:^|[ \t])#", line, maxsplit=1)[0]
            if _SERVICE_KEY.search(code):
                return True
    return False


def _glanced(files: Sequence[str | Path]) -> Iterable[Path]:
    """The files a load would read, as far as a glance can tell: a directory's ``*.yaml`` and ``*.yml``."""
    for raw in files:
        path = Path(raw)
        if path.is_dir():
            yield from (p for p in path.iterdir() if p.suffix in YAML_SUFFIXES and not p.name.startswith("."))
        else:
            yield path
