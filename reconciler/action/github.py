"""What the action exchanges with GitHub and with the CLI: env files, annotations, the event, ``gh api``.

    wf = Workflow(os.environ)
    result = run_cli(["plan", "-f", "senders.yaml", "--format", "markdown"], wf)
    wf.set_outputs({"exitcode": str(result.returncode)})
    sticky_comment(wf, 12, "<!-- reconciler-plan -->", body)
"""

from __future__ import annotations

import json
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

from reconciler.fs import atomic_write

#: GitHub refuses a comment longer than this many characters.
COMMENT_LIMIT = 65_536
#: Lines of the CLI's stderr quoted in a failed plan's comment.
STDERR_LINES = 40


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

    def gh_env(self) -> dict[str, str]:
        env = dict(self.env)
        env.setdefault("GH_TOKEN", env.get("GITHUB_TOKEN", ""))
        host = urlsplit(env.get("GITHUB_SERVER_URL", "")).hostname
        if host and host != "github.com":
            env.setdefault("GH_HOST", host)  # GitHub Enterprise Server
        env["GH_PROMPT_DISABLED"] = "1"
        return env


# --------------------------------------------------------------------------- the CLI


@dataclass(frozen=True)
class CliRun:
    returncode: int
    stdout: str
    stderr: str

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
    """Run ``python -m reconciler ARGV``; its stderr is copied to the log as it comes.

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

        def copy_stderr() -> None:
            assert proc.stderr is not None
            for line in proc.stderr:
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
    return CliRun(code, out, "".join(err_lines))


def _quote(arg: str) -> str:
    return arg if arg and all(c.isalnum() or c in "-_./:=+@%," for c in arg) else json.dumps(arg)


# --------------------------------------------------------------------------- the pull-request comment


def _gh(wf: Workflow, args: Sequence[str], payload: Mapping[str, Any] | None = None) -> str:
    try:
        proc = subprocess.run(["gh", "api", *args], env=wf.gh_env(), capture_output=True, text=True,
                              input=None if payload is None else json.dumps(payload), timeout=120)
    except FileNotFoundError:
        raise ActionError("the GitHub CLI (gh) is not installed") from None
    except subprocess.TimeoutExpired:
        raise ActionError(f"gh api {args[-1]}: no answer in 120 s") from None
    if proc.returncode != 0:
        first = (proc.stderr.strip().splitlines() or ["no message"])[0]
        raise ActionError(f"gh api exited {proc.returncode}: {first}")
    return proc.stdout


def _json_values(text: str) -> Iterator[Any]:
    """Every JSON value in ``text``: ``gh api --paginate`` prints one array a page, back to back."""
    decoder, i = json.JSONDecoder(), 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            return
        value, i = decoder.raw_decode(text, i)
        yield value


def fit_comment(body: str, limit: int = COMMENT_LIMIT) -> str:
    """``body`` cut to ``limit`` characters, at a per-sender details block when it has one."""
    if len(body) <= limit:
        return body
    note = "\n\n_The plan was cut to fit a comment; the step summary and the log have all of it._\n"
    cut = body.rfind("\n<details>", 0, limit - len(note))
    if cut <= 0:
        cut = body.rfind("\n", 0, limit - len(note))
    return body[: max(cut, 0)] + note


def sticky_comment(wf: Workflow, number: int, marker: str, body: str) -> str:
    """Create, or edit in place, the one comment of the pull request that starts with ``marker``.

    Returns the comment's URL, or "" when it could not be posted: a warning says why, and the step
    goes on (a pull request from a fork gets a read-only token).
    """
    repo = wf.env.get("GITHUB_REPOSITORY", "")
    if not repo:
        wf.warning("GITHUB_REPOSITORY is not set: the plan was not commented on the pull request")
        return ""
    if not wf.gh_env().get("GH_TOKEN"):
        wf.warning("no GitHub token (input github-token): the plan was not commented on the pull request")
        return ""
    body = fit_comment(body)
    try:
        listing = _gh(wf, ["--paginate", f"repos/{repo}/issues/{number}/comments?per_page=100"])
        existing = next((c for page in _json_values(listing) for c in (page if isinstance(page, list) else [])
                         if isinstance(c, dict) and str(c.get("body", "")).startswith(marker)), None)
        if existing is not None:
            answer = _gh(wf, ["--method", "PATCH", f"repos/{repo}/issues/comments/{existing['id']}", "--input", "-"],
                         {"body": body})
        else:
            answer = _gh(wf, ["--method", "POST", f"repos/{repo}/issues/{number}/comments", "--input", "-"],
                         {"body": body})
        doc: Any = next(_json_values(answer), {})
    except (ActionError, ValueError, KeyError) as exc:
        wf.warning(f"the plan was not commented on pull request #{number}: {exc}")
        return ""
    return str(doc.get("html_url", "")) if isinstance(doc, dict) else ""
