"""What a command prints, whole: where ``plan --out`` says the saved plan went, and how to apply it."""

from __future__ import annotations

from reconciler.accounts.record import AccountPlan, AccountRef
from reconciler.export import Skipped
from reconciler.plan import build_plan
from reconciler.render.commands import export_output, plan_output
from tests.factories import A, desired, state

ACCOUNT = AccountRef("AC" + "1" * 32, "Main")


def plans() -> list[AccountPlan]:
    return [AccountPlan(ACCOUNT, build_plan(state(desired(A, profile={"name": "Acme"})), []))]


def test_a_saved_plan_names_the_command_that_applies_it_as_a_shell_reads_it() -> None:
    said = plan_output(plans(), "text", out="plans/plan.json", saved=True).stderr
    assert said == ("Saved the plan to plans/plan.json; apply it with: reconciler apply plans/plan.json",)
    assert plan_output(plans(), "text", out="my plan.json", saved=True).stderr[-1].endswith("reconciler apply 'my plan.json'")
    # A name that starts with '-' would be read as an option, and '-' alone as standard input.
    assert plan_output(plans(), "text", out="-x.json", saved=True).stderr[-1].endswith("reconciler apply ./-x.json")


def test_a_plan_on_stdout_says_how_to_pipe_it() -> None:
    output = plan_output(plans(), "text", out="-", saved=True)
    assert output.stderr == ("Wrote the saved plan to standard output; apply it with: ... | reconciler apply -",)
    assert f"+ {A}" in output.stdout  # the CLI sends it to stderr; the words stay the same


def test_export_to_stdout_prints_the_file() -> None:
    skipped = [Skipped(A, "profile.about", "too long", value="'x'")]
    assert export_output("senders: []\n", 0, skipped, "-").stdout == "senders: []\n"
    assert export_output("senders: []\n", 0, skipped, "out.yaml").stderr[-1] == "Wrote 0 senders to out.yaml"
