"""What the action exchanges with GitHub and with the CLI: env files, annotations, the event, the API.

    wf = Workflow(os.environ)
    result = run_cli(["plan", "-f", "senders.yaml", "--format", "markdown"], wf)
    wf.set_outputs({"exitcode": str(result.returncode)})
    url = sticky_comment(wf, 12, "<!-- reconciler-plan -->", body)   # ActionError when it cannot post
"""

from __future__ import annotations

import ipaddress
import json
import re
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from reconciler.fs import atomic_write

#: GitHub refuses a comment longer than this many characters.
COMMENT_LIMIT = 65_536
#: Lines of the CLI's stderr quoted in a failed plan's comment.
STDERR_LINES = 40
#: An annotation the CLI prints in a workflow step (reconciler.render.annotations): an error, a warning or a
#: notice with its file, the properties escaped (no ``:`` inside). The CLI's output is not read as commands
#: while it runs (see _commands_stopped), so these alone are issued again once it ends; never any other command.
ANNOTATION = re.compile(r"::(?:error|warning|notice) file=[^:\r\n]+::[^\r\n]*")


class ActionError(Exception):
    """A problem with the action's inputs or environment: one line, printed as an ``::error::``."""


def escape_command(text: str) -> str:
    """Data of a workflow command (``::error::DATA``): GitHub's escapes for %, CR and LF."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def md_cell(text: str) -> str:
    """Text fit for a Markdown table cell or inline code: no pipes, no line breaks."""
    return text.replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def fenced(text: str) -> str:
    """``text`` as a Markdown code block whose fence no backtick run inside can close."""
    longest, run = 0, 0
    for ch in text:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    fence = "`" * max(3, longest + 1)
    return f"{fence}\n{text.rstrip()}\n{fence}"


class Workflow:
    """The running workflow step, as its environment describes it."""

    def __init__(self, env: Mapping[str, str]):
        self.env = dict(env)

    # ------------------------------------------------------------------ files GitHub reads

    def _append(self, variable: str, text: str) -> None:
        path = self.env.get(variable)
        if not path:
            return  # not on a runner (a local try): nothing to record
        try:
            with open(path, "a", encoding="utf-8") as fh:
                fh.write(text)
        except OSError as exc:
            raise ActionError(f"cannot write ${variable} ({path}): {exc.strerror}") from None

    def set_outputs(self, outputs: Mapping[str, str]) -> None:
        """Step outputs, each in the multi-line form with a delimiter no value can contain."""
        lines = []
        for name, value in outputs.items():
            delimiter = f"ghadelimiter_{uuid.uuid4()}"
            lines.append(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
        self._append("GITHUB_OUTPUT", "".join(lines))

    def add_summary(self, markdown: str) -> None:
        self._append("GITHUB_STEP_SUMMARY", markdown.rstrip("\n") + "\n\n")

    def write_file(self, path: str, text: str) -> None:
        try:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, text)
        except OSError as exc:
            raise ActionError(f"cannot write {path}: {exc.strerror}") from None

    # ------------------------------------------------------------------ annotations

    @staticmethod
    def error(message: str) -> None:
        print(f"::error::{escape_command(message)}", flush=True)

    @staticmethod
    def warning(message: str) -> None:
        print(f"::warning::{escape_command(message)}", flush=True)

    # ------------------------------------------------------------------ the event

    def event(self) -> dict[str, Any]:
        path = self.env.get("GITHUB_EVENT_PATH")
        if not path:
            return {}
        try:
            doc = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return doc if isinstance(doc, dict) else {}

    def pull_request_number(self) -> int | None:
        """The pull request this run is about, or None (a push, a schedule)."""
        event = self.event()
        pr = event.get("pull_request")
        if isinstance(pr, dict) and isinstance(pr.get("number"), int):
            return int(pr["number"])
        issue = event.get("issue")  # issue_comment on a pull request
        if isinstance(issue, dict) and issue.get("pull_request") and isinstance(issue.get("number"), int):
            return int(issue["number"])
        return None

    def head_sha(self) -> str:
        pr = self.event().get("pull_request")
        head = pr.get("head") if isinstance(pr, dict) else None
        sha = head.get("sha") if isinstance(head, dict) else None
        return sha if isinstance(sha, str) else self.env.get("GITHUB_SHA", "")

    def run_url(self) -> str:
        server, repo, run = (self.env.get(k, "") for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID"))
        return f"{server}/{repo}/actions/runs/{run}" if server and repo and run else ""


# --------------------------------------------------------------------------- the CLI


@dataclass(frozen=True)
class CliRun:
    returncode: int
    stdout: str
    stderr: str
    #: The annotations the CLI printed on stderr (not in ``stderr``): issued by run_cli once the CLI ended.
    annotations: tuple[str, ...] = ()

    def json(self) -> dict[str, Any] | None:
        """stdout as a JSON object, or None when the command printed none (it failed first)."""
        try:
            doc = json.loads(self.stdout)
        except ValueError:
            return None
        return doc if isinstance(doc, dict) else None

    def stderr_tail(self) -> str:
        lines = self.stderr.rstrip().splitlines()
        return "\n".join(lines[-STDERR_LINES:]) or "(no output)"


@contextmanager
def _commands_stopped() -> Iterator[None]:
    """Nothing the CLI prints (a value from a pull request's file, say) is taken as a workflow command."""
    token = uuid.uuid4().hex
    print(f"::stop-commands::{token}", flush=True)
    try:
        yield
    finally:
        print(f"::{token}::", flush=True)


def run_cli(argv: Sequence[str], wf: Workflow, *, echo_stdout: bool = True) -> CliRun:
    """Run ``python -m reconciler ARGV``; its stderr is copied to the log as it comes, and its annotations
    (an invalid file's errors at their lines) are issued once it ends.

    The CLI runs in its own session and SIGINT/SIGTERM are forwarded once: a runner that signals
    the whole process group would otherwise deliver each twice, and a second signal aborts apply's
    writes in flight instead of letting them finish.
    """
    command = [sys.executable, "-m", "reconciler", *argv]
    print("$ reconciler " + " ".join([*argv[:1], *(_quote(a) for a in argv[1:])]), flush=True)
    with _commands_stopped():
        proc = subprocess.Popen(command, env=wf.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, encoding="utf-8", errors="replace",
                                start_new_session=True)
        err_lines: list[str] = []
        annotations: list[str] = []

        def copy_stderr() -> None:
            assert proc.stderr is not None
            for line in proc.stderr:
                if ANNOTATION.fullmatch(line.rstrip("\r\n")):
                    annotations.append(line.rstrip("\r\n"))
                    continue
                err_lines.append(line)
                sys.stdout.write(line)
                sys.stdout.flush()

        copier = threading.Thread(target=copy_stderr, name="reconciler-stderr")
        copier.start()
        previous = {sig: signal.signal(sig, lambda signum, _frame: proc.send_signal(signum))
                    for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            assert proc.stdout is not None
            out = proc.stdout.read()
            code = proc.wait()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            copier.join()
        if echo_stdout and out:
            sys.stdout.write(out if out.endswith("\n") else out + "\n")
            sys.stdout.flush()
    for line in annotations:
        print(line, flush=True)
    return CliRun(code, out, "".join(err_lines), tuple(annotations))


def _quote(arg: str) -> str:
    return arg if arg and all(c.isalnum() or c in "-_./:=+@%," for c in arg) else json.dumps(arg)


# --------------------------------------------------------------------------- the GitHub API


def _allowed_origin(url: str) -> tuple[str, str, int | None]:
    """``url``'s origin, when the token may be sent there: https, or plain http to a loopback address."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
        raise ActionError(f"{url}: the GitHub API is reached over https only (plain http only to a loopback address)")
    return parts.scheme, host, parts.port


class GitHubApi:
    """GitHub's REST and GraphQL APIs as the runner names them (``GITHUB_API_URL``, ``GITHUB_GRAPHQL_URL``).

    The token is ``GH_TOKEN`` (action.yml sets it from the ``github-token`` input) or ``GITHUB_TOKEN``.
    It goes only to the API's own origin: no redirect is followed, and a next page elsewhere is refused.
    Every failure is an :class:`ActionError` that names the request and GitHub's message, never the token.
    """

    def __init__(self, env: Mapping[str, str], *, timeout: float = 30.0):
        self.base = (env.get("GITHUB_API_URL") or "https://api.github.com").rstrip("/")
        # GitHub Enterprise Server serves GraphQL at /api/graphql beside the REST API's /api/v3.
        self.graphql_url = env.get("GITHUB_GRAPHQL_URL") or (
            self.base.removesuffix("/v3") + "/graphql" if self.base.endswith("/api/v3") else f"{self.base}/graphql")
        self.origin = _allowed_origin(self.base)
        _allowed_origin(self.graphql_url)
        self.token = env.get("GH_TOKEN") or env.get("GITHUB_TOKEN") or ""
        self.timeout = timeout

    def request(self, method: str, url: str, payload: Mapping[str, Any] | None = None) -> httpx.Response:
        """One request; a 2xx answer, or an ActionError."""
        if not url.startswith(("https://", "http://")):
            url = f"{self.base}/{url}"
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/vnd.github+json",
                   "X-GitHub-Api-Version": "2022-11-28", "User-Agent": "whatsapp-senders-reconciler-action"}
        shown = f"{method} {urlsplit(url).path}"
        try:
            answer = httpx.request(method, url, headers=headers, json=payload, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise ActionError(f"{shown}: {type(exc).__name__}: {exc}") from None
        if not answer.is_success:
            raise ActionError(f"{shown}: GitHub answered {answer.status_code}: {_message(answer)}")
        return answer

    def viewer(self) -> str:
        """The login the token acts as (``github-actions[bot]`` for the workflow's own token).

        GraphQL's ``viewer``: REST's ``GET /user`` refuses installation tokens such as the workflow's.
        """
        answer = self.request("POST", self.graphql_url, {"query": "query { viewer { login } }"})
        doc = response_json(answer)
        login = ((doc.get("data") or {}).get("viewer") or {}).get("login") if isinstance(doc, dict) else None
        if not isinstance(login, str) or not login:
            errors = doc.get("errors") if isinstance(doc, dict) else None
            first = errors[0].get("message") if isinstance(errors, list) and errors and isinstance(errors[0], dict) else None
            raise ActionError(f"GitHub did not say who the token is (GraphQL viewer): {first or 'no login'}")
        return login

    def pages(self, path: str) -> Iterator[Any]:
        """Every item of a paginated list, following the ``Link: rel="next"`` of each answer."""
        url: str | None = f"{self.base}/{path}"
        while url:
            answer = self.request("GET", url)
            items = response_json(answer)
            if not isinstance(items, list):
                raise ActionError(f"GET {urlsplit(url).path}: GitHub's answer is not a list")
            yield from items
            url = answer.links.get("next", {}).get("url")
            if url and _allowed_origin(url) != self.origin:
                raise ActionError(f"GET {path}: the next page is on another host; not followed")


def response_json(answer: httpx.Response) -> Any:
    """The answer's JSON; an ActionError when it is none."""
    try:
        return answer.json()
    except ValueError:
        raise ActionError(f"{answer.request.method} {answer.request.url.path}: GitHub's answer is not JSON") from None


def _message(answer: httpx.Response) -> str:
    """GitHub's own words on a refused request, on one line."""
    try:
        doc = answer.json()
    except ValueError:
        doc = None
    message = doc.get("message") if isinstance(doc, dict) else None
    text = str(message) if message else (answer.reason_phrase or "no message")
    return " ".join(text.split())[:300]


# --------------------------------------------------------------------------- the pull-request comment


def fit_comment(body: str, limit: int = COMMENT_LIMIT) -> str:
    """``body`` cut to ``limit`` characters, at a per-sender details block when it has one."""
    if len(body) <= limit:
        return body
    note = "\n\n_The plan was cut to fit a comment; the step summary and the log have all of it._\n"
    cut = body.rfind("\n<details>", 0, limit - len(note))
    if cut <= 0:
        cut = body.rfind("\n", 0, limit - len(note))
    return body[: max(cut, 0)] + note


def is_own_comment(comment: Mapping[str, Any], me: str, marker: str) -> bool:
    """A comment this action wrote before: it starts with ``marker`` and its author is the token's identity.

    The marker alone proves nothing (anyone can type it). The author is compared by login, which GitHub
    keeps unique: ``github-actions[bot]`` is the workflow's own token, ``NAME[bot]`` a GitHub App's, a plain
    login a person's token; and the account type must agree (``Bot`` exactly for a ``[bot]`` login).
    """
    user = comment.get("user")
    if not isinstance(comment.get("id"), int) or not isinstance(user, Mapping) or user.get("login") != me:
        return False
    if (user.get("type") == "Bot") != me.endswith("[bot]"):
        return False
    return str(comment.get("body") or "").startswith(marker)


def signed_in(wf: Workflow) -> tuple[str, GitHubApi, Any]:
    """The repository, the API with the step's token, and who that token is; ActionError when one is missing."""
    repo = wf.env.get("GITHUB_REPOSITORY", "")
    if not repo:
        raise ActionError("GITHUB_REPOSITORY is not set")
    api = GitHubApi(wf.env)
    if not api.token:
        raise ActionError("no GitHub token (input github-token)")
    return repo, api, api.viewer()


def sticky_comment(wf: Workflow, number: int, marker: str, body: str) -> str:
    """Create, or edit in place, this action's one comment on the pull request that starts with ``marker``.

    Only a comment the token's own identity wrote counts (:func:`is_own_comment`); one by anyone else is
    left alone and a new one is posted. Returns the comment's URL; raises ActionError when it could not post.
    """
    repo, api, me = signed_in(wf)
    own = next((c for c in api.pages(f"repos/{repo}/issues/{number}/comments?per_page=100")
                if isinstance(c, Mapping) and is_own_comment(c, me, marker)), None)
    payload = {"body": fit_comment(body)}
    if own is not None:
        answer = api.request("PATCH", f"repos/{repo}/issues/comments/{own.get('id')}", payload)
    else:
        answer = api.request("POST", f"repos/{repo}/issues/{number}/comments", payload)
    doc = response_json(answer)
    return str(doc.get("html_url") or "") if isinstance(doc, dict) else ""
