"""``reconciler/action/github.py``: what the action writes for GitHub, how it runs the CLI, and GitHub's API.

Unit tests of the module's own functions and classes; GitHub's API is a scripted server on 127.0.0.1
(tests/hostile_server.py). The whole action against a GitHub stand-in is tests/test_github_action.py.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from reconciler import __version__
from reconciler.action.github import (
    STDERR_LINES,
    ActionError,
    CliRun,
    GitHubApi,
    Workflow,
    escape_command,
    fenced,
    fit_comment,
    md_cell,
    run_cli,
    sticky_comment,
)
from tests.factories import clean_env, free_port, write_yaml
from tests.hostile_server import HostileServer, Request, reply

TOKEN = "ghs_" + "t0ken" * 6
REPO = "acme/senders"


def outputs_of(path: Path) -> dict[str, str]:
    """GITHUB_OUTPUT read as the runner reads its ``name<<DELIMITER`` blocks."""
    found, lines = {}, iter(path.read_text(encoding="utf-8").split("\n"))
    for line in lines:
        if not line:
            continue
        name, delimiter = line.split("<<", 1)
        value = []
        for body in lines:
            if body == delimiter:
                break
            value.append(body)
        found[name] = "\n".join(value)
    return found


# --------------------------------------------------------------------------- text for GitHub


def test_workflow_command_data_escapes_percent_first_so_nothing_decodes_twice() -> None:
    assert escape_command("50% done\r\nnext") == "50%25 done%0D%0Anext"
    # A literal "%0A" in a message stays text: it must not become a line break in the annotation.
    assert escape_command("a%0A::error::b") == "a%250A::error::b"


def test_a_table_cell_holds_no_pipe_nor_line_break() -> None:
    assert md_cell("a|b\r\nc") == "a\\|b  c"
    assert "\n" not in md_cell("x\ny") and md_cell("plain") == "plain"


def test_a_fence_is_longer_than_any_backtick_run_inside_and_trailing_space_goes() -> None:
    assert fenced("one ````` two\n\n") == "``````\none ````` two\n``````"
    assert fenced("`a` and ``b``") == "```\n`a` and ``b``\n```"  # short runs: the usual fence


def test_a_cut_comment_fits_and_ends_at_a_line_when_it_has_no_details_block() -> None:
    body = "\n".join(f"line {i}" for i in range(1000))
    cut = fit_comment(body, limit=500)
    assert len(cut) <= 500
    kept = cut.split("\n\n_The plan was cut")[0]
    assert body.startswith(kept) and kept.splitlines()[-1] in body.splitlines()  # whole lines only
    assert cut.endswith("the step summary and the log have all of it._\n")


def test_a_comment_of_one_long_line_is_cut_to_the_note_alone() -> None:
    cut = fit_comment("x" * 1000, limit=200)
    assert len(cut) <= 200 and "x" not in cut and "cut to fit a comment" in cut


# --------------------------------------------------------------------------- the files GitHub reads


def test_outputs_round_trip_any_value_with_a_delimiter_of_their_own(tmp_path: Path) -> None:
    output = tmp_path / "output"
    values = {"summary": "Plan: 1 to create.", "multi": "line 1\nname<<EOF\nEOF\nline 4", "empty": ""}
    wf = Workflow({"GITHUB_OUTPUT": str(output)})
    wf.set_outputs(values)
    wf.set_outputs({"later": "appended"})
    assert outputs_of(output) == {**values, "later": "appended"}
    delimiters = [line.split("<<", 1)[1] for line in output.read_text().splitlines() if "<<ghadelimiter_" in line]
    assert len(set(delimiters)) == 4


def test_without_a_runner_s_files_nothing_is_written_and_nothing_fails(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    wf = Workflow({})
    wf.set_outputs({"exitcode": "0"})
    wf.add_summary("# hi")
    assert list(tmp_path.iterdir()) == []


def test_a_file_github_named_that_cannot_be_written_is_an_action_error(tmp_path: Path) -> None:
    wf = Workflow({"GITHUB_OUTPUT": str(tmp_path), "GITHUB_STEP_SUMMARY": str(tmp_path / "missing" / "summary.md")})
    with pytest.raises(ActionError, match=r"^cannot write \$GITHUB_OUTPUT \(.*\): Is a directory$"):
        wf.set_outputs({"exitcode": "0"})
    with pytest.raises(ActionError, match=r"^cannot write \$GITHUB_STEP_SUMMARY \(.*\): No such file or directory$"):
        wf.add_summary("x")


def test_the_summary_is_appended_a_block_at_a_time(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    wf = Workflow({"GITHUB_STEP_SUMMARY": str(summary)})
    wf.add_summary("### one\n\n\n")
    wf.add_summary("### two")
    assert summary.read_text() == "### one\n\n### two\n\n"


def test_write_file_makes_its_directory_and_says_when_it_cannot(tmp_path: Path) -> None:
    wf = Workflow({})
    wf.write_file(str(tmp_path / "reports" / "apply.json"), "{}\n")
    assert (tmp_path / "reports" / "apply.json").read_text() == "{}\n"
    (tmp_path / "a-file").write_text("")
    with pytest.raises(ActionError, match=r"^cannot write .*a-file/report.json: "):
        wf.write_file(str(tmp_path / "a-file" / "report.json"), "{}")


def test_annotations_are_one_line_each(capsys: pytest.CaptureFixture[str]) -> None:
    Workflow.error("bad\nworse 100%")
    Workflow.warning("careful\r")
    assert capsys.readouterr().out == "::error::bad%0Aworse 100%25\n::warning::careful%0D\n"


# --------------------------------------------------------------------------- the event


def _event(tmp_path: Path, doc: object, **env: str) -> Workflow:
    path = tmp_path / "event.json"
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return Workflow({"GITHUB_EVENT_PATH": str(path), **env})


@pytest.mark.parametrize(("doc", "number"), [
    ({"pull_request": {"number": 12}}, 12),
    ({"issue": {"number": 7, "pull_request": {"url": "https://api.github.com/..."}}}, 7),  # a comment on a PR
    ({"issue": {"number": 7}}, None),  # a comment on an issue
    ({"pull_request": {"number": "12"}}, None),
    ({"ref": "refs/heads/main"}, None),  # a push
    ([1, 2], None),
    ("{not json", None),
])
def test_the_pull_request_comes_from_the_event_or_there_is_none(tmp_path: Path, doc: object, number: int | None) -> None:
    assert _event(tmp_path, doc).pull_request_number() == number


def test_an_event_file_that_is_missing_reads_as_no_event(tmp_path: Path) -> None:
    assert Workflow({"GITHUB_EVENT_PATH": str(tmp_path / "none.json")}).event() == {}
    assert Workflow({}).pull_request_number() is None


def test_the_head_commit_is_the_pull_request_s_else_the_run_s(tmp_path: Path) -> None:
    head, pushed = "a" * 40, "b" * 40
    assert _event(tmp_path, {"pull_request": {"head": {"sha": head}}}, GITHUB_SHA=pushed).head_sha() == head
    assert _event(tmp_path, {"pull_request": {"head": "oops"}}, GITHUB_SHA=pushed).head_sha() == pushed
    assert Workflow({}).head_sha() == ""


def test_the_run_url_needs_server_repository_and_run() -> None:
    env = {"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": REPO, "GITHUB_RUN_ID": "42"}
    assert Workflow(env).run_url() == f"https://github.com/{REPO}/actions/runs/42"
    for missing in env:
        assert Workflow({k: v for k, v in env.items() if k != missing}).run_url() == ""


# --------------------------------------------------------------------------- the CLI


def test_the_cli_s_json_is_an_object_or_nothing() -> None:
    assert CliRun(0, '{"drift": false}', "").json() == {"drift": False}
    assert CliRun(0, "[1]", "").json() is None
    assert CliRun(1, "Plan: 1 to create.", "").json() is None


def test_the_stderr_tail_is_the_last_lines_or_says_there_were_none() -> None:
    lines = [f"line {i}" for i in range(STDERR_LINES + 5)]
    assert CliRun(1, "", "\n".join(lines) + "\n\n").stderr_tail() == "\n".join(lines[-STDERR_LINES:])
    assert CliRun(1, "", "  \n").stderr_tail() == "(no output)"


def test_run_cli_shows_the_command_and_keeps_what_the_cli_prints_out_of_workflow_commands(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = write_yaml(tmp_path, "senders:\n  - sender_id: '::error::forged'\n", name="a b.yaml")
    result = run_cli(["validate", "-f", bad], Workflow(clean_env()))
    log = capsys.readouterr().out.splitlines()
    assert result.returncode == 1 and "::error::forged" in result.stderr
    assert log[0] == f'$ reconciler validate -f {json.dumps(bad)}'  # a name with a space is quoted
    token = log[1].removeprefix("::stop-commands::")
    assert log[1].startswith("::stop-commands::") and uuid.UUID(hex=token)
    assert log[-1] == f"::{token}::"
    assert any("::error::forged" in line for line in log[2:-1])  # the CLI's words, while commands are stopped


def test_run_cli_returns_stdout_and_echoes_it_only_when_asked(capsys: pytest.CaptureFixture[str]) -> None:
    wf = Workflow(clean_env())
    quiet = run_cli(["--version"], wf, echo_stdout=False)
    assert quiet == CliRun(0, f"reconciler, version {__version__}\n", "")
    assert f"version {__version__}" not in capsys.readouterr().out
    run_cli(["--version"], wf)
    assert f"reconciler, version {__version__}" in capsys.readouterr().out


# --------------------------------------------------------------------------- GitHub's API


@pytest.mark.parametrize("url", ["http://api.github.example", "ftp://127.0.0.1", "http://10.0.0.1:8080"])
def test_the_token_goes_over_https_or_to_loopback_only(url: str) -> None:
    with pytest.raises(ActionError, match="https only"):
        GitHubApi({"GITHUB_API_URL": url, "GH_TOKEN": TOKEN})


def test_the_graphql_url_follows_the_rest_api_s_host() -> None:
    assert GitHubApi({}).graphql_url == "https://api.github.com/graphql"
    assert GitHubApi({"GITHUB_API_URL": "https://ghe.example.com/api/v3/"}).graphql_url == "https://ghe.example.com/api/graphql"
    assert GitHubApi({"GITHUB_API_URL": "http://localhost:8080"}).graphql_url == "http://localhost:8080/graphql"
    assert GitHubApi({"GITHUB_API_URL": "http://[::1]:9"}).origin == ("http", "::1", 9)
    with pytest.raises(ActionError, match="https only"):
        GitHubApi({"GITHUB_GRAPHQL_URL": "http://graphql.example"})


def test_the_token_is_gh_token_before_github_token() -> None:
    assert GitHubApi({"GH_TOKEN": "a", "GITHUB_TOKEN": "b"}).token == "a"
    assert GitHubApi({"GITHUB_TOKEN": "b"}).token == "b"
    assert GitHubApi({}).token == ""


def serve(answer: Callable[[Request], bytes]) -> HostileServer:
    return HostileServer(answer)


def api_of(server: HostileServer) -> GitHubApi:
    return GitHubApi({"GITHUB_API_URL": server.base_url, "GH_TOKEN": TOKEN}, timeout=10)


def test_a_refusal_names_the_request_and_github_s_message_never_the_token() -> None:
    message = {"message": "Resource not\n accessible   by integration", "documentation_url": "x"}
    with serve(lambda r: reply(403, message, reason="Forbidden")) as server:
        with pytest.raises(ActionError) as caught:
            api_of(server).request("POST", "repos/acme/senders/issues/1/comments", {"body": "x"})
        (sent,) = server.requests
    assert str(caught.value) == "POST /repos/acme/senders/issues/1/comments: GitHub answered 403: " \
                                "Resource not accessible by integration"
    assert TOKEN not in str(caught.value)
    assert sent.headers["authorization"] == f"Bearer {TOKEN}" and json.loads(sent.body) == {"body": "x"}


def test_a_refusal_without_json_says_the_reason_and_a_long_message_is_cut() -> None:
    bad_gateway = serve(lambda r: reply(502, raw=b"<html>bad gateway</html>", reason="Bad Gateway"))
    with bad_gateway as server, pytest.raises(ActionError, match=r"^GET /x: GitHub answered 502: Bad Gateway$"):
        api_of(server).request("GET", "x")
    with serve(lambda r: reply(422, {"message": "y" * 1000})) as server, pytest.raises(ActionError) as caught:
        api_of(server).request("GET", "x")
    assert str(caught.value).endswith(": " + "y" * 300)


def test_a_redirect_is_not_followed_so_the_token_stays_at_the_api() -> None:
    with serve(lambda r: reply(200, {"login": "elsewhere"})) as elsewhere:
        moved = serve(lambda r: reply(302, None, headers={"Location": elsewhere.base_url + "/steal"}))
        with moved as server, pytest.raises(ActionError, match="GitHub answered 302"):
            api_of(server).request("GET", "user")
    assert elsewhere.requests == []


def test_an_api_nobody_answers_is_an_action_error_naming_the_request() -> None:
    api = GitHubApi({"GITHUB_API_URL": f"http://127.0.0.1:{free_port()}", "GH_TOKEN": TOKEN}, timeout=10)
    with pytest.raises(ActionError, match=r"^GET /repos/x: ConnectError: "):
        api.request("GET", "repos/x")


@pytest.mark.parametrize(("doc", "said"), [
    ({"data": {"viewer": {"login": "github-actions[bot]"}}}, None),
    ({"data": None, "errors": [{"message": "Resource not accessible"}]}, "Resource not accessible"),
    ({"data": {"viewer": {"login": ""}}}, "no login"),
    ([], "no login"),
])
def test_the_viewer_is_the_token_s_login_or_an_error_saying_why(doc: object, said: str | None) -> None:
    with serve(lambda r: reply(200, doc)) as server:
        api = api_of(server)
        if said is None:
            assert api.viewer() == "github-actions[bot]"
        else:
            with pytest.raises(ActionError, match=f"GitHub did not say who the token is \\(GraphQL viewer\\): {said}"):
                api.viewer()
        (sent,) = server.requests
    assert (sent.method, sent.target) == ("POST", "/graphql") and "viewer" in json.loads(sent.body)["query"]


def _paged(base: Callable[[], str], pages: list[list[int]], last_next: str | None = None) -> Callable[[Request], bytes]:
    def answer(request: Request) -> bytes:
        page = int(request.target.rpartition("page=")[2]) if "page=" in request.target else 1
        after = f"{base()}/items?page={page + 1}" if page < len(pages) else last_next
        link = {"Link": f'<{after}>; rel="next", <{base()}/items?page=1>; rel="first"'} if after else {}
        return reply(200, pages[page - 1], headers=link)
    return answer


def test_pages_yields_every_item_following_the_next_links() -> None:
    server = serve(_paged(lambda: server.base_url, [[1, 2], [3], []]))
    with server:
        assert list(api_of(server).pages("items")) == [1, 2, 3]
        assert [r.target for r in server.requests] == ["/items", "/items?page=2", "/items?page=3"]


def test_a_next_page_on_another_host_is_refused_before_the_token_goes_there() -> None:
    with serve(lambda r: reply(200, ["stolen"])) as elsewhere:
        server = serve(_paged(lambda: server.base_url, [[1]], last_next=elsewhere.base_url + "/items?page=2"))
        with server:
            items = api_of(server).pages("items")
            assert next(items) == 1
            with pytest.raises(ActionError, match=r"^GET items: the next page is on another host; not followed$"):
                next(items)
        assert elsewhere.requests == []


@pytest.mark.parametrize(("raw", "said"), [(b'{"items": []}', "is not a list"), (b"<html>", "is not JSON")])
def test_a_page_that_is_not_a_json_list_is_an_action_error(raw: bytes, said: str) -> None:
    refused = pytest.raises(ActionError, match=f"^GET /items: GitHub's answer {said}$")
    with serve(lambda r: reply(200, raw=raw)) as server, refused:
        list(api_of(server).pages("items"))


# --------------------------------------------------------------------------- the sticky comment


def test_a_comment_needs_the_repository_and_a_token_before_anything_is_sent() -> None:
    with pytest.raises(ActionError, match=r"^GITHUB_REPOSITORY is not set$"):
        sticky_comment(Workflow({"GH_TOKEN": TOKEN}), 1, "<!-- m -->", "body")
    with serve(lambda r: reply(500)) as server:
        with pytest.raises(ActionError, match=r"^no GitHub token \(input github-token\)$"):
            sticky_comment(Workflow({"GITHUB_REPOSITORY": REPO, "GITHUB_API_URL": server.base_url}), 1, "<!-- m -->", "b")
        assert server.requests == []


def test_the_own_comment_on_a_later_page_is_edited_in_place_cut_to_fit() -> None:
    marker = "<!-- reconciler-plan -->"
    me = {"login": "github-actions[bot]", "type": "Bot"}
    first = [{"id": 1, "body": f"{marker} quoted by a person", "user": {"login": "mallory", "type": "User"}}]
    second = [{"id": 2, "body": f"{marker}\nold plan", "user": me}, {"id": 3, "body": f"{marker}\nolder", "user": me}]

    def answer(request: Request) -> bytes:
        if request.target == "/graphql":
            return reply(200, {"data": {"viewer": {"login": me["login"]}}})
        if request.method == "GET":
            page = 2 if request.target.endswith("page=2") else 1
            link = {"Link": f'<{server.base_url}/repos/{REPO}/issues/5/comments?per_page=100&page=2>; rel="next"'}
            return reply(200, first if page == 1 else second, headers=link if page == 1 else {})
        return reply(200, {"html_url": "https://github.com/acme/senders/pull/5#issuecomment-2"})

    server = serve(answer)
    with server:
        wf = Workflow({"GITHUB_REPOSITORY": REPO, "GITHUB_API_URL": server.base_url, "GH_TOKEN": TOKEN})
        url = sticky_comment(wf, 5, marker, marker + "\n" + "z" * 70_000)
        writes = [r for r in server.requests if r.method not in ("GET",) and r.target != "/graphql"]
    assert url == "https://github.com/acme/senders/pull/5#issuecomment-2"
    (patch,) = writes
    assert (patch.method, patch.target) == ("PATCH", f"/repos/{REPO}/issues/comments/2")
    body = json.loads(patch.body)["body"]
    assert body.startswith(marker) and len(body) <= 65_536 and "cut to fit a comment" in body
