"""GitHub as the action meets it, for the tests of the GitHub Action: the runner's files and a stand-in API.

:class:`GitHubStandIn` is a small stateful server on 127.0.0.1 with the few endpoints of GitHub's REST and
GraphQL APIs the action uses (the pull request's comments, the repository's issues, the token's identity);
:class:`Runner` runs ``python -m reconciler.action`` as one step of a workflow job, with GitHub's
environment files and an event, against it and the emulator.

    with GitHubStandIn() as github:
        step = Runner(tmp_path, emulator_env, github).run(command="drift", files="senders.yaml", issue="true")
        github.open_issues()
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ruamel.yaml import YAML

from tests.factories import REPO_ROOT, SECRETS

A, B, C = (f"whatsapp:+1501712266{i}" for i in range(1, 4))
REPO = "acme/senders"
PR_NUMBER = 7
HEAD_SHA = "0123456789abcdef0123456789abcdef01234567"
ACTION = YAML(typ="safe").load((REPO_ROOT / "action.yml").read_text())
#: The workflow's own token, and who GitHub says it is.
TOKEN = "ghs_not_a_real_token"
BOT = {"login": "github-actions[bot]", "type": "Bot"}
MALLORY = {"login": "mallory", "type": "User"}


class GitHubStandIn:
    """The few endpoints of GitHub's API the action uses, on a loopback port.

    ``tokens`` maps each token to the user it acts as; a comment or an issue is written under its token's
    user. ``refuse`` maps ``"METHOD /path"`` to an answer (status, message) given instead. Lists come a few
    items a page (``page_size``), linked with ``Link: rel="next"`` as GitHub links them. ``issues`` are the
    repository's issues by number; the list of issues holds the pull request too, as GitHub's does.
    ``labels_dropped``: a new issue's labels are dropped, as GitHub drops them for a token without the right.
    """

    def __init__(self, repo: str = REPO, number: int = PR_NUMBER):
        self.repo, self.number = repo, number
        self.tokens: dict[str, dict[str, str]] = {TOKEN: BOT}
        self.comments: list[dict[str, Any]] = [
            {"id": 900, "body": "Looks good to me.", "user": {"login": "reviewer", "type": "User"}},
        ]
        self.refuse: dict[str, tuple[int, str]] = {}
        self.issues: dict[int, dict[str, Any]] = {}
        self.labels_dropped = False
        self.page_size = 2
        self.calls: list[dict[str, Any]] = []
        self.next_id = 1001
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="github-stand-in", daemon=True)

    def __enter__(self) -> GitHubStandIn:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()

    def add_comment(self, body: str, user: dict[str, str]) -> dict[str, Any]:
        comment = {"id": self.next_id, "body": body, "user": dict(user),
                   "html_url": f"https://github.com/{self.repo}/pull/{self.number}#issuecomment-{self.next_id}"}
        self.next_id += 1
        self.comments.append(comment)
        return comment

    def add_issue(self, title: str, body: str, user: dict[str, str], labels: tuple[str, ...] = (),
                  state: str = "open") -> dict[str, Any]:
        number = max([self.number, *self.issues]) + 1
        issue = {"id": 5000 + number, "number": number, "title": title, "body": body, "state": state,
                 "state_reason": None, "labels": [{"name": name} for name in labels], "user": dict(user),
                 "html_url": f"https://github.com/{self.repo}/issues/{number}", "comments": []}
        self.issues[number] = issue
        return issue

    def open_issues(self) -> list[dict[str, Any]]:
        return [i for i in self.issues.values() if i["state"] == "open"]

    def _listed_issues(self, query: dict[str, list[str]]) -> list[dict[str, Any]]:
        pull = {"id": 4000, "number": self.number, "title": "Change senders", "state": "open", "labels": [],
                "body": "", "user": {"login": "author", "type": "User"}, "pull_request": {"url": "..."}}
        state = query.get("state", ["open"])[0]
        wanted = {name for name in query.get("labels", [""])[0].split(",") if name}
        items = [pull, *self.issues.values()]
        return [{k: v for k, v in item.items() if k != "comments"} for item in items
                if item["state"] == state and wanted <= {label["name"] for label in item["labels"]}]

    def _issue_answer(self, method: str, path: str, query: dict[str, list[str]], user: dict[str, str],
                      body: Any) -> tuple[int, Any, dict[str, str]] | None:
        """The issues' endpoints; None for any other path."""
        base = f"/repos/{self.repo}/issues"
        if (method, path) == ("GET", base):
            items = self._listed_issues(query)
            page, size = int(query.get("page", ["1"])[0]), self.page_size
            more = len(items) > page * size
            rest = "&".join(f"{k}={v[0]}" for k, v in query.items() if k != "page")
            link = {"Link": f'<{self.url}{base}?{rest}&page={page + 1}>; rel="next"'} if more else {}
            return 200, items[(page - 1) * size: page * size], link
        if (method, path) == ("POST", base):
            labels = () if self.labels_dropped else tuple(body.get("labels") or ())
            issue = self.add_issue(body["title"], body["body"], user, labels)
            return 201, {k: v for k, v in issue.items() if k != "comments"}, {}
        parts = path.removeprefix(base + "/").split("/")
        if not path.startswith(base + "/") or not parts[0].isdigit() or int(parts[0]) not in self.issues:
            return None
        issue = self.issues[int(parts[0])]
        if method == "PATCH" and len(parts) == 1:
            issue.update({k: body[k] for k in ("title", "body", "state", "state_reason") if k in body})
            return 200, {k: v for k, v in issue.items() if k != "comments"}, {}
        if (method, parts[1:]) == ("POST", ["comments"]):
            issue["comments"].append({"body": body["body"], "user": dict(user)})
            return 201, {"id": self.next_id, "body": body["body"]}, {}
        if (method, parts[1:]) == ("POST", ["labels"]):
            issue["labels"] += [{"name": name} for name in body["labels"]]
            return 200, issue["labels"], {}
        return None

    def writes(self) -> list[tuple[str, str]]:
        return [(c["method"], c["path"]) for c in self.calls if c["method"] in ("POST", "PATCH") and c["path"] != "/graphql"]

    def answer(self, method: str, target: str, token: str | None, body: Any) -> tuple[int, Any, dict[str, str]]:
        path, query = urlsplit(target).path, parse_qs(urlsplit(target).query)
        user = self.tokens.get(token or "")
        self.calls.append({"method": method, "path": path, "user": user and user["login"]})
        if user is None:
            return 401, {"message": "Bad credentials"}, {}
        if f"{method} {path}" in self.refuse:
            status, message = self.refuse[f"{method} {path}"]
            return status, {"message": message}, {}
        listing = f"/repos/{self.repo}/issues/{self.number}/comments"
        if (method, path) == ("POST", "/graphql"):
            assert "viewer" in body["query"]
            return 200, {"data": {"viewer": {"login": user["login"]}}}, {}
        if (method, path) == ("GET", listing):
            page, size = int(query.get("page", ["1"])[0]), self.page_size
            items = self.comments[(page - 1) * size: page * size]
            more = len(self.comments) > page * size
            link = {"Link": f'<{self.url}{listing}?per_page=100&page={page + 1}>; rel="next"'} if more else {}
            return 200, items, link
        if (method, path) == ("POST", listing):
            return 201, self.add_comment(body["body"], user), {}
        if (found_issue := self._issue_answer(method, path, query, user, body)) is not None:
            return found_issue
        if method == "PATCH" and path.startswith(f"/repos/{self.repo}/issues/comments/"):
            wanted = int(path.rsplit("/", 1)[1])
            found = [c for c in self.comments if c["id"] == wanted]
            if not found:
                return 404, {"message": "Not Found"}, {}
            found[0]["body"] = body["body"]
            return 200, found[0], {}
        return 404, {"message": f"stand-in: no {method} {path}"}, {}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                auth = self.headers.get("Authorization", "")
                token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None
                with stand_in.lock:
                    status, doc, headers = stand_in.answer(self.command, self.path, token,
                                                           json.loads(raw) if raw else None)
                data = json.dumps(doc).encode()
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


class Runner:
    """One workflow job: a workspace, GitHub's files and API, and the emulator's environment."""

    def __init__(self, tmp_path: Path, base_env: dict[str, str], github: GitHubStandIn):
        self.dir = tmp_path
        self.github = github
        self.base_env = {k: v for k, v in base_env.items() if not k.startswith(("GITHUB_", "INPUT_", "GH_", "RUNNER_"))}
        self.workspace = tmp_path / "workspace"
        self.workspace.mkdir()
        self.runs = 0
        self.token = TOKEN  # what action.yml passes from the github-token input

    def comments(self) -> list[dict[str, Any]]:
        return self.github.comments

    def write(self, name: str, text: str) -> Path:
        path = self.workspace / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
        return path

    def run(self, event: str = "pull_request", **inputs: str) -> Step:
        """Run one step of the action with these inputs (``plan_file="x"`` is input ``plan-file``)."""
        self.runs += 1
        step = self.dir / f"step{self.runs}"
        step.mkdir()
        event_path = step / "event.json"
        payload = {"pull_request": {"number": PR_NUMBER, "head": {"sha": HEAD_SHA}}} if event == "pull_request" else {}
        event_path.write_text(json.dumps(payload))
        env = {
            **self.base_env,
            "GITHUB_ACTIONS": "true",
            "GITHUB_WORKSPACE": str(self.workspace),
            "GITHUB_OUTPUT": str(step / "output"),
            "GITHUB_STEP_SUMMARY": str(step / "summary.md"),
            "GITHUB_EVENT_NAME": event,
            "GITHUB_EVENT_PATH": str(event_path),
            "GITHUB_REPOSITORY": REPO,
            "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_API_URL": self.github.url,
            "GITHUB_GRAPHQL_URL": f"{self.github.url}/graphql",
            "GITHUB_RUN_ID": "4242",
            "GITHUB_SHA": "f" * 40,
            "GH_TOKEN": self.token,
        }
        env.update({"INPUT_" + name.upper(): value for name, value in inputs.items()})
        proc = subprocess.run([sys.executable, "-m", "reconciler.action"], env=env, cwd=self.workspace,
                              capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120)
        return Step(proc, step, env.get("GH_TOKEN", ""))


class Step:
    def __init__(self, proc: subprocess.CompletedProcess[str], step: Path, token: str):
        self.returncode, self.stdout, self.stderr = proc.returncode, proc.stdout, proc.stderr
        self.outputs = parse_outputs(step / "output")
        summary = step / "summary.md"
        self.summary = summary.read_text() if summary.exists() else ""
        everything = self.stdout + self.stderr + self.summary + json.dumps(self.outputs)
        assert not any(secret in everything for secret in (*SECRETS, token) if secret)
        assert "Traceback" not in everything, everything
        assert set(self.outputs) <= set(ACTION["outputs"]), "every output is declared in action.yml"


def parse_outputs(path: Path) -> dict[str, str]:
    """GITHUB_OUTPUT as the runner reads it: ``name=value`` lines and ``name<<DELIM`` blocks."""
    if not path.exists():
        return {}
    outputs, lines = {}, iter(path.read_text().splitlines())
    for line in lines:
        if "<<" in line:
            name, delimiter = line.split("<<", 1)
            value = []
            for body in lines:
                if body == delimiter:
                    break
                value.append(body)
            else:
                raise AssertionError(f"output {name}: delimiter {delimiter} never closes")
            outputs[name] = "\n".join(value)
        elif line:
            name, value = line.split("=", 1)
            outputs[name] = value
    return outputs


def senders_file(runner: Runner, about: str, name: str = "accounts/prod/senders.yaml") -> str:
    runner.write(name, f"""
        senders:
          - sender_id: "{A}"
            profile: {{name: Acme, about: "{about}"}}
          - sender_id: "{B}"
            profile: {{name: Beta}}
        """)
    return name
