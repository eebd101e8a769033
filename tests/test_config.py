"""The desired-state loader: messages with exact locations, merging, interpolation, hostile input."""

from __future__ import annotations

import textwrap
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from reconciler import config
from reconciler.config import DEFAULT_FILE, escape, load_desired, load_file, load_text, reader
from reconciler.errors import ConfigError
from reconciler.models import VERTICALS, VERTICALS_SOURCE, DesiredState, SendersFile
from tests.factories import FIXTURES, REPO_ROOT

EXAMPLE = REPO_ROOT / "senders.yaml.example"
CONFIG_FIXTURES = FIXTURES / "config"
A = "whatsapp:+15017122661"
B = "whatsapp:+15017122662"
C = "whatsapp:+15017122663"
NULL = "null is not allowed here: leave the field out to stop managing it, or use '' to clear it"


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in an empty directory, so messages name files by short relative paths."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(name: str, text: str | bytes) -> str:
    path = Path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return name


def errors(text: str | bytes, env: dict[str, str] | None = None, name: str = "senders.yaml") -> list[str]:
    """Every message loading ``text`` gives (the test fails if it loads)."""
    write(name, text)
    with pytest.raises(ConfigError) as info:
        load_desired([name], environ=env or {})
    return [str(issue) for issue in info.value.issues]


# --------------------------------------------------------------------------- happy path


def test_example_file_loads_with_no_variables_set() -> None:
    state = load_desired([EXAMPLE], environ={})
    assert isinstance(state, DesiredState)
    assert [s.sender_id for s in state.senders] == [A, B, C]
    assert state.ignore == frozenset({"whatsapp:+15017122669"})
    assert state.safety.max_delete_percent == 10
    assert state.sources == (str(EXAMPLE),)


def test_default_file_name_is_senders_yaml(here: Path) -> None:
    assert DEFAULT_FILE == "senders.yaml"
    write("senders.yaml", f"senders:\n  - sender_id: {A}\n")
    assert [s.sender_id for s in load_desired(environ={}).senders] == [A]


def test_a_file_with_only_senders_gets_default_safety(here: Path) -> None:
    write("s.yaml", f"senders: [{{sender_id: '{A}'}}]\n")
    state = load_desired(["s.yaml"], environ={})
    assert state.safety.max_update_percent == 30 and state.ignore == frozenset()


def test_absent_fields_are_unmanaged_and_empty_strings_clear(here: Path) -> None:
    write(
        "s.yaml",
        f"""
        senders:
          - sender_id: {A}
            profile: {{about: '', name: Acme}}
        """,
    )
    (sender,) = load_desired(["s.yaml"], environ={}).senders
    assert sender.managed_fields() == {"profile.about": "", "profile.name": "Acme"}


def test_plain_strings_mean_the_default_label(here: Path) -> None:
    write(
        "s.yaml",
        f"""
        senders:
          - sender_id: {A}
            profile:
              emails: [a@example.com, {{email: b@example.com, label: Work}}]
              websites: ["https://a.example.com"]
        """,
    )
    (sender,) = load_desired(["s.yaml"], environ={}).senders
    assert sender.managed_fields() == {
        "profile.emails": [{"email": "a@example.com", "label": "Email"}, {"email": "b@example.com", "label": "Work"}],
        "profile.websites": [{"website": "https://a.example.com", "label": "Website"}],
    }


# --------------------------------------------------------------------------- defaults


def test_defaults_merge_per_field_and_the_sender_wins(here: Path) -> None:
    write(
        "s.yaml",
        f"""
        defaults:
          webhook: {{callback_url: "https://hooks.example.com/a", callback_method: POST}}
          profile:
            vertical: Other
            websites: ["https://one.example.com", "https://two.example.com"]
        senders:
          - sender_id: {A}
            webhook: {{callback_method: PUT}}
            profile: {{websites: ["https://mine.example.com"], about: hi}}
          - sender_id: {B}
        """,
    )
    a, b = load_desired(["s.yaml"], environ={}).senders
    assert a.managed_fields() == {
        "webhook.callback_url": "https://hooks.example.com/a",
        "webhook.callback_method": "PUT",
        "profile.vertical": "Other",
        "profile.about": "hi",
        # lists are replaced, not merged
        "profile.websites": [{"website": "https://mine.example.com", "label": "Website"}],
    }
    assert b.managed_fields() == {
        "webhook.callback_url": "https://hooks.example.com/a",
        "webhook.callback_method": "POST",
        "profile.vertical": "Other",
        "profile.websites": [
            {"website": "https://one.example.com", "label": "Website"},
            {"website": "https://two.example.com", "label": "Website"},
        ],
    }


def test_defaults_apply_only_within_their_own_file(here: Path) -> None:
    write("d/a.yaml", f"defaults: {{profile: {{vertical: Other}}}}\nsenders: [{{sender_id: '{A}'}}]\n")
    write("d/b.yaml", f"senders: [{{sender_id: '{B}'}}]\n")
    a, b = load_desired(["d"], environ={}).senders
    assert a.managed_fields() == {"profile.vertical": "Other"}
    assert b.managed_fields() == {}


def test_invalid_defaults_are_reported_at_their_location(here: Path) -> None:
    assert errors(
        """
        defaults:
          webhook:
            callback_url: ftp://files.example.com
        senders: []
        """
    ) == ["senders.yaml:3:19: defaults.webhook.callback_url: 'ftp://files.example.com' is not an absolute http(s) URL"]


# --------------------------------------------------------------------------- several files


def test_several_files_and_a_directory_sorted_by_name(here: Path) -> None:
    write("conf/20-b.yml", f"senders: [{{sender_id: '{B}'}}]\n")
    write("conf/10-a.yaml", f"senders: [{{sender_id: '{A}'}}]\nignore: [whatsapp:+15017122669]\n")
    write("conf/notes.txt", "not yaml")
    write("conf/.hidden.yaml", "this: is skipped")
    write("extra.yaml", f"senders: [{{sender_id: '{C}'}}]\nsafety: {{min_senders: 3}}\n")
    state = load_desired(["conf", "extra.yaml"], environ={})
    assert [s.sender_id for s in state.senders] == [A, B, C]
    assert state.sources == ("conf/10-a.yaml", "conf/20-b.yml", "extra.yaml")
    assert state.ignore == frozenset({"whatsapp:+15017122669"})
    assert state.safety.min_senders == 3


def test_the_same_file_named_twice_is_read_once(here: Path) -> None:
    write("s.yaml", f"senders: [{{sender_id: '{A}'}}]\n")
    assert len(load_desired(["s.yaml", "./s.yaml"], environ={}).senders) == 1


def test_fixture_directory_loads() -> None:
    state = load_desired([CONFIG_FIXTURES / "split"], environ={})
    assert len(state.senders) == 3
    assert [Path(s).name for s in state.sources] == ["00-defaults-and-safety.yaml", "10-stores.yaml", "20-clinics.yml"]


def test_duplicates_across_files_are_reported_at_both_places(here: Path) -> None:
    write("a.yaml", f"senders:\n  - sender_id: {A}\n")
    write("b.yaml", f"senders:\n  - sender_id: {B}\n  - sender_id: {A}\n")
    with pytest.raises(ConfigError) as info:
        load_desired(["a.yaml", "b.yaml"], environ={})
    assert [str(i) for i in info.value.issues] == [
        f"a.yaml:2:16: sender {A}: duplicate sender; declared again at b.yaml:3:16",
        f"b.yaml:3:16: sender {A}: duplicate sender; first declared at a.yaml:2:16",
    ]
    assert {i.sender_id for i in info.value.issues} == {A}


def test_duplicates_within_a_file(here: Path) -> None:
    assert errors(f"senders:\n  - sender_id: {A}\n  - {{sender_id: '{A}'}}\n") == [
        f"senders.yaml:2:16: sender {A}: duplicate sender; declared again at senders.yaml:3:17",
        f"senders.yaml:3:17: sender {A}: duplicate sender; first declared at senders.yaml:2:16",
    ]


def test_a_sender_both_managed_and_ignored(here: Path) -> None:
    write("a.yaml", f"senders:\n  - sender_id: {A}\n")
    write("b.yaml", f"ignore:\n  - {B}\n  - {A}\n")
    with pytest.raises(ConfigError) as info:
        load_desired(["a.yaml", "b.yaml"], environ={})
    assert [str(i) for i in info.value.issues] == [
        f"a.yaml:2:16: sender {A}: declared under senders but also listed under ignore at b.yaml:3:5",
        f"b.yaml:3:5: ignore[1]: {A} is ignored but also declared under senders at a.yaml:2:16",
    ]


def test_protected_senders_carry_where_they_are_protected(here: Path) -> None:
    write("a.yaml", f"senders:\n  - sender_id: {A}\nprotect:\n  - {A}\n  - {B}\n")
    write("b.yaml", f"# more\nprotect: [{C}, {B}]\n")
    state = load_desired(["a.yaml", "b.yaml"], environ={})
    # Declared and protected is the usual case; a sender protected twice keeps its first place.
    assert state.protect == {A: "a.yaml:4:5", B: "a.yaml:5:5", C: "b.yaml:2:11"}


def test_a_sender_both_protected_and_ignored(here: Path) -> None:
    write("a.yaml", f"senders: []\nprotect:\n  - {B}\n")
    write("b.yaml", f"ignore: [{A}, {B}]\n")
    with pytest.raises(ConfigError) as info:
        load_desired(["a.yaml", "b.yaml"], environ={})
    assert [str(i) for i in info.value.issues] == [
        f"a.yaml:3:5: protect[0]: {B} is protected but also listed under ignore at b.yaml:1:33: a sender the files "
        "leave alone cannot also be protected by them; keep one",
        f"b.yaml:1:33: ignore[1]: {B} is ignored but also listed under protect at a.yaml:3:5",
    ]


def test_a_protect_entry_must_be_a_sender_id(here: Path) -> None:
    assert errors("protect: [whatsapp:+1 501 712 2661]\n") == [
        "senders.yaml:1:11: protect[0]: 'whatsapp:+1 501 712 2661' is not in E.164 form; write 'whatsapp:+15017122661'"
    ]


def test_protection_is_per_account(here: Path) -> None:
    sub = "AC" + "1" * 32
    write("a.yaml", f"protect: [{A}]\n")
    write("b.yaml", f"account: {sub}\nignore: [{A}]\n")  # another account's sender: no conflict
    parent, other = config.load_accounts(["a.yaml", "b.yaml"], environ={})
    assert parent.protect == {A: "a.yaml:1:11"} and other.protect == {} and other.ignore == {A}


def test_the_sandbox_number_cannot_be_managed(here: Path) -> None:
    assert errors("senders:\n  - sender_id: whatsapp:+14155238886\n") == [
        "senders.yaml:2:16: sender whatsapp:+14155238886: this is Twilio's shared WhatsApp sandbox number; "
        "it cannot be managed"
    ]


def test_safety_in_two_files(here: Path) -> None:
    write("a.yaml", "senders: []\nsafety: {min_senders: 1}\n")
    write("b.yaml", "# thresholds\nsafety:\n  min_senders: 2\n")
    with pytest.raises(ConfigError) as info:
        load_desired(["a.yaml", "b.yaml"], environ={})
    assert [str(i) for i in info.value.issues] == [
        "a.yaml:2:1: safety: may be set in one file only; set again at b.yaml:2:1",
        "b.yaml:2:1: safety: may be set in one file only; already set at a.yaml:2:1",
    ]


def test_errors_in_several_files_are_all_reported(here: Path) -> None:
    write("a.yaml", "senders: [\n")
    write("b.yaml", f"senders:\n  - sender_id: {A}\n    profil: {{}}\n")
    with pytest.raises(ConfigError) as info:
        load_desired(["a.yaml", "b.yaml", "missing.yaml"], environ={})
    assert [str(i) for i in info.value.issues] == [
        "missing.yaml: no such file or directory",
        "a.yaml:2:1: invalid YAML: expected the node content, but found '<stream end>'",
        f"b.yaml:3:5: sender {A}: profil: unknown key 'profil'; did you mean 'profile'?",
    ]


def test_missing_path_and_empty_directory(here: Path) -> None:
    Path("empty").mkdir()
    write("empty/readme.txt", "no yaml here")
    with pytest.raises(ConfigError) as info:
        load_desired(["nope.yaml", "empty"], environ={})
    assert [str(i) for i in info.value.issues] == [
        "nope.yaml: no such file or directory",
        "empty: the directory holds no *.yaml or *.yml files",
    ]


# --------------------------------------------------------------------------- validation messages


def test_every_error_of_a_file_is_reported_with_its_location(here: Path) -> None:
    got = errors(
        f"""
        senders:
          - sender_id: {A}
            profile:
              name: Acme
              abuot: hi
              vertical: Spaceships
              emails: [not-an-email]
          - sender_id: whatsapp:+1 501 712 2662
            webhook: {{callback_method: post}}
          - profile: {{name: x}}
          - sender_id: {C}
            configuration: {{waba_id: 123, verification_method: email}}
        """
    )
    verticals = ", ".join(repr(v) for v in VERTICALS)
    assert got == [
        f"senders.yaml:5:7: sender {A}: profile.abuot: unknown key 'abuot'; did you mean 'about'?",
        f"senders.yaml:6:17: sender {A}: profile.vertical: 'Spaceships' is not one of {verticals} ({VERTICALS_SOURCE})",
        f"senders.yaml:7:16: sender {A}: profile.emails[0]: 'not-an-email' is not an email address: "
        "An email address must have an @-sign.",
        "senders.yaml:8:16: senders[1].sender_id: 'whatsapp:+1 501 712 2662' is not in E.164 form; "
        "write 'whatsapp:+15017122662'",
        "senders.yaml:9:32: senders[1].webhook.callback_method: 'post' is not one of 'POST', 'PUT'; did you mean 'POST'?",
        "senders.yaml:10:5: senders[2]: sender_id is required",
        f"senders.yaml:12:30: sender {C}: configuration.waba_id: waba_id must be a quoted string, so no digit is "
        "lost: write it in quotes exactly as Meta shows it (unquoted, YAML reads it as the number 123, without any "
        "leading zero)",
        f"senders.yaml:12:56: sender {C}: configuration.verification_method: 'email' is not one of 'sms', 'voice'",
    ]


def test_vertical_message_names_the_allowed_values(here: Path) -> None:
    (message,) = errors(f"senders:\n  - sender_id: {A}\n    profile: {{vertical: Spaceships}}\n")
    assert message.startswith(f"senders.yaml:3:25: sender {A}: profile.vertical: 'Spaceships' is not one of 'Alcohol', ")
    assert message.endswith(", 'Travel and Transportation' (the values Twilio documents for the Senders API, "
                            "which it enforces)")


@pytest.mark.parametrize(
    ("profile", "column", "message"),
    [
        ("about: " + "a" * 140, 14, "profile.about: 140 characters; Meta allows at most 139"),
        ("description: " + "d" * 513, 20, "profile.description: 513 characters; Meta allows at most 512"),
        ("address: " + "x" * 257, 16, "profile.address: 257 characters; Meta allows at most 256"),
        (
            "websites: ['https://a.example.com', 'https://b.example.com', 'https://c.example.com']",
            17,
            "profile.websites: 3 websites; Meta allows at most 2",
        ),
        ("websites: ['mailto:x@example.com']", 18, "profile.websites[0]: 'mailto:x@example.com' is not an absolute http(s) URL"),
        ("websites: ['']", 18, "profile.websites[0]: a website cannot be empty"),
        ("logo_url: /logo.png", 17, "profile.logo_url: '/logo.png' is not an absolute http(s) URL"),
        ("accent_color: blue", 21, "profile.accent_color: accent_color 'blue' must be a hex colour like '#0A84FF', or ''"),
        (
            "phone_numbers: ['+1 501 712 2661']",
            23,
            "profile.phone_numbers[0]: '+1 501 712 2661' is not in E.164 form; write '+15017122661'",
        ),
        (
            "emails: [{email: a@example.com, lable: Work}]",
            39,
            "profile.emails[0].lable: unknown key 'lable'; did you mean 'label'?",
        ),
        ("about: 42", 14, "profile.about: expected a string, got a number (42) (quote it)"),
        ("about: null", 7, f"profile.about: {NULL}"),
        ("about:", 7, f"profile.about: {NULL}"),
        ("emails: [~]", 16, f"profile.emails[0]: {NULL}"),
        ("name: 2024-01-31", 13, "profile.name: expected a string, got a date (2024-01-31) (quote it)"),
        ("name: true", 13, "profile.name: expected a string, got a boolean (true) (quote it)"),
        ("emails: a@example.com", 15, "profile.emails: expected a list, got a string ('a@example.com')"),
        (
            "color: '#000000'",
            7,
            "profile.color: unknown key 'color'; expected one of: name, about, address, description, logo_url, "
            "banner_url, privacy_url, terms_of_service_url, accent_color, vertical, websites, emails, phone_numbers",
        ),
    ],
)
def test_profile_rules(here: Path, profile: str, column: int, message: str) -> None:
    text = f"senders:\n  - sender_id: {A}\n    profile:\n      {profile}\n"
    assert errors(text) == [f"senders.yaml:4:{column}: sender {A}: {message}"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("senders:\n  - sender_id: +15017122661\n",
         "senders.yaml:2:16: senders[0].sender_id: 15017122661 is a number; a sender is 'whatsapp:' followed by an "
         "E.164 number, e.g. 'whatsapp:+15017122661'"),
        ("senders:\n  - sender_id: '+15017122661'\n",
         "senders.yaml:2:16: senders[0].sender_id: '+15017122661' must be 'whatsapp:' followed by an E.164 number, "
         "e.g. 'whatsapp:+15017122661'"),
        ("senders:\n  - sender_id: whatsapp:+1 (501) 712-2661\n",
         "senders.yaml:2:16: senders[0].sender_id: 'whatsapp:+1 (501) 712-2661' is not in E.164 form; "
         "write 'whatsapp:+15017122661'"),
        ("senders:\n  - sender_id: whatsapp:+1555\n",
         "senders.yaml:2:16: senders[0].sender_id: 'whatsapp:+1555' is not a valid phone number"),
        ("senders:\n  - sender_id: whatsapp:15017122661\n",
         "senders.yaml:2:16: senders[0].sender_id: 'whatsapp:15017122661' is not 'whatsapp:' followed by an E.164 "
         "number (Missing or invalid default region.)"),
        ("ignore: [whatsapp:+1 501 712 2661]\n",
         "senders.yaml:1:10: ignore[0]: 'whatsapp:+1 501 712 2661' is not in E.164 form; write 'whatsapp:+15017122661'"),
        ("senders:\n  - whatsapp:+15017122661\n",
         "senders.yaml:2:5: senders[0]: expected a mapping, got a string ('whatsapp:+15017122661')"),
        ("senders:\n", f"senders.yaml:1:1: senders: {NULL}"),
        ("sender:\n  - sender_id: whatsapp:+15017122661\n",
         "senders.yaml:1:1: sender: unknown key 'sender'; did you mean 'senders'?"),
        ("senders: []\nsafety: {max_delete_percent: 101}\n",
         "senders.yaml:2:30: safety.max_delete_percent: 101: input should be less than or equal to 100"),
        ("senders: []\nsafety: {min_sender: 1}\n",
         "senders.yaml:2:10: safety.min_sender: unknown key 'min_sender'; did you mean 'min_senders'?"),
        ("defaults:\n  sender_id: whatsapp:+15017122661\n",
         "senders.yaml:2:3: defaults.sender_id: unknown key 'sender_id'; expected one of: configuration, webhook, "
         "profile, messaging_service"),
        ("senders:\n  - sender_id: whatsapp:+15017122661\n    configuration: {voice_application_sid: AP123}\n",
         f"senders.yaml:3:44: sender {A}: configuration.voice_application_sid: voice_application_sid 'AP123' must be "
         "'AP' followed by 32 hex digits, or ''"),
        ("senders:\n  - sender_id: whatsapp:+15017122661\n    webhook: {status_callback_method: PATCH}\n",
         f"senders.yaml:3:39: sender {A}: webhook.status_callback_method: 'PATCH' is not one of 'POST', 'PUT'"),
        ("senders:\n  - sender_id: whatsapp:+15017122661\n    webhook: {fallback_method: DELETE}\n",
         f"senders.yaml:3:32: sender {A}: webhook.fallback_method: 'DELETE' is not one of 'POST', 'PUT'"),
        ("senders:\n  - sender_id: whatsapp:+15017122661\n    webhook: {callback_url: 'https://exa mple.com'}\n",
         f"senders.yaml:3:29: sender {A}: webhook.callback_url: 'https://exa mple.com' is not an absolute http(s) URL"),
    ],
)
def test_rules_with_exact_messages(here: Path, text: str, expected: str) -> None:
    assert errors(text) == [expected]


def test_unknown_keys_point_at_the_key_itself(here: Path) -> None:
    assert errors(f"senders:\n  - sender_id: {A}\n    webhook:\n      callback_ur: https://x.example.com\n") == [
        f"senders.yaml:4:7: sender {A}: webhook.callback_ur: unknown key 'callback_ur'; did you mean 'callback_url'?"
    ]


def test_messages_carry_the_sender(here: Path) -> None:
    write("s.yaml", f"senders:\n  - sender_id: {A}\n    profile: {{about: 1}}\n")
    with pytest.raises(ConfigError) as info:
        load_desired(["s.yaml"], environ={})
    (issue,) = info.value.issues
    assert (issue.sender_id, issue.location.path, issue.location.line, issue.location.column) == (A, "s.yaml", 3, 22)


# --------------------------------------------------------------------------- interpolation


def test_interpolation_fallback_and_escape(here: Path) -> None:
    write(
        "s.yaml",
        f"""
        senders:
          - sender_id: "{A}"
            webhook:
              callback_url: "${{HOOKS}}/whatsapp"
              fallback_url: "${{FALLBACK:-https://fallback.example.com}}/wa"
            profile:
              about: "Price: $${{PRICE}} and $$5, ${{EMPTY:-none}}; $${{NOT}} ${{HOOKS}}"
              name: ${{NAME}}
        """,
    )
    (s,) = load_desired(["s.yaml"], environ={"HOOKS": "https://h.example.com", "EMPTY": "", "NAME": "Acme"}).senders
    assert s.webhook.callback_url == "https://h.example.com/whatsapp"
    assert s.webhook.fallback_url == "https://fallback.example.com/wa"
    assert s.profile.about == "Price: ${PRICE} and $$5, none; ${NOT} https://h.example.com"
    assert s.profile.name == "Acme"


def test_interpolation_uses_os_environ_by_default(here: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SENDERS_TEST_NAME", "From Env")
    write("s.yaml", f"senders: [{{sender_id: '{A}', profile: {{name: '${{SENDERS_TEST_NAME}}'}}}}]\n")
    assert load_desired(["s.yaml"]).senders[0].profile.name == "From Env"


def test_interpolated_values_are_validated(here: Path) -> None:
    assert errors(
        f"senders:\n  - sender_id: {A}\n    webhook:\n      callback_url: ${{HOOKS}}/x\n",
        env={"HOOKS": "not a url"},
    ) == [f"senders.yaml:4:21: sender {A}: webhook.callback_url (from ${{HOOKS}}): not an absolute http(s) URL"]


def test_interpolation_errors_are_all_reported_at_their_locations(here: Path) -> None:
    got = errors(
        f"""
        senders:
          - sender_id: {A}
            profile:
              name: "${{MISSING}}"
              about: "${{oops"
              address: "${{1X}}"
        safety:
          min_senders: ${{ALSO_MISSING}}
        """
    )
    assert got == [
        f"senders.yaml:4:13: sender {A}: profile.name: environment variable MISSING is not set "
        "(write ${MISSING:-fallback} to give a fallback)",
        f"senders.yaml:5:14: sender {A}: profile.about: unterminated '${{'; write '$${{' for a literal '${{'",
        f"senders.yaml:6:16: sender {A}: profile.address: '${{1X}}' is not a valid variable reference; "
        "use ${NAME} or ${NAME:-fallback}, or '$${' for a literal '${'",
        "senders.yaml:8:16: safety.min_senders: environment variable ALSO_MISSING is not set "
        "(write ${ALSO_MISSING:-fallback} to give a fallback)",
    ]


def test_interpolation_reaches_numbers_written_as_variables(here: Path) -> None:
    write("s.yaml", "senders: []\nsafety: {min_senders: '${MIN:-5}'}\n")
    assert load_desired(["s.yaml"], environ={}).safety.min_senders == 5


def test_keys_are_not_interpolated(here: Path) -> None:
    assert errors("senders: []\n${X}: 1\n", env={"X": "ignore"}) == [
        "senders.yaml:2:1: ${X}: unknown key '${X}'; expected one of: account, defaults, senders, ignore, protect, safety"
    ]


def test_escape_is_the_inverse_of_interpolation(here: Path) -> None:
    for value in ["${A}", "$${A}", "$$${", "a$", "${${", "$"]:
        write("s.yaml", f"senders: [{{sender_id: '{A}', profile: {{about: '{escape(value)}'}}}}]\n")
        assert load_desired(["s.yaml"], environ={"A": "x"}).senders[0].profile.about == value


# --------------------------------------------------------------------------- hostile and broken files


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "senders.yaml:1:1: the file is empty; expected a mapping with 'senders:'"),
        (b"  \n\n", "senders.yaml:1:1: the file is empty; expected a mapping with 'senders:'"),
        (b"# just a comment\n", "senders.yaml:1:1: the file is empty; expected a mapping with 'senders:'"),
        (b"senders: []\x00\n", "senders.yaml:1:12: this is a binary file (it holds NUL bytes), not YAML"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "senders.yaml:3:1: this is a binary file (it holds NUL bytes), not YAML"),
        (b"senders:\n  - sender_id: caf\xe9\n", "senders.yaml:2:19: the file is not UTF-8 (byte 0xe9 at offset 27)"),
        (b"- a\n- b\n", "senders.yaml:1:1: the top level must be a mapping with 'senders:', not a list"),
        (b"# hi\n  just text\n", "senders.yaml:2:3: the top level must be a mapping with 'senders:', not a string ('just text')"),
        (b"senders: []\nsenders: []\n", "senders.yaml:2:1: duplicate key 'senders' (first at line 1)"),
        (b"senders:\n  - {sender_id: a, sender_id: b}\n", "senders.yaml:2:20: duplicate key 'sender_id' (first at line 2)"),
        (b"senders: [\n", "senders.yaml:2:1: invalid YAML: expected the node content, but found '<stream end>'"),
        (b"senders:\n - a\n  b: c\n", "senders.yaml:3:4: invalid YAML: mapping values are not allowed here"),
        (b"senders: []\n\x07\n", "senders.yaml:2:1: invalid YAML: the character U+0007 is not allowed in YAML"),
        (b"senders: !!python/object/apply:os.system [ls]\n",
         "senders.yaml:1:10: tag '!!python/object/apply:os.system' is not allowed: only plain YAML values are read"),
        (b"senders: !local []\n", "senders.yaml:1:10: tag '!local' is not allowed: only plain YAML values are read"),
        (b"senders: []\nsafety: {min_senders: !!binary aGk=}\n",
         "senders.yaml:2:23: tag '!!binary' is not allowed: only plain YAML values are read"),
        (b"senders: []\nsafety: {min_senders: !!int ten}\n", "senders.yaml:2:23: 'ten' is not a valid !!int"),
        (b"senders: []\n---\nsenders: []\n", "senders.yaml:2:1: a file holds one YAML document; found a second one"),
        (b"a: &a [*a]\n", "senders.yaml:1:8: alias *a refers to a node that contains it"),
        (b"a: *nowhere\n", "senders.yaml:1:4: alias *nowhere names no anchor (&nowhere) above it"),
        (b"senders: " + b"[" * 100 + b"]" * 100 + b"\n", "senders.yaml:1:73: the file is nested more than 64 levels deep"),
        (b"? [a]\n: b\n", "senders.yaml:1:3: a mapping key must be a plain value, not a mapping or a list"),
    ],
)
def test_broken_files_give_one_clear_line(here: Path, content: bytes, expected: str) -> None:
    assert errors(content) == [expected]


def test_a_utf8_byte_order_mark_is_accepted(here: Path) -> None:
    write("s.yaml", b"\xef\xbb\xbfsenders: []\n")
    assert load_desired(["s.yaml"], environ={}).senders == ()


def test_alias_bomb_is_refused_quickly(here: Path) -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [{', '.join(['*' + prev] * 9)}]")
    started = time.process_time()
    assert errors("\n".join(lines) + "\n") == [
        "senders.yaml:2:8: aliases expand to more than 5,000,000 values; refusing a possible alias bomb"
    ]
    assert time.process_time() - started < 5


@pytest.mark.parametrize("prefix", ["", "x: [a:b]\n"], ids=["C parser", "pure parser"])
def test_merge_key_chains_are_refused_before_they_grow_quadratically(
    here: Path, monkeypatch: pytest.MonkeyPatch, prefix: str
) -> None:
    monkeypatch.setattr(reader, "MAX_EXPANDED_VALUES", 1000)
    lines = ["k0: &k0 {y0: 1}"] + [f"k{i}: &k{i} {{<<: *k{i - 1}, y{i}: 1}}" for i in range(1, 100)]
    (message,) = errors(prefix + "\n".join(lines) + "\n")
    assert message.endswith(": merge keys ('<<') copy more than 1,000 values; refusing a possible merge bomb")
    line = int(message.split(":")[1])
    assert 30 <= line <= 50  # where the copies pass the limit: about sqrt(2 * 1000)


def test_recursive_alias_through_the_pure_parser(here: Path) -> None:
    assert errors("x: [a:b]\na: &a [*a]\nb: {<<: {c: 1}}\n") == [
        "senders.yaml:2:8: alias *a refers to a node that contains it"
    ]


def test_the_pure_parser_path_refuses_what_the_fast_path_refuses(here: Path) -> None:
    # libyaml refuses "[whatsapp:+1...]", so ruamel's pure parser reads these; the same builder judges them.
    flow = "ignore: [whatsapp:+15017122669]\n"
    assert errors(flow + "senders: []\nsenders: !!binary aGk=\n") == [
        "senders.yaml:3:1: duplicate key 'senders' (first at line 2)"
    ]
    assert errors(flow + "senders: !!binary aGk=\n") == [
        "senders.yaml:2:10: tag '!!binary' is not allowed: only plain YAML values are read"
    ]
    assert errors(flow + "senders:\n  - sender_id: whatsapp:+15017122661\n    profile: {abuot: x}\n") == [
        "senders.yaml:4:15: sender whatsapp:+15017122661: profile.abuot: unknown key 'abuot'; did you mean 'about'?"
    ]


def test_modest_aliases_and_merge_keys_work(here: Path) -> None:
    write(
        "s.yaml",
        f"""
        senders:
          - sender_id: {A}
            webhook: &hooks
              callback_url: https://hooks.example.com/a
              callback_method: POST
          - sender_id: {B}
            webhook: *hooks
          - sender_id: {C}
            webhook:
              <<: *hooks
              callback_method: PUT
        """,
    )
    a, b, c = load_desired(["s.yaml"], environ={}).senders
    assert a.webhook == b.webhook
    assert (c.webhook.callback_url, c.webhook.callback_method) == ("https://hooks.example.com/a", "PUT")


def test_files_over_the_size_limit_are_refused_before_parsing(here: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reader, "MAX_FILE_BYTES", 100)
    assert errors("senders: []\n" + "# padding\n" * 20) == [
        "senders.yaml: the file is 212 bytes; at most 100 bytes (9.53674e-05 MiB) are read"
    ]


def test_a_device_is_refused_without_being_read(monkeypatch: pytest.MonkeyPatch) -> None:
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero")
    monkeypatch.setattr(reader, "MAX_FILE_BYTES", 1000)
    with pytest.raises(ConfigError) as info:
        load_desired(["/dev/zero"], environ={})
    assert [str(i) for i in info.value.issues] == [
        "/dev/zero: a character device, not a regular file: only regular files are read "
        "(a FIFO or a device could block or never end)"
    ]


def test_load_file_reports_duplicates_within_the_file(here: Path) -> None:
    write("s.yaml", f"senders:\n  - sender_id: {A}\n  - sender_id: {A}\n")
    with pytest.raises(ConfigError, match="duplicate sender"):
        load_file("s.yaml", environ={})


def test_the_size_limit_is_32_mib() -> None:
    assert config.MAX_FILE_BYTES == 32 * 1024 * 1024


def test_flow_sequences_of_sender_ids_parse(here: Path) -> None:
    # libyaml refuses ':' in plain scalars inside [...]; YAML 1.2 allows it, and so does the loader.
    write("s.yaml", f"senders: [{{sender_id: {A}}}]\nignore: [whatsapp:+15017122669, {B}]\n")
    state = load_desired(["s.yaml"], environ={})
    assert state.ignore == frozenset({"whatsapp:+15017122669", B})


def test_load_file_returns_the_file_unmerged(here: Path) -> None:
    write("s.yaml", f"defaults: {{profile: {{about: x}}}}\nsenders: [{{sender_id: '{A}'}}]\n")
    model = load_file("s.yaml", environ={})
    assert model.senders[0].profile is None and model.defaults.profile.about == "x"


# --------------------------------------------------------------------------- properties

_IDS = [f"whatsapp:+1501712{n}" for n in range(2661, 2671)] + [
    "whatsapp:+442079460958",
    "whatsapp:+4930901820",
    "whatsapp:+33142685300",
    "whatsapp:+5511987654321",
]
_URLS = ["https://example.com", "https://hooks.example.com/wa?x=1&y=${Z}", "http://a.example.org/path#frag", ""]
_TEXT = st.text(st.characters(categories=("L", "N", "P", "S", "Zs")), max_size=40)


def _some(**fields: st.SearchStrategy) -> st.SearchStrategy[dict]:
    """A dict holding any subset of ``fields``."""
    return st.fixed_dictionaries({}, optional=fields)


_configuration = _some(
    waba_id=st.from_regex(r"\A[0-9]{1,20}\Z"),
    verification_method=st.sampled_from(["sms", "voice"]),
    voice_application_sid=st.sampled_from(["", "AP" + "0123456789abcdef" * 2]),
    account_type=st.sampled_from(["ISV", "ISVSubAccount", ""]),
)
_webhook = _some(
    callback_url=st.sampled_from(_URLS),
    callback_method=st.sampled_from(["POST", "PUT"]),
    fallback_url=st.sampled_from(_URLS),
    fallback_method=st.sampled_from(["POST", "PUT"]),
    status_callback_url=st.sampled_from(_URLS),
    status_callback_method=st.sampled_from(["POST", "PUT"]),
)
_email = st.sampled_from(["a@example.com", "first.last+tag@shop.example.org"])
_site = st.sampled_from(["https://example.com", "https://shop.example.org/a?b=c"])
_phone = st.sampled_from(["+15017122661", "+442079460958"])
_profile = _some(
    name=st.text(st.characters(categories=("L", "N", "P", "S", "Zs")), min_size=1, max_size=40),
    about=st.text(st.characters(categories=("L", "N", "P", "S", "Zs")), max_size=139),
    address=_TEXT,
    description=_TEXT,
    logo_url=st.sampled_from(_URLS),
    privacy_url=st.sampled_from(_URLS),
    accent_color=st.sampled_from(["", "#0A84FF", "#ffffff"]),
    vertical=st.sampled_from(["Other", "Non-profit", "Beauty, Spa and Salon"]),
    websites=st.lists(st.one_of(_site, st.fixed_dictionaries({"website": _site, "label": _TEXT})), max_size=2),
    emails=st.lists(st.one_of(_email, st.fixed_dictionaries({"email": _email, "label": _TEXT})), max_size=3),
    phone_numbers=st.lists(st.one_of(_phone, st.fixed_dictionaries({"phone_number": _phone}))),
)
_sections = {"configuration": _configuration, "webhook": _webhook, "profile": _profile}


@st.composite
def senders_files(draw: st.DrawFn) -> SendersFile:
    ids = draw(st.lists(st.sampled_from(_IDS), unique=True, max_size=5))
    ignored = [i for i in _IDS if i not in ids]
    data = draw(
        _some(
            defaults=_some(**_sections),
            senders=st.just([draw(_some(**_sections, friendly_name=_TEXT)) | {"sender_id": i} for i in ids]),
            ignore=st.lists(st.sampled_from(ignored), unique=True, max_size=3),
            safety=_some(
                max_update_percent=st.floats(0, 100),
                max_delete_percent=st.integers(0, 100),
                min_senders=st.integers(0, 10**6),
            ),
        )
    )
    return SendersFile.model_validate(data)


def _escaped(value: object) -> object:
    if isinstance(value, str):
        return escape(value)
    if isinstance(value, dict):
        return {k: _escaped(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_escaped(v) for v in value]
    return value


def dump(model: SendersFile) -> str:
    """The YAML a user would write for ``model``: only the fields that were set."""
    from io import StringIO

    yaml = YAML(typ="safe")
    yaml.default_flow_style = False
    out = StringIO()
    yaml.dump(_escaped(model.model_dump(mode="json", exclude_unset=True)), out)
    return out.getvalue()


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(model=senders_files())
def test_any_valid_model_written_to_yaml_loads_back_equal(tmp_path: Path, model: SendersFile) -> None:
    path = tmp_path / "senders.yaml"
    path.write_text(dump(model), encoding="utf-8")
    loaded = load_file(path, environ={"Z": "must not be used"})
    assert loaded == model
    assert loaded.model_dump(exclude_unset=True) == model.model_dump(exclude_unset=True)
    # and merged, every sender keeps exactly the managed fields of the model
    state = load_desired([path], environ={})
    assert [s.managed_fields() for s in state.senders] == [s.managed_fields() for s in config.merge_defaults(model)]


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(content=st.binary(max_size=400))
def test_random_bytes_only_ever_raise_config_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "senders.yaml"
    path.write_bytes(content)
    try:
        load_desired([path], environ={})
    except ConfigError as exc:
        assert exc.issues and all(i.location.path == str(path) for i in exc.issues)


_EXAMPLE_LINES = EXAMPLE.read_text(encoding="utf-8").splitlines(keepends=True)
_JUNK = st.sampled_from(
    ["", ":", "- ", "[", "]", "{", "}", "&a ", "*a", "!!str ", "!x ", "${", "$${", "${V}", "'", '"', "\t", "  ", "\n",
     "null", "~", "<<: *a", "---\n", "? ", "%YAML 1.1\n", "\x00", "\ufeff", "é", "#", "|", ">"]
)


@st.composite
def mangled_examples(draw: st.DrawFn) -> bytes:
    lines = list(_EXAMPLE_LINES)
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["delete", "duplicate", "swap", "insert", "truncate", "indent"]))
        i = draw(st.integers(0, len(lines) - 1))
        if kind == "delete" and len(lines) > 1:
            del lines[i]
        elif kind == "duplicate":
            lines.insert(i, lines[i])
        elif kind == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif kind == "insert":
            col = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:col] + draw(_JUNK) + lines[i][col:]
        elif kind == "truncate":
            lines[i] = lines[i][: draw(st.integers(0, len(lines[i])))]
        else:
            lines[i] = " " * draw(st.integers(1, 3)) + lines[i]
    data = "".join(lines).encode("utf-8")
    if draw(st.booleans()):
        cut = draw(st.integers(0, len(data)))
        data = data[:cut] + draw(st.binary(max_size=3)) + data[cut:]
    return data


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(content=mangled_examples(), env=st.dictionaries(st.sampled_from(["HOOKS_BASE", "WABA_ID"]), _TEXT))
def test_mangled_examples_only_ever_raise_config_error(tmp_path: Path, content: bytes, env: dict[str, str]) -> None:
    path = tmp_path / "senders.yaml"
    path.write_bytes(content)
    try:
        load_desired([path], environ=env)
    except ConfigError as exc:
        assert exc.issues
        for issue in exc.issues:
            assert issue.location.path == str(path)
            assert "\n" not in issue.message


def test_a_problem_inside_an_alias_is_placed_at_the_alias(here: Path) -> None:
    got = errors(
        f"""
        senders:
          - sender_id: {A}
            webhook: &hooks {{callback_url: 'ftp://x.example.com'}}
          - sender_id: {B}
            webhook: *hooks
        """
    )
    assert got == [
        f"senders.yaml:3:36: sender {A}: webhook.callback_url: 'ftp://x.example.com' is not an absolute http(s) URL",
        f"senders.yaml:5:14: sender {B}: webhook.callback_url: 'ftp://x.example.com' is not an absolute http(s) URL",
    ]


def test_a_nested_reference_in_a_fallback_is_refused_where_it_stands(tmp_path: Path) -> None:
    path = tmp_path / "senders.yaml"
    path.write_text('senders:\n  - sender_id: "whatsapp:+15017122661"\n    profile: {name: "${NOPE:-${B}}"}\n')
    with pytest.raises(ConfigError) as caught:
        load_desired([path], environ={"B": "b"})
    (issue,) = caught.value.issues
    assert str(issue.location) == f"{path}:3:21" and "nests a reference in its fallback" in issue.message


def test_load_text_checks_a_text_at_hand_as_a_file_named_so() -> None:
    model, state = load_text(f"defaults:\n  profile: {{about: Hi}}\nsenders:\n  - sender_id: {A}\n", "mine.yaml",
                             environ={}, default_account="AC" + "1" * 32)
    assert model.defaults is not None and model.senders[0].profile is None  # as written
    assert state.account == "AC" + "1" * 32 and state.sources == ("mine.yaml",)
    assert state.senders[0].profile is not None and state.senders[0].profile.about == "Hi"  # defaults merged
    with pytest.raises(ConfigError) as info:
        load_text(f"senders:\n  - sender_id: {A}\n  - sender_id: {A}\n", "mine.yaml", environ={})
    assert str(info.value.issues[0]).startswith(f"mine.yaml:2:16: sender {A}: duplicate sender")
