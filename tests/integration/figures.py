"""Figures measured by the reliability tests, for docs/reliability.md.

A test calls :func:`record` with what one run met and produced; when ``RECONCILER_FIGURES`` names a
file, each record is appended to it as one JSON line (nothing is written otherwise). ``python -m
tests.integration.figures FILE`` adds them up.
"""

from __future__ import annotations

import json
import os
import sys
from collections import defaultdict
from typing import Any

ENV = "RECONCILER_FIGURES"
FAULT_KEYS = ("fault 429", "fault 5xx", "fault drop", "fault slow")


def faults_of(stats: dict[str, int]) -> dict[str, int]:
    """The emulator's fault counters (0 when none of a kind happened)."""
    return {key: stats.get(key, 0) for key in FAULT_KEYS}


def record(test: str, **figures: Any) -> None:
    path = os.environ.get(ENV)
    if not path:
        return
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps({"test": test, **figures}, sort_keys=True) + "\n")


def summarise(path: str) -> dict[str, dict[str, int]]:
    totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            group = totals[row.pop("test")]
            group["runs"] += 1
            for key, value in row.items():
                if isinstance(value, bool) or not isinstance(value, int):
                    continue
                group[key] += value
    return {name: dict(values) for name, values in totals.items()}


if __name__ == "__main__":
    summary = summarise(sys.argv[1])
    grand: dict[str, int] = defaultdict(int)
    for name, values in sorted(summary.items()):
        print(name + ": " + ", ".join(f"{k}={v}" for k, v in sorted(values.items())))
        for k, v in values.items():
            grand[k] += v
    print("TOTAL: " + ", ".join(f"{k}={v}" for k, v in sorted(grand.items())))
