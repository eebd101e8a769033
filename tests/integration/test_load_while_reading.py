"""plan loads the files while it reads the live senders: errors still come out as they did one after the other."""

from __future__ import annotations

import time

from reconciler.emulator import Faults
from tests.factories import TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, clean_env, run_cli
from tests.factories import free_port as _free_port
from tests.factories import write_yaml as write


def test_a_file_error_wins_over_an_unreachable_api_and_does_not_wait_for_it(tmp_path):
    unused_port_url = f"http://127.0.0.1:{_free_port()}"
    f = write(tmp_path, "senders:\n  - sender_id: whatsapp:+1501712\n")
    env = clean_env(TWILIO_ACCOUNT_SID=TEST_ACCOUNT_SID, TWILIO_AUTH_TOKEN=TEST_AUTH_TOKEN,
                    TWILIO_MESSAGING_BASE_URL=unused_port_url, RECONCILER_MAX_ATTEMPTS="6", RECONCILER_BACKOFF="5")
    start = time.monotonic()
    result = run_cli("plan", "-f", f, env=env)
    assert result.returncode == 1, result.output
    assert "sender_id" in result.stderr and "connection" not in result.stderr
    assert time.monotonic() - start < 20  # the read's retries (5 s backoff) were not waited for


def test_a_failed_read_is_reported_after_a_good_file(tmp_path, emulator, emulator_env):
    emulator.set_faults(Faults(rate_5xx=1.0))
    f = write(tmp_path, 'senders:\n  - sender_id: "whatsapp:+15017122661"\n    profile: {name: Acme}\n')
    result = run_cli("plan", "-f", f, "--max-attempts", "1", env=emulator_env)
    assert result.returncode == 1, result.output
    assert result.stderr.startswith("Error:") and "Internal Server Error" in result.stderr
    assert "Traceback" not in result.stderr
