"""``${VAR}`` in string values, from the environment, except variables that may hold credentials.

    variables = Variables.from_environ(os.environ)     # RECONCILER_FILE_VARS read here, once
    found = interpolate(data, variables)               # in place
    for message, path in found.problems: ...           # "environment variable X is not set"
    found.origin(("safety", "min_senders"))            # '${MIN}': the references a value came from
    escape("Price: ${X}")                              # 'Price: $${X}'

``${VAR}`` is the variable's value; ``${VAR:-fallback}`` the fallback when it is unset or empty;
``$${`` a literal ``${``. Keys are left alone.

A pull request can write a desired-state file that CI then plans, and the plan is printed, posted as
a comment and sent to Twilio. So a reference never reads a variable that may hold a credential
(:func:`refusal`: the tool's own, CI's, and names with a secret-like word), fallback or not; with
``RECONCILER_FILE_VARS`` set it reads only the names listed there; and a value whose substitution
would hold the value of a variable with a secret-like name (copied under another name) is refused
too. The rule is documented in docs/file-format.md; a test holds the two together.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from reconciler.config.reader import DataPath

#: Names ``${...}`` may read, comma- or space-separated: when set (even empty), no other name is read.
FILE_VARS_ENV = "RECONCILER_FILE_VARS"
#: Variables named so are never read: the tool's own settings and credentials, and CI's (GitHub Actions' inputs
#: are ``INPUT_*`` and include tokens).
REFUSED_PREFIXES = ("TWILIO_", "RECONCILER_", "GITHUB_", "ACTIONS_", "RUNNER_", "INPUT_")
#: Words that refuse a name wherever they appear in it (``GHTOKEN``, ``DB_PASSWORD``, ``apiKey``).
SECRET_SUBSTRINGS = ("TOKEN", "SECRET", "PASSWORD", "PASSWD", "PASSPHRASE", "APIKEY", "CREDENTIAL", "PRIVATE",
                     "COOKIE")
#: Words that refuse a name when they are one of its parts, separated by ``_`` or by a change to upper case:
#: ``MY_KEY`` and ``deployKey``, but not ``KEYBOARD_URL`` or ``keyboard``.
SECRET_PARTS = ("PASS", "PWD", "KEY", "KEYS", "AUTH", "OAUTH", "CREDS", "JWT", "SESSION", "SESSIONS", "SIGNATURE",
                "SIGNATURES", "CERT", "CERTS")
#: A value this long, of a variable with a secret-like name, may not reach a file under another name.
MIN_GUARDED_LENGTH = 8
#: Where every message points for the rule.
RULE_DOC = "see docs/file-format.md"

# ``$${`` is a literal ``${``; ``${...}`` a reference; a lone ``${`` an unterminated one.
_INTERPOLATION = re.compile(r"\$\$\{|\$\{([^}]*)\}|\$\{")
_REFERENCE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?", re.DOTALL)
_LIST_SEPARATORS = re.compile(r"[\s,]+")
_PARTS = frozenset(SECRET_PARTS)
#: Where a camelCase name starts a new part: ``deployKey`` is ``deploy`` and ``Key``, ``KEYBOARD`` one word.
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def secret_word(name: str) -> str | None:
    """The secret-like word that refuses ``name`` (case-insensitively), or ``None``."""
    upper = name.upper()
    for word in SECRET_SUBSTRINGS:
        if word in upper:
            return word
    for part in _CAMEL.sub("_", name).upper().split("_"):  # parts by '_' and by case: deployKey, dbPass
        if part in _PARTS:
            return part
    return None


def refusal(name: str) -> str | None:
    """Why ``${name}`` is never read (the end of a message), or ``None`` when it may be.

    >>> refusal("TWILIO_AUTH_TOKEN")
    'variables named TWILIO_* are not read by ${...} (they may hold credentials)'
    >>> refusal("KEYBOARD_URL") is None
    True
    """
    upper = name.upper()
    prefix = next((p for p in REFUSED_PREFIXES if upper.startswith(p)), None)
    if prefix is not None:
        return f"variables named {prefix}* are not read by ${{...}} (they may hold credentials)"
    word = secret_word(upper)
    if word is None:
        return None
    where = "contains" if word in SECRET_SUBSTRINGS else "has the part"
    return f"variables whose name {where} {word} are not read by ${{...}} (they may hold credentials)"


@dataclass(frozen=True)
class Variables:
    """What ``${NAME}`` may read: ``environ`` without the refused names, and only ``allowed`` when that is set."""

    environ: Mapping[str, str] = field(repr=False)  # holds credentials: never shown
    #: ``RECONCILER_FILE_VARS``'s names; ``None`` when it is unset (every name not refused may be read).
    allowed: frozenset[str] | None = None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Variables:
        listed = environ.get(FILE_VARS_ENV)
        if listed is None:
            return cls(environ)
        return cls(environ, frozenset(name for name in _LIST_SEPARATORS.split(listed) if name))

    def refusal(self, name: str) -> str | None:
        """Why ``${name}`` is not read here, or ``None``."""
        refused = refusal(name)
        if refused is None and self.allowed is not None and name not in self.allowed:
            return f"{FILE_VARS_ENV} is set and does not list it, so ${{...}} does not read it"
        return refused

    @cached_property
    def guarded(self) -> tuple[tuple[str, str], ...]:
        """``(name, value)`` of the set variables with a secret-like name and a value long enough to recognise."""
        return tuple(sorted((name, value) for name, value in self.environ.items()
                            if len(value) >= MIN_GUARDED_LENGTH and secret_word(name) is not None))

    def holder(self, value: str, written: str) -> str | None:
        """The guarded variable whose value ``value`` holds and ``written`` (the file's own text) does not."""
        return next((name for name, secret in self.guarded if secret in value and secret not in written), None)


class Interpolation:
    """What :func:`interpolate` found: problems at their values, and where substituted values came from."""

    def __init__(self, data: Any):
        self.problems: list[tuple[str, DataPath]] = []
        self._data = data
        #: ``(id(container), key)`` of every value with a ``${...}`` substituted → its references (``${A}``).
        #: By node, not by path: an aliased mapping is substituted once but reached by several paths.
        self._origins: dict[tuple[int, Any], tuple[str, ...]] = {}
        self._inside: dict[int, tuple[str, ...]] = {}

    def origin(self, loc: DataPath) -> str | None:
        """The references behind the value at ``loc`` (or behind the values inside it), or ``None``:
        ``'${A}, ${B}'``.

        A message about such a value names these instead of quoting it. ``loc`` may go on past the data (a
        validator's path into a string written as shorthand): the value it reaches first is the one.
        """
        if not self._origins:
            return None
        node = self._data
        references: tuple[str, ...] = ()
        for step in loc:
            references = self._origins.get((id(node), step), ())
            if references:
                break
            try:
                node = node[step]
            except (KeyError, IndexError, TypeError):
                break
        else:
            references = self._inside_of(node)
        return ", ".join(references) or None

    def _inside_of(self, node: Any) -> tuple[str, ...]:
        """The references of every value inside ``node``, once each."""
        if not isinstance(node, (dict, list)):
            return ()
        if id(node) not in self._inside:
            self._inside[id(node)] = ()  # a cycle cannot occur (aliases are checked), but would end here
            found: dict[str, None] = {}
            for key, value in list(node.items() if isinstance(node, dict) else enumerate(node)):
                found.update(dict.fromkeys(self._origins.get((id(node), key), ())))
                found.update(dict.fromkeys(self._inside_of(value)))
            self._inside[id(node)] = tuple(found)
        return self._inside[id(node)]

    def record(self, container: Any, key: Any, references: tuple[str, ...]) -> None:
        """``container[key]`` was substituted from ``references``."""
        self._origins[(id(container), key)] = references


def interpolate(data: dict[Any, Any], variables: Variables) -> Interpolation:
    """Substitute ``${VAR}`` in every string value, in place; the problems found, each at its value.

    A value with a problem is left as written.
    """
    found = Interpolation(data)
    seen: set[int] = set()
    stack: list[tuple[Any, DataPath]] = [(data, ())]
    while stack:
        node, where = stack.pop()
        if id(node) in seen:  # an aliased node: substituted once, where it is defined
            continue
        seen.add(id(node))
        entries = node.items() if isinstance(node, dict) else enumerate(node)
        for key, value in list(entries):
            if isinstance(value, str):
                if "$" in value:
                    node[key], references = _substitute(value, (*where, key), variables, found.problems)
                    if references:
                        found.record(node, key, references)
            elif isinstance(value, (dict, list)):
                stack.append((value, (*where, key)))
    return found


def _substitute(value: str, where: DataPath, variables: Variables,
                problems_found: list[tuple[str, DataPath]]) -> tuple[str, tuple[str, ...]]:
    """The value substituted and the references it came from; with a problem, the value as written and none."""
    problems: list[str] = []
    references: dict[str, None] = {}  # in order, once each

    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "$${":
            return "${"
        if match.group(1) is None:
            problems.append("unterminated '${'; write '$${' for a literal '${'")
            return token
        reference = _REFERENCE.fullmatch(match.group(1))
        if reference is None:
            problems.append(f"{token!r} is not a valid variable reference; use ${{NAME}} or ${{NAME:-fallback}}, "
                            "or '$${' for a literal '${'")
            return token
        name, fallback = reference.group(1), reference.group(2)
        if fallback is not None and "${" in fallback:
            problems.append(f"{token}}} nests a reference in its fallback, which is not supported; "
                            f"give the fallback as a plain value: ${{{name}:-value}}")
            return token
        refused = variables.refusal(name)
        if refused is not None:  # with a fallback too: which one is used would tell whether it is set
            shown = f"${{{name}:-...}}" if fallback is not None else f"${{{name}}}"
            problems.append(f"{shown}: {refused}; {RULE_DOC}")
            return token
        references[f"${{{name}}}"] = None
        got = variables.environ.get(name)
        if fallback is not None and not got:
            return fallback
        if got is None:
            problems.append(f"environment variable {name} is not set (write ${{{name}:-fallback}} to give a fallback)")
            return token
        return got

    result = _INTERPOLATION.sub(replace, value)
    if not problems and references:
        holder = variables.holder(result, value)
        if holder is not None:
            problems.append(f"{', '.join(references)}: the value would hold the value of {holder}, which ${{...}} "
                            f"does not read (it may hold a credential); {RULE_DOC}")
    problems_found.extend((message, where) for message in problems)
    return (value, ()) if problems else (result, tuple(references))


def escape(value: str) -> str:
    """``value`` written so that interpolation gives it back (``${`` becomes ``$${``)."""
    return value.replace("${", "$${")
