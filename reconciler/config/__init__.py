"""Desired-state files → :class:`~reconciler.models.DesiredState`.

    state = load_desired(["senders.yaml"])          # or several files, or a directory
    for sender in state.senders:                    # defaults: already merged
        sender.managed_fields()

Two passes, so the common case is fast and the failing case is precise:

1. The happy path builds plain values straight from the C parser's events (libyaml, through
   ruamel.yaml.clib), substitutes ``${VAR}``, and validates each file with one
   ``SendersFile.model_validate`` call. No positions are kept.
2. Only when a file has problems are its events read again, this time keeping each node's line and
   column, to put ``PATH:LINE:COL`` on every message. (ruamel's round-trip loader gives the same
   marks, a test checks it, but took 18 s instead of 1 s for 10,000 senders.)

Text libyaml refuses goes through ruamel's pure-Python parser instead, into the same builder.

Every problem in every file is collected and raised together as one :class:`ConfigError`. Nothing
else escapes from here: hostile input (binary files, alias bombs, tags, deep nesting, huge files)
becomes a ``ConfigError`` too.

The parts, each importing only those before it:

- :mod:`~reconciler.config.reader` (with :mod:`~reconciler.config.events`): YAML text → plain values
  and positions; the limits on hostile input. Imports no models.
- :mod:`~reconciler.config.interpolate`: ``${VAR}``, ``${VAR:-fallback}``, ``$${``; :func:`escape`; the
  names never read (credentials), and ``RECONCILER_FILE_VARS``.
- :mod:`~reconciler.config.messages`: pydantic's validation errors → sentences.
- :mod:`~reconciler.config.loader`: files → models, ``defaults:``, the checks across files.
"""

from reconciler.config.interpolate import escape
from reconciler.config.loader import (
    DEFAULT_FILE,
    YAML_SUFFIXES,
    load_accounts,
    load_desired,
    load_file,
    load_text,
    merge_defaults,
)
from reconciler.config.reader import MAX_DEPTH, MAX_EXPANDED_VALUES, MAX_FILE_BYTES
from reconciler.defaults import STDIN_NAME, STDIO

__all__ = [
    "DEFAULT_FILE",
    "MAX_DEPTH",
    "MAX_EXPANDED_VALUES",
    "MAX_FILE_BYTES",
    "STDIN_NAME",
    "STDIO",
    "YAML_SUFFIXES",
    "escape",
    "load_accounts",
    "load_desired",
    "load_file",
    "load_text",
    "merge_defaults",
]
