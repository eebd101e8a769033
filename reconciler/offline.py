"""The offline commands' work: checking desired-state files and the file's JSON Schema.

    state = validate_files(["senders.yaml"])      # ConfigError lists every problem
    document = json_schema()

Apart from :mod:`reconciler.session` so that ``reconciler validate`` and ``reconciler schema`` (a
pre-commit hook runs the first on every commit) import neither the HTTP client nor the planner.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from reconciler import __version__
from reconciler.config import load_desired
from reconciler.models import DesiredState, senders_file_json_schema

#: Where ``reconciler schema`` says its JSON Schema dialect is.
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def validate_files(files: Sequence[str | Path]) -> DesiredState:
    """Load and check desired-state files offline; :class:`ConfigError` lists every problem."""
    return load_desired(files)


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the desired-state file, for editors."""
    return {"$schema": JSON_SCHEMA_DIALECT, "$id": f"urn:whatsapp-senders-reconciler:senders.yaml:{__version__}",
            **senders_file_json_schema()}
