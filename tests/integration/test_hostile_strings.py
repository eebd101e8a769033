"""Strings from the API reach the terminal and the pull-request comment as text, never as markup or escapes.

The real CLI plans against a loopback server whose senders carry newlines, terminal escape sequences,
backticks, links, mentions and HTML in their ids, statuses, names and offline reasons.
"""

from __future__ import annotations

import re

import pytest

from tests.factories import TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, clean_env, run_cli
from tests.hostile_server import HostileServer, Request, reply

RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e]")
FORGED = "whatsapp:+15017122661\n  + whatsapp:+19999999999 (create)"
HOSTILE = "``x`` [click](https://evil.example) ![i](https://evil.example/i.png) @team </details> \x1b]8;;https://e\x07"


def senders(_request: Request) -> bytes:
    return reply(200, {"senders": [
        {"sid": "XE" + "1" * 32, "sender_id": FORGED, "status": "ONLINE\x1b[2J", "profile": {"name": "A"}},
        {"sid": "XE" + "2" * 32, "sender_id": "whatsapp:+15017122662", "status": "OFFLINE",
         "offline_reasons": [{"code": "63051", "message": HOSTILE}], "profile": {"name": "B"}},
        {"sid": "XE" + "3" * 32, "sender_id": "whatsapp:+15017122663", "status": "ONLINE",
         "profile": {"name": "C", "about": HOSTILE}},
    ], "meta": {"next_page_url": None, "key": "senders"}})


@pytest.fixture
def planned(tmp_path):
    f = tmp_path / "senders.yaml"
    f.write_text('senders:\n  - sender_id: "whatsapp:+15017122662"\n    profile: {name: B}\n'
                 '  - sender_id: "whatsapp:+15017122663"\n    profile: {name: C, about: "plain"}\n')
    with HostileServer(senders) as server:
        env = clean_env(TWILIO_ACCOUNT_SID=TEST_ACCOUNT_SID, TWILIO_AUTH_TOKEN=TEST_AUTH_TOKEN,
                        TWILIO_MESSAGING_BASE_URL=server.base_url, NO_COLOR="1")

        def run(fmt: str) -> str:
            result = run_cli("plan", "-f", str(f), "--format", fmt, "--max-attempts", "1", env=env)
            assert result.returncode == 0, result.output
            assert not RAW.search(result.output), repr(result.output)
            return result.stdout

        yield run


def test_a_newline_in_a_live_sender_id_cannot_forge_a_line_of_the_text_plan(planned):
    out = planned("text")
    assert not any(line.startswith("  + whatsapp:+19999999999") for line in out.splitlines())
    assert "\\n  + whatsapp:+19999999999 (create)" in out and "ONLINE\\x1b[2J" in out
    assert "\\x1b]8;;https://e\\x07" in out  # the offline reason's escape sequence, shown


def outside_code(md: str) -> str:
    """The Markdown with its code spans taken out: what GitHub would render as markup."""
    return re.sub(r"(`+)(?!`).*?(?<!`)\1(?!`)", "", md)


def test_markdown_shows_api_values_as_text(planned):
    md = planned("markdown")
    rendered = outside_code(md)
    assert "[click](" not in rendered and "![i](" not in rendered and "@team" not in rendered
    assert rendered.count("</details>") == rendered.count("<details>") == 2
    assert "&lt;/details&gt;" in rendered  # the offline reason, as text in the notice
    # The about text sits in one code span that its own backticks cannot close.
    assert re.search(r"(`{3,}) ?\"``x`` \[click\]\(https://evil.example\).*?\1", md)
