"""``${VAR}`` cannot read secrets: refused names, the RECONCILER_FILE_VARS allow-list, copies of a
secret under another name, and messages that never quote a substituted value."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.config import load_desired, load_file
from reconciler.config.interpolate import (
    MIN_GUARDED_LENGTH,
    REFUSED_PREFIXES,
    SECRET_PARTS,
    SECRET_SUBSTRINGS,
    Variables,
    interpolate,
    refusal,
)
from reconciler.errors import ConfigError
from tests.factories import REPO_ROOT

A = "whatsapp:+15017122661"
TOKEN = "tok_" + "s3cr3t" * 5
RULE = "see docs/file-format.md"


@pytest.fixture(autouse=True)
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(text: str, name: str = "senders.yaml") -> str:
    Path(name).write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return name


def about(reference: str) -> str:
    return write(f'senders:\n  - sender_id: "{A}"\n    profile: {{name: Acme, about: "{reference}"}}\n')


def errors(path: str, env: dict[str, str]) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_desired([path], environ=env)
    shown = [str(issue) for issue in info.value.issues]
    # Every value the test set is kept out of the messages (the allow-list holds names, not values).
    for secret in (v for k, v in env.items() if len(v) >= 4 and k != "RECONCILER_FILE_VARS"):
        assert not any(secret in text for text in [*shown, str(info.value), repr(info.value)]), secret
    return shown


# --------------------------------------------------------------------------- which names are refused


@pytest.mark.parametrize("name", [
    "TWILIO_AUTH_TOKEN", "TWILIO_API_SECRET", "TWILIO_ACCOUNT_SID", "twilio_region", "RECONCILER_PLAN_KEY",
    "RECONCILER_FILE_VARS", "GITHUB_TOKEN", "GITHUB_SERVER_URL", "ACTIONS_RUNTIME_TOKEN", "RUNNER_TEMP", "INPUT_ARGS",
    "MY_KEY", "API_KEY", "APIKEY", "apiKey", "SSH_KEYS", "GH_TOKEN", "NPMTOKEN", "DB_PASSWORD", "DB_PASSWD", "SMTP_PASS",
    "PWD", "GPG_PASSPHRASE", "CLIENT_SECRET", "AWS_CREDS", "GOOGLE_APPLICATION_CREDENTIALS", "BASIC_AUTH",
    "OAUTH_CLIENT", "PRIVATE_URL", "SESSION_ID", "USER_SESSIONS", "COOKIE_JAR", "WEBHOOK_SIGNATURE", "SIGNING_CERT",
    "JWT",
])
def test_names_that_may_hold_credentials_are_refused(name: str) -> None:
    assert refusal(name) is not None


@pytest.mark.parametrize("name", [
    "WABA_ID", "HOOKS_BASE", "MIN_SENDERS", "SITE", "KEYBOARD_URL", "MONKEY", "AUTHOR_NAME", "PASSPORT_URL",
    "COMPASS_URL", "OLDPWD", "TWILIO", "MY_TWILIO_NUMBER", "CERTAIN", "OBSESSION",
])
def test_other_names_are_read(name: str) -> None:
    assert refusal(name) is None


def test_each_reason_is_worded() -> None:
    assert refusal("TWILIO_AUTH_TOKEN") == "variables named TWILIO_* are not read by ${...} (they may hold credentials)"
    assert refusal("GH_TOKEN") == "variables whose name contains TOKEN are not read by ${...} (they may hold credentials)"
    assert refusal("MY_KEY") == "variables whose name has the part KEY are not read by ${...} (they may hold credentials)"


def test_the_documented_rule_lists_every_prefix_and_word() -> None:
    """docs/file-format.md states the rule users rely on: it must name what the code refuses, no more, no less."""
    doc = (REPO_ROOT / "docs" / "file-format.md").read_text()
    section = doc[doc.index("## Environment variables"):]
    section = section[:section.index("\n## ", 3)]
    for prefix in REFUSED_PREFIXES:
        assert f"`{prefix}`" in section, prefix
    listed = set(re.findall(r"`([A-Z]+)`", section))
    assert set(SECRET_SUBSTRINGS) <= listed and set(SECRET_PARTS) <= listed
    assert "RECONCILER_FILE_VARS" in section and f"{MIN_GUARDED_LENGTH} characters" in section


# --------------------------------------------------------------------------- a refused reference


def test_a_refused_reference_is_an_error_at_its_value_naming_the_variable_not_its_value() -> None:
    path = about("${TWILIO_AUTH_TOKEN}")
    assert errors(path, {"TWILIO_AUTH_TOKEN": TOKEN}) == [
        f"senders.yaml:3:34: sender {A}: profile.about: ${{TWILIO_AUTH_TOKEN}}: variables named TWILIO_* are not "
        f"read by ${{...}} (they may hold credentials); {RULE}"
    ]


@pytest.mark.parametrize("env", [{}, {"GH_TOKEN": TOKEN}, {"GH_TOKEN": ""}])
def test_a_fallback_does_not_make_a_refused_reference_readable(env: dict[str, str]) -> None:
    """Set, empty or unset, the answer is the same: which one was used would tell whether it is set."""
    path = about("${GH_TOKEN:-none}")
    assert errors(path, env) == [
        f"senders.yaml:3:34: sender {A}: profile.about: ${{GH_TOKEN:-...}}: variables whose name contains TOKEN "
        f"are not read by ${{...}} (they may hold credentials); {RULE}"
    ]


def test_a_value_with_a_refused_reference_is_left_unsubstituted() -> None:
    data = {"about": "${SITE} ${API_KEY}"}
    found = interpolate(data, Variables({"SITE": "https://a.example", "API_KEY": TOKEN}))
    assert data == {"about": "${SITE} ${API_KEY}"} and found.origin(("about",)) is None
    assert [where for _, where in found.problems] == [("about",)]


def test_load_file_applies_the_rule_too() -> None:
    path = about("${RECONCILER_PLAN_KEY}")
    with pytest.raises(ConfigError, match=r"\$\{RECONCILER_PLAN_KEY\}: variables named RECONCILER_\*") as info:
        load_file(path, environ={"RECONCILER_PLAN_KEY": TOKEN})
    assert TOKEN not in str(info.value)


def test_the_environment_is_never_shown_in_a_repr() -> None:
    variables = Variables({"TWILIO_AUTH_TOKEN": TOKEN}, frozenset({"SITE"}))
    assert TOKEN not in repr(variables) and "SITE" in repr(variables)


# --------------------------------------------------------------------------- RECONCILER_FILE_VARS


def test_the_allow_list_limits_the_names_read() -> None:
    path = write(f"""
        senders:
          - sender_id: "{A}"
            webhook: {{callback_url: "${{HOOKS_BASE}}/in"}}
            profile: {{name: "${{NAME}}", about: "${{ABOUT:-hi}}"}}
        """)
    env = {"RECONCILER_FILE_VARS": "HOOKS_BASE, NAME", "HOOKS_BASE": "https://h.example.com", "NAME": "Acme",
           "ABOUT": "unlisted"}
    (sender,) = load_desired([path], environ={**env, "RECONCILER_FILE_VARS": "HOOKS_BASE NAME,ABOUT"}).senders
    assert (sender.webhook and sender.webhook.callback_url) == "https://h.example.com/in"
    assert sender.profile and sender.profile.about == "unlisted"
    assert errors(path, env) == [
        f"senders.yaml:4:39: sender {A}: profile.about: ${{ABOUT:-...}}: RECONCILER_FILE_VARS is set and does not "
        f"list it, so ${{...}} does not read it; {RULE}"
    ]


def test_an_empty_allow_list_reads_nothing() -> None:
    path = about("${ABOUT:-hi}")
    (message,) = errors(path, {"RECONCILER_FILE_VARS": "", "ABOUT": "hello"})
    assert "${ABOUT:-...}: RECONCILER_FILE_VARS is set and does not list it" in message


def test_a_listed_name_that_is_refused_stays_refused() -> None:
    path = about("${GH_TOKEN}")
    (message,) = errors(path, {"RECONCILER_FILE_VARS": "GH_TOKEN", "GH_TOKEN": TOKEN})
    assert "${GH_TOKEN}: variables whose name contains TOKEN are not read" in message


def test_the_allow_list_is_read_once_from_the_environment_given() -> None:
    assert Variables.from_environ({"RECONCILER_FILE_VARS": " A,B  C,,"}).allowed == frozenset({"A", "B", "C"})
    assert Variables.from_environ({}).allowed is None


# --------------------------------------------------------------------------- a secret under another name


def test_a_copy_of_a_secret_under_an_innocent_name_is_refused() -> None:
    path = about("${ALIAS}")
    assert errors(path, {"TWILIO_AUTH_TOKEN": TOKEN, "ALIAS": TOKEN}) == [
        f"senders.yaml:3:34: sender {A}: profile.about: ${{ALIAS}}: the value would hold the value of "
        f"TWILIO_AUTH_TOKEN, which ${{...}} does not read (it may hold a credential); {RULE}"
    ]


def test_a_secret_split_over_two_references_is_refused() -> None:
    path = about("Hello ${A1}${A2}!")
    (message,) = errors(path, {"API_SECRET": TOKEN, "A1": TOKEN[:12], "A2": TOKEN[12:]})
    assert "${A1}, ${A2}: the value would hold the value of API_SECRET" in message


def test_short_values_and_values_written_in_the_file_are_not_guarded() -> None:
    short = "x" * (MIN_GUARDED_LENGTH - 1)
    path = about(f"{TOKEN} ${{ALIAS}}")  # the file's own text is no leak
    env = {"TWILIO_AUTH_TOKEN": TOKEN, "MY_PASS": short, "ALIAS": short}
    (sender,) = load_desired([path], environ=env).senders
    assert sender.profile and sender.profile.about == f"{TOKEN} {short}"


def test_a_variable_refused_only_by_its_prefix_is_not_guarded() -> None:
    """GITHUB_SERVER_URL (https://github.com) is refused but no secret: a website on GitHub stays readable."""
    path = write(f'senders:\n  - sender_id: "{A}"\n    profile: {{websites: ["${{SITE}}"]}}\n')
    env = {"GITHUB_SERVER_URL": "https://github.com", "SITE": "https://github.com/acme"}
    (sender,) = load_desired([path], environ=env).senders
    assert sender.profile and sender.profile.websites and sender.profile.websites[0].website == env["SITE"]


# --------------------------------------------------------------------------- messages never quote a value


SECRET = "Zq9-not-a-valid-anything-" + "k" * 20


@pytest.mark.parametrize(("field", "expected"), [
    ("sender_id: '${X}'", "senders[0].sender_id (from ${X}): not 'whatsapp:' followed by a valid phone number"),
    ("webhook: {callback_url: '${X}/in'}", "webhook.callback_url (from ${X}): not an absolute http(s) URL"),
    ("profile: {vertical: '${X}'}", "profile.vertical (from ${X}): not one of 'Alcohol', "),
    ("profile: {vertical: ['${X}']}", "profile.vertical (from ${X}): not one of 'Alcohol', "),
    ("profile: {name: '${X}${X}${X}${X}${X}${X}'}", "profile.name (from ${X}): too long: Meta allows at most"),
    ("profile: {name: '${UNSET:-}'}", "profile.name (from ${UNSET}): too short: at least"),
    ("profile: {websites: ['${X}']}", "profile.websites[0] (from ${X}): not an absolute http(s) URL"),
    ("profile: {websites: '${X}'}", "profile.websites (from ${X}): expected a list, got a string"),
    ("profile: {emails: ['${X}']}", "profile.emails[0] (from ${X}): not an email address Meta accepts"),
    ("profile: {phone_numbers: [{phone_number: '${X}'}]}", "profile.phone_numbers[0].phone_number (from ${X}): not"),
    ("profile: {accent_color: '${X}'}", "profile.accent_color (from ${X}): must be a hex colour"),
    ("configuration: {waba_id: '${X}'}", "configuration.waba_id (from ${X}): must be digits"),
    ("configuration: {voice_application_sid: '${X}'}", "configuration.voice_application_sid (from ${X}): must be 'AP'"),
    ("configuration: {verification_method: '${X}'}", "configuration.verification_method (from ${X}): not one of 'sms'"),
])
def test_an_invalid_substituted_value_is_named_by_its_reference_never_quoted(field: str, expected: str) -> None:
    sender = f"  - {field}\n" if field.startswith("sender_id") else f"  - sender_id: '{A}'\n    {field}\n"
    path = write("senders:\n" + sender)
    (message,) = errors(path, {"X": SECRET})
    assert expected in message, message
    assert SECRET[:8] not in message


@pytest.mark.parametrize(("text", "expected"), [
    ("account: '${X}'\nsenders: []\n", "account (from ${X}): not an account SID"),
    ("senders: []\nignore: ['${X}']\n", "ignore[0] (from ${X}): not a sender id as the API lists it"),
    ("senders: []\nsafety: {min_senders: '${X}'}\n", "safety.min_senders (from ${X}): input should be a valid integer"),
    ("senders: []\nsafety: {min_senders: '-${N}'}\n", "safety.min_senders (from ${N}): input should be greater than"),
])
def test_top_level_values_from_a_reference_are_not_quoted_either(text: str, expected: str) -> None:
    (message,) = errors(write(text), {"X": SECRET, "N": "5"})
    assert expected in message, message
    assert SECRET[:8] not in message


def test_a_value_reached_through_an_alias_is_not_quoted_either() -> None:
    """An aliased mapping or list is substituted once, where it is defined, but validated wherever it is used."""
    path = write(f"""
        defaults:
          profile: &p {{vertical: "${{X}}"}}
        senders:
          - sender_id: "{A}"
            profile: *p
          - sender_id: "whatsapp:+15017122662"
            profile: {{websites: &w ["${{X}}"]}}
          - sender_id: "whatsapp:+15017122663"
            profile: {{websites: *w}}
        """)
    got = errors(path, {"X": SECRET})
    assert len(got) == 4 and all("(from ${X}): not" in message for message in got), got


def test_a_value_written_without_a_reference_is_still_quoted() -> None:
    (message,) = errors(write(f"senders:\n  - sender_id: '{A}'\n    profile: {{vertical: Spaceships}}\n"), {})
    assert "'Spaceships' is not one of" in message and "(from" not in message


@settings(deadline=None, derandomize=True, max_examples=60)
@given(secret=st.text(st.characters(codec="ascii", exclude_characters="\0\r\n'\\"), min_size=12, max_size=80),
       field=st.sampled_from(["sender_id", "profile.about", "profile.name", "profile.vertical", "webhook.callback_url",
                              "profile.websites", "profile.emails", "configuration.waba_id", "account", "ignore"]))
def test_no_message_quotes_what_a_reference_gave(secret: str, field: str) -> None:
    """Whatever a variable holds and wherever it goes, a failing load says the reference, never the value."""
    section, _, name = field.partition(".")
    value = "'X${V}X'"
    if section == "sender_id":
        text = f"senders:\n  - sender_id: {value}\n"
    elif section in ("account", "ignore"):
        text = f"{section}: {value if section == 'account' else '[' + value + ']'}\nsenders: [{{sender_id: 1}}]\n"
    else:
        item = f"[{value}]" if name in ("websites", "emails") else value
        text = f"senders:\n  - sender_id: '{A}'\n    {section}: {{{name}: {item}, bogus: 1}}\n"
    Path("senders.yaml").write_text(text)
    try:
        load_desired(["senders.yaml"], environ={"V": secret})
    except ConfigError as exc:
        shown = str(exc) + repr(exc)
        assert ("X" + secret)[:10] not in shown and (secret + "X")[-10:] not in shown
    else:
        pytest.fail("the file has an unknown key: it cannot load")
