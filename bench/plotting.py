"""What the benchmarks' plots share: matplotlib when it is installed (the ``bench`` extra), and saving a figure."""

from __future__ import annotations

from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

MISSING = "matplotlib is not installed: no plot drawn (pip install 'matplotlib>=3.8', or the 'bench' extra)"


def pyplot() -> Any | None:
    """``matplotlib.pyplot`` on the file-only backend, or None when matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    return plt


def save(plt: Any, fig: Any, path: Path) -> str:
    """Write ``fig`` to ``path`` (PNG) and close it; returns the line the benchmarks print."""
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return f"plot: {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}"
