"""reconciler.export: live senders become a valid senders.yaml whose plan against the same account is empty."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from reconciler.config import load_desired
from reconciler.export import export_account, export_sender, note, to_yaml
from reconciler.models import LivePools, LiveSender, SenderDefaults, Service
from reconciler.plan import build_plan
from tests.factories import SANDBOX, A, B, C, live, number, sid_of

ACME = live(
    A,
    configuration={"waba_id": "12345678912345", "verification_method": "sms"},
    webhook={"callback_url": "https://hooks.example.com/a", "callback_method": "POST", "fallback_url": None},
    profile={"name": "Acme", "about": "Price: ${5} only", "vertical": "Other", "description": None,
             "emails": [{"email": "a@acme.example", "label": "Email"}, {"email": "b@acme.example", "label": "Work"}],
             "websites": [{"website": "https://acme.example", "label": "Website"}], "phone_numbers": []},
    offline_reasons=[{"code": "1", "message": "read only"}],
)


def exported(*senders: LiveSender, targets: tuple[str, ...] = ()) -> dict[str, dict[str, Any]]:
    result = export_account(senders, targets=targets)
    assert result.skipped == [] and result.ignore == []
    return {s["sender_id"]: s for s in result.senders}


def round_trip(tmp_path: Path, senders: list[LiveSender]) -> tuple[str, list[Any]]:
    """Export ``senders``, load the file back with the real loader, and plan it against the same senders
    (deletes allowed: a sender the file leaves out would show as one)."""
    result = export_account(senders)
    text = to_yaml(result.senders, header="exported for a test", ignore=result.ignore, skipped=result.skipped)
    path = tmp_path / "exported.yaml"
    path.write_text(text)
    plan = build_plan(load_desired([path], environ={}), senders, allow_delete=True)
    return text, [*plan.actions, *plan.problems]


def test_writable_fields_with_a_value_are_exported_and_nothing_else() -> None:
    sender = exported(ACME)[A]
    assert sender == {
        "sender_id": A,
        "configuration": {"waba_id": "12345678912345", "verification_method": "sms"},
        "webhook": {"callback_url": "https://hooks.example.com/a", "callback_method": "POST"},
        "profile": {"name": "Acme", "about": "Price: $${5} only", "vertical": "Other",
                    "emails": ["a@acme.example", {"email": "b@acme.example", "label": "Work"}],
                    "websites": ["https://acme.example"]},
    }


def test_default_labels_become_plain_strings_and_others_stay_labelled() -> None:
    sender = exported(live(A, profile={"phone_numbers": [{"phone_number": "+15017122661", "label": "Phone"},
                                                         {"phone_number": "+15017122662", "label": "Sales"}]}))[A]
    assert sender["profile"]["phone_numbers"] == ["+15017122661", {"phone_number": "+15017122662", "label": "Sales"}]


def test_variable_syntax_in_live_text_is_escaped_everywhere() -> None:
    sender = exported(live(A, profile={"name": "${NAME}", "emails": [{"email": "a@acme.example", "label": "${L}"}]},
                           webhook={"callback_url": "https://h.example/${x}"}))[A]
    assert sender["profile"] == {"name": "$${NAME}", "emails": [{"email": "a@acme.example", "label": "$${L}"}]}
    assert sender["webhook"] == {"callback_url": "https://h.example/$${x}"}


def test_values_the_file_format_refuses_are_left_out_with_a_reason() -> None:
    result = export_account([live(A, profile={"name": "Acme", "about": "x" * 200, "vertical": "Spaceships"})])
    out, skipped = result.senders, result.skipped
    assert out == [{"sender_id": A, "profile": {"name": "Acme"}}]
    assert [(s.sender_id, s.path) for s in skipped] == [(A, "profile.about"), (A, "profile.vertical")]
    assert "139" in skipped[0].reason and skipped[1].reason


def test_a_sender_whose_number_the_file_format_refuses_goes_under_ignore() -> None:
    result = export_account([live("whatsapp:+1555", sid=sid_of(A)), live(B)])
    assert [s["sender_id"] for s in result.senders] == [B] and result.ignore == ["whatsapp:+1555"]
    ((sender_id, path, ignored),) = [(s.sender_id, s.path, s.ignored) for s in result.skipped]
    assert (sender_id, path, ignored) == ("whatsapp:+1555", "sender_id", True) and result.skipped[0].reason
    text = to_yaml(result.senders, header="h", ignore=result.ignore)
    assert text.endswith("ignore:\n  - whatsapp:+1555\n")


def test_friendly_name_and_account_type_are_exported() -> None:
    sender = exported(live(A, friendly_name="Front desk", configuration={"account_type": "ISVSubAccount"},
                           profile={"name": "Acme"}))[A]
    assert sender == {"sender_id": A, "friendly_name": "Front desk",
                      "configuration": {"account_type": "ISVSubAccount"}, "profile": {"name": "Acme"}}


def test_values_the_file_refuses_are_written_as_comments_and_the_file_plans_to_no_change(tmp_path: Path) -> None:
    odd = live(A, profile={"name": "Acme", "vertical": "Spaceships", "about": "x" * 200},
               webhook={"status_callback_method": "GET"})
    text, left = round_trip(tmp_path, [odd, live("whatsapp:+1555", sid=sid_of(B)),
                                       live(C, profile={"name": "Only"}, webhook={"status_callback_method": "GET"})])
    assert left == [], text
    assert "    # not managed: profile.vertical is 'Spaceships' live; not one of the values the file accepts\n" in text
    assert "# not managed: webhook.status_callback_method is 'GET' live" in text
    assert "ignore:\n  - whatsapp:+1555\n" in text


def test_the_sandbox_is_never_exported_and_targets_limit_the_export() -> None:
    assert list(exported(live(C), live(SANDBOX), live(A))) == [A, C]  # sorted by number
    assert list(exported(live(C), live(A), live(B), targets=(B, C))) == [B, C]


def test_the_yaml_is_block_style_with_the_header_as_comments() -> None:
    out = export_account([ACME]).senders
    text = to_yaml(out, header="Exported from AC123\n\nby reconciler export")
    assert text.startswith("# Exported from AC123\n#\n# by reconciler export\nsenders:\n")
    assert "    profile:\n" in text and "      emails:\n" in text  # block style, one value a line
    assert "- a@acme.example" in text and "label: Work" in text
    assert YAML(typ="safe").load(text) == {"senders": out}


def test_the_exported_file_plans_to_no_change_against_the_same_senders(tmp_path: Path) -> None:
    senders = [ACME, live(B, profile={"name": "Beta", "about": "x" * 200}), live(SANDBOX, profile={"name": "Sandbox"}),
               live(C, status="OFFLINE", profile={"emails": []})]
    text, left = round_trip(tmp_path, senders)
    assert left == [], text
    assert "Price: $${5} only" in text  # read back literally, as the plan shows


# --------------------------------------------------------------------------- any live state

text = st.text(alphabet="abc XYZ${}é'\":#-", max_size=12)
urls = st.sampled_from([None, "", "https://a.example", "https://b.example/${x}"])
labelled = st.lists(st.fixed_dictionaries({"email": st.sampled_from(["a@example.com", "b@example.org"]),
                                           "label": st.sampled_from(["Email", "Work", "${L}"])}), max_size=2)


@st.composite
def live_sender(draw: st.DrawFn, i: int) -> LiveSender:
    profile = draw(st.fixed_dictionaries({}, optional={
        "name": text, "about": st.one_of(st.none(), text, st.just("y" * 150)), "description": text,
        "vertical": st.sampled_from(["Other", "Education", "Spaceships"]), "emails": labelled,
        "websites": st.lists(st.fixed_dictionaries({"website": st.sampled_from(["https://a.example", "ftp://x"]),
                                                    "label": st.just("Website")}), max_size=2),
    }))
    webhook = draw(st.fixed_dictionaries({}, optional={"callback_url": urls, "fallback_url": urls,
                                                       "callback_method": st.sampled_from(["POST", "PUT", "GET"])}))
    return live(number(2000 + i), status=draw(st.sampled_from(["ONLINE", "OFFLINE", "CREATING"])),
                profile=profile or None, webhook=webhook or None)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.integers(0, 5).flatmap(lambda n: st.tuples(*(live_sender(i) for i in range(n)))))
def test_any_export_plans_to_no_change(tmp_path: Path, senders: tuple[LiveSender, ...]) -> None:
    text, left = round_trip(tmp_path, list(senders))
    assert left == [], text


def test_a_field_the_file_s_defaults_set_and_the_sender_lacks_is_written_empty() -> None:
    defaults = SenderDefaults.model_validate({
        "webhook": {"fallback_url": "https://hooks.example.com/f", "callback_url": "https://hooks.example.com/c"},
        "profile": {"emails": ["all@acme.example"], "vertical": "Other", "about": "Default about"},
    })
    sender = live(A, webhook={"callback_url": "https://own.example.com"}, profile={"name": "Acme", "about": "x" * 200})
    entry, skipped = export_sender(sender, defaults)
    # Its own callback_url stays; the fallback_url and the emails it lacks are written empty; a vertical cannot be
    # (the file refuses ''), and an about left out as a comment keeps the default: the plan says so.
    assert entry["webhook"] == {"callback_url": "https://own.example.com", "fallback_url": ""}
    assert entry["profile"] == {"name": "Acme", "emails": []}
    assert [s.path for s in skipped] == ["profile.about"]
    assert note(skipped[0]).startswith("not managed: profile.about is 'xxxx") and "139 characters" in note(skipped[0])
    assert export_sender(sender)[0]["webhook"] == {"callback_url": "https://own.example.com"}


# --------------------------------------------------------------------------- Messaging Services


def test_each_sender_is_written_with_its_service_and_plans_no_change(tmp_path: Path) -> None:
    sales, support = "MG" + "a" * 32, "MG" + "b" * 32
    pools = LivePools.of([Service(sales, "Sales\nteam"), Service(support)], {sales: [sid_of(A)], support: [sid_of(B)]})
    senders = [live(A, profile={"name": "Acme"}), live(B, profile={"name": "Beta"}), live(C, profile={"name": "Cafe"})]
    result = export_account(senders, pools=pools)
    assert [s["messaging_service"] for s in result.senders] == [sales, support, None]
    assert result.services == {sales: "Sales\nteam"}
    text = to_yaml(result.senders, header="x", services=result.services)
    assert f"    messaging_service: {sales}  # Sales\\nteam\n" in text  # the name in a comment, on its line
    assert f"    messaging_service: {support}\n" in text and "    messaging_service: null\n" in text
    path = tmp_path / "exported.yaml"
    path.write_text(text)
    assert build_plan(load_desired([path]), senders, pools=pools).actions == ()


def test_a_sender_several_pools_hold_gets_a_comment_not_a_guess() -> None:
    sales, support = "MG" + "a" * 32, "MG" + "b" * 32
    pools = LivePools.of([Service(sales, "Sales"), Service(support)], {sales: [sid_of(A)], support: [sid_of(A)]})
    result = export_account([live(A, profile={"name": "Acme"})], pools=pools)
    assert "messaging_service" not in result.senders[0]
    [skipped] = result.skipped
    assert (skipped.path, skipped.value) == ("messaging_service", f"{sales}, {support}")
    assert "which one is meant is not guessed" in note(skipped)


def test_an_account_without_services_gets_no_service_field() -> None:
    result = export_account([live(A, profile={"name": "Acme"})], pools=LivePools())
    assert "messaging_service" not in result.senders[0] and result.services == {}
