"""``${VAR}`` in string values, from the environment.

    problems = interpolate(data, {"HOOKS": "https://hooks.example.com"})   # in place
    for message, path in problems: ...                                     # "environment variable X is not set"
    escape("Price: ${X}")                                                  # 'Price: $${X}'

``${VAR}`` is the variable's value; ``${VAR:-fallback}`` the fallback when it is unset or empty;
``$${`` a literal ``${``. Keys are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from reconciler.config.reader import DataPath

# ``$${`` is a literal ``${``; ``${...}`` a reference; a lone ``${`` an unterminated one.
_INTERPOLATION = re.compile(r"\$\$\{|\$\{([^}]*)\}|\$\{")
_REFERENCE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?", re.DOTALL)


def interpolate(data: dict[Any, Any], env: Mapping[str, str]) -> list[tuple[str, DataPath]]:
    """Substitute ``${VAR}`` in every string value, in place; the problems found, each at its value.

    A reference that cannot be substituted is left as written.
    """
    problems: list[tuple[str, DataPath]] = []
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
                    node[key] = _substitute(value, (*where, key), env, problems)
            elif isinstance(value, (dict, list)):
                stack.append((value, (*where, key)))
    return problems


def _substitute(value: str, where: DataPath, env: Mapping[str, str], problems: list[tuple[str, DataPath]]) -> str:
    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "$${":
            return "${"
        if match.group(1) is None:
            problems.append(("unterminated '${'; write '$${' for a literal '${'", where))
            return token
        reference = _REFERENCE.fullmatch(match.group(1))
        if reference is None:
            problems.append((f"{token!r} is not a valid variable reference; use ${{NAME}} or ${{NAME:-fallback}}, "
                             "or '$${' for a literal '${'", where))
            return token
        name, fallback = reference.group(1), reference.group(2)
        if fallback is not None and "${" in fallback:
            problems.append((f"{token}}} nests a reference in its fallback, which is not supported; "
                             f"give the fallback as a plain value: ${{{name}:-value}}", where))
            return token
        found = env.get(name)
        if fallback is not None and not found:
            return fallback
        if found is None:
            problems.append((f"environment variable {name} is not set (write ${{{name}:-fallback}} to give a fallback)",
                             where))
            return token
        return found

    return _INTERPOLATION.sub(replace, value)


def escape(value: str) -> str:
    """``value`` written so that interpolation gives it back (``${`` becomes ``$${``)."""
    return value.replace("${", "$${")
