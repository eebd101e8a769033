"""Adds up the figures the reliability tests recorded, for docs/reliability.md.

Tests record what one run met and produced with :func:`tests.factories.record`; when
``RECONCILER_FIGURES`` names a file, each record is appended to it as one JSON line.

    python -m tests.integration.figures FILE
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict


def summarise(path: str) -> dict[str, dict[str, int]]:
    """Per test: its number of runs and the sum of each integer figure."""
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


def main(path: str) -> None:
    summary = summarise(path)
    grand: dict[str, int] = defaultdict(int)
    for name, values in sorted(summary.items()):
        print(name + ": " + ", ".join(f"{k}={v}" for k, v in sorted(values.items())))
        for k, v in values.items():
            grand[k] += v
    print("TOTAL: " + ", ".join(f"{k}={v}" for k, v in sorted(grand.items())))


if __name__ == "__main__":
    main(sys.argv[1])
