"""``reconciler/render/markdown.py``: the plan as a pull-request comment, escaped, within a limit, whatever its size.

Unit tests of its escaping (``md_text``, ``md_code``), of ``largest_fitting``, of what one plan keeps as
the limit shrinks (title and verdict always; problems and notices last), and of several accounts: sections
when they fit, else a table of every account first. tests/test_render.py has the layout of a small plan.
"""

from __future__ import annotations

import re

import pytest

from reconciler.diff import Action, FieldChange, Notice, Problem
from reconciler.plan import Plan
from reconciler.render.markdown import (
    GITHUB_COMMENT_LIMIT,
    MIN_SECTION,
    TITLE,
    largest_fitting,
    md_code,
    md_text,
    render_markdown,
    render_markdown_accounts,
)
from tests.factories import A, B, number

SID = "XE" + "d" * 32


# --------------------------------------------------------------------------- escaping


@pytest.mark.parametrize(("text", "shown"), [
    ("[click](https://evil.example)", "\\[click\\](https\\://evil.example)"),  # ":" too: no autolink
    ("![x](https://evil.example/p.png)", "\\!\\[x\\](https\\://evil.example/p.png)"),
    ("*bold* _em_ ~del~ `code`", "\\*bold\\* \\_em\\_ \\~del\\~ \\`code\\`"),
    ("<img src=x onerror=alert(1)>", "&lt;img src=x onerror=alert(1)&gt;"),
    ("a | b", "a \\| b"),
    ("# heading", "\\# heading"),
    ("ping @octocat", "ping @\u200boctocat"),
    ("back\\slash", "back\\\\slash"),
    ("bell\x07 esc\x1b new\nline", "bell\\\\x07 esc\\\\x1b new\\\\nline"),
    ("Tom & Jerry's", "Tom &amp; Jerry's"),
])
def test_md_text_renders_as_itself(text: str, shown: str) -> None:
    assert md_text(text) == shown
    assert "\n" not in md_text(text)


@pytest.mark.parametrize(("text", "shown"), [
    ("whatsapp:+15017122661", "`whatsapp:+15017122661`"),
    ("a`b", "``a`b``"),
    ("a``b`", "``` a``b` ```"),  # a backtick at an end needs a space to stay inside
    ("`start", "`` `start ``"),
    ("x|y", "`x\\|y`"),
    ("x\ny\x1b", "`x\\ny\\x1b`"),
])
def test_md_code_is_a_span_nothing_inside_can_close(text: str, shown: str) -> None:
    assert md_code(text) == shown


@pytest.mark.parametrize("n", [0, 1, 2, 7, 100, 1000])
def test_largest_fitting_finds_the_last_that_fits_in_few_tries(n: int) -> None:
    for last in {0, n // 3, n - 1, n} - {-1}:
        tried: list[int] = []

        def fits(k: int, last: int = last, tried: list[int] = tried) -> bool:
            tried.append(k)
            return k <= last

        assert largest_fitting(n, fits) == last
        assert len(tried) <= max(1, n).bit_length() + 1
        assert all(0 <= k <= n for k in tried)


# --------------------------------------------------------------------------- one plan


def plan_of(actions: int = 0, notices: int = 0, problems: int = 0) -> Plan:
    return Plan(
        actions=tuple(Action("create", number(i), changes=(FieldChange("profile.name", None, f"Shop {i}"),))
                      for i in range(actions)),
        notices=tuple(Notice(number(5000 + i), "status", status="CREATING") for i in range(notices)),
        problems=tuple(Problem(number(8000 + i), "name_required") for i in range(problems)),
    )


def test_what_a_file_or_the_api_wrote_cannot_make_markup_in_the_comment() -> None:
    plan = Plan(actions=(Action("delete", "whatsapp:+1<b>@x", sid="XE`|", allowed=False),),
                notices=(Notice(A, "status", status="[x](https://evil.example)"),),
                problems=(Problem(B, "immutable_field", path="configuration.waba_id", before="<!--", after="*"),))
    md = render_markdown(plan)
    assert "<b>" not in md.replace("`whatsapp:+1<b>@x`", "")  # inside a code span it is literal text
    assert "<!--" not in md and "&lt;\\!--" in md
    assert not re.search(r"(?<!\\)\]\(", md)  # no link: every "](" is escaped
    assert "<code>whatsapp:+1&lt;b&gt;@x</code>" in md and "`whatsapp:+1<b>@x`" in md  # literal in a code span
    assert "Deletes ``XE`\\|``. Gated: pass `--allow-delete`." in md
    assert "status \\[x\\](https\\://evil.example)" in md


def test_an_action_without_field_changes_has_a_dash_in_the_table() -> None:
    md = render_markdown(Plan(actions=(Action("delete", A, sid=SID),)))
    assert f"| - | `{A}` | delete | — |" in md and f"Deletes `{SID}`." in md and "Gated" not in md


def test_a_title_of_one_s_own_goes_first_and_the_verdict_of_no_changes_says_so() -> None:
    md = render_markdown(Plan(), title="#### Account `AC1`")
    assert md == "#### Account `AC1`\n\n**No changes.** Live senders match the file.\n"


@pytest.mark.parametrize("limit", [1_000, 1_500, 2_500, 5_000, 15_000])
def test_within_any_limit_the_title_and_verdict_stay_and_what_was_cut_is_counted(limit: int) -> None:
    plan = plan_of(actions=60, notices=30, problems=30)
    md = render_markdown(plan, limit=limit)
    assert len(md) <= limit
    assert md.startswith(f"{TITLE}\n\n**Plan: 60 to create, 0 to update, 0 to delete. But apply refuses it: 30 senders")
    full = render_markdown(plan, limit=10**9)
    for kind, total, left in (("problem", 30, r"… (\d+) more problems? left out"),
                              ("notice", 30, r"… (\d+) more notices? left out")):
        shown = md.count("cannot create") if kind == "problem" else md.count("status CREATING")
        cut = re.search(left, md)
        assert shown + (int(cut.group(1)) if cut else 0) == total, (kind, limit)
    assert len(full) > limit  # there was something to cut


def test_problems_and_notices_are_cut_only_after_the_details_and_the_rows() -> None:
    plan = plan_of(actions=40, notices=5, problems=5)
    without_details = render_markdown(plan, limit=len(render_markdown(plan, limit=10**9)) - 1)
    assert "<details>" in without_details  # some details still fit
    tight = render_markdown(plan, limit=3_000)
    assert "<details>" not in tight and "more actions not shown" in tight
    assert tight.count("cannot create") == 5 and tight.count("status CREATING") == 5  # all kept


# --------------------------------------------------------------------------- several accounts


def accounts(count: int, actions: int = 1) -> list[tuple[str, Plan]]:
    return [(f"Account `AC{i:032x}`", plan_of(actions=actions)) for i in range(count)]


def test_accounts_that_fit_each_get_a_section_under_the_verdict() -> None:
    md = render_markdown_accounts("Plan across 3 accounts: 3 to create.", accounts(3))
    assert md.startswith(f"{TITLE}\n\n**Plan across 3 accounts: 3 to create.**\n\n#### Account `AC")
    assert md.count("#### Account") == 3 and "| account | create |" not in md


def test_too_many_accounts_get_a_table_of_their_counts_first_then_as_many_sections_as_fit() -> None:
    many = accounts(400, actions=3)
    md = render_markdown_accounts("Plan across 400 accounts: 1200 to create.", many, limit=20_000)
    assert len(md) <= 20_000
    assert ("| account | create | update | delete | pool | problems |\n| --- | ---: | ---: | ---: | ---: | ---: |"
            in md)
    rows = re.findall(r"^\| Account `AC[0-9a-f]{32}` \| 3 \| 0 \| 0 \| 0 \| 0 \|$", md, re.M)
    more = re.search(r"^\| … (\d+) more accounts \| (\d+) \| 0 \| 0 \| 0 \| 0 \|$", md, re.M)
    assert rows and more and len(rows) + int(more.group(1)) == 400 and int(more.group(2)) == 3 * int(more.group(1))
    sections = md.count("\n#### Account")
    left = re.search(r"_Details of (\d+) accounts were left out to fit a comment", md)
    assert left and sections + int(left.group(1)) == 400


def test_accounts_without_news_get_a_row_but_no_section_when_summarised() -> None:
    quiet = [(f"Account `AC{i:032x}`", Plan()) for i in range(200)]
    md = render_markdown_accounts("Plan across 200 accounts: 0 to create.", quiet, limit=8_000)
    assert len(md) <= 8_000 and "#### " not in md and "were left out" not in md


@pytest.mark.parametrize("limit", [MIN_SECTION, 4_000, 9_999, GITHUB_COMMENT_LIMIT])
def test_several_accounts_stay_within_any_limit(limit: int) -> None:
    md = render_markdown_accounts("Plan across 30 accounts.", accounts(30, actions=20), limit=limit)
    assert len(md) <= limit and md.startswith(f"{TITLE}\n\n**Plan across 30 accounts.**\n\n")
