"""The documented defaults, and what ``-`` means as a path, in one place that imports nothing, so ``--help`` can
show them cheaply."""

from __future__ import annotations

#: The desired-state file read when no ``-f`` is given.
DEFAULT_FILE = "senders.yaml"
DEFAULT_BASE_URL = "https://messaging.twilio.com"
#: Twilio's REST API (the v2010 Accounts resource: subaccounts and their credentials).
DEFAULT_API_BASE_URL = "https://api.twilio.com"
#: The most accounts read, or applied to, at once in a run that spans several; each has its own write concurrency
#: (Twilio's limit is per account). None: no cap but the window's own, which starts at 20 and grows while the
#: answers keep their latency, within the file descriptors the process may open (reconciler/accounts/window.py).
DEFAULT_ACCOUNT_CONCURRENCY: int | None = None
#: Writes in flight at once. Twilio limits concurrent requests per account (429 / 20429 past it);
#: 25 leaves room for the account's other traffic and is enough to keep latency, not the limit, the floor.
DEFAULT_CONCURRENCY = 25
#: Seconds one attempt of a request may take, answer included.
DEFAULT_TIMEOUT = 30.0
DEFAULT_ATTEMPTS = 6
#: Base seconds of the jittered exponential backoff between attempts.
DEFAULT_BACKOFF = 0.5
#: ``-`` as a path on the command line: standard input (``-f -``, ``apply -``) or output (``--out -``, ``-o -``).
#: Only this string: ``./-`` names a file called ``-``.
STDIO = "-"
#: Standard input's name in messages (``<stdin>:3:5: ...``).
STDIN_NAME = "<stdin>"
