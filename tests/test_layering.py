"""The architecture, checked: imports point down the layers of docs/architecture.md and the core does no I/O."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "reconciler"

#: Module (or package) → the modules of ours it may import. ``reconciler`` itself (the version) is always allowed.
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "defaults": set(),
    "fs": {"errors"},
    "text": set(),
    "models": {"errors"},
    "config": {"config", "models", "errors", "defaults", "fs"},
    "diff": {"models"},
    "plan": {"models", "diff", "errors", "shapes", "text", "pools"},
    "pools": {"models", "diff"},
    "shapes": set(),
    "apply": {"plan", "models", "diff", "errors", "pool_apply"},
    "pool_apply": {"diff", "errors", "models", "pools"},
    # The accounts package, a room of its own: its modules are layered among themselves too.
    "accounts.__init__": set(),  # the face: it names the modules, imports none
    "accounts.record": {"plan", "apply", "errors", "models"},
    "accounts.environment": {"auth", "errors", "models", "text"},
    "accounts.directory": {"auth", "client", "errors", "models", "text"},
    "accounts.window": {"errors"},
    "accounts.fleet": {"accounts.window", "connections"},
    "accounts.reach": {"accounts.directory", "accounts.environment", "accounts.record", "accounts.window", "auth", "client",
                       "errors"},
    "accounts.run": {"accounts.reach", "accounts.record", "apply", "errors", "interrupts", "models", "plan"},
    "render": {"render", "plan", "apply", "models", "errors", "diff", "text", "accounts.record", "export", "defaults"},
    "planfile": {"plan", "diff", "models", "errors", "fs", "accounts.record", "defaults"},
    "auth": {"errors", "text"},
    "limiter": set(),
    "interrupts": set(),
    "overlap": set(),
    "runtime": set(),
    "client": {"models", "errors", "auth", "text", "responses", "limiter", "defaults", "connections"},
    "connections": set(),
    "responses": {"models", "errors", "text"},
    "services": {"client", "auth", "errors", "models", "responses", "text"},
    "pool_reads": {"client", "config", "models", "plan", "services"},
    "export": {"models", "diff", "config", "text"},
    "offline": {"config", "models", "errors"},
    "session": {"config", "client", "auth", "apply", "plan", "planfile", "export", "fs", "models", "errors", "diff",
                "pool_reads", "overlap",
                "accounts.environment", "accounts.reach", "accounts.record", "accounts.run", "accounts.window", "accounts.fleet",
                "defaults", "offline",
                "interrupts", "runtime"},
    "options": {"defaults", "models"},
    "offline_cli": {"offline", "options", "errors", "models", "render", "accounts.record"},
    "importing": {"session", "config", "export", "fs", "models", "plan", "errors", "text"},
    "import_cli": {"cli", "importing", "options", "defaults", "render", "session"},
    "cli": {"session", "render", "errors", "emulator", "demo", "progress", "defaults", "options", "accounts.run",
            "accounts.record", "offline", "offline_cli", "apply", "models", "notify"},
    "notify": {"render", "errors", "text", "accounts.record"},
    "progress": {"apply", "models", "render", "errors", "session", "accounts.record"},
    "demo": {"session", "render", "emulator", "config", "client", "auth", "models", "diff", "errors"},
    "emulator": {"emulator", "models", "errors", "fs"},
    "action": {"action", "fs", "errors", "text"},
    "precommit": {"cli", "text", "runtime"},
    "__main__": {"cli", "runtime"},
}


#: Packages whose modules are layers of their own (``accounts.record``), not one layer.
SUBLAYERED = {"accounts"}


def _name(parts: list[str]) -> str:
    """``reconciler.accounts.record.X`` → ``accounts.record``; ``reconciler.plan.X`` → ``plan``."""
    return ".".join(parts[:2]) if parts[0] in SUBLAYERED and len(parts) > 1 else parts[0]


def _ours(path: Path) -> set[str]:
    """The layer of every module of ours that ``path`` imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names if node.module == "reconciler"]
        for name in names:
            parts = name.split(".")
            if parts[0] == "reconciler" and len(parts) > 1 and parts[1] != "__version__":
                found.add(_name(parts[1:]))
    return found


def _layer(path: Path) -> str:
    relative = path.relative_to(PACKAGE)
    parts = [*relative.parts[:-1], relative.stem]
    return _name(parts)


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py" or p.parent != PACKAGE)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_down_the_layers(path: Path) -> None:
    layer = _layer(path)
    assert layer in ALLOWED, f"{layer}: a new module needs its place in the layering table"
    wrong = _ours(path) - ALLOWED[layer] - {layer, layer.split(".")[0]}
    assert not wrong, f"{path.relative_to(PACKAGE)} imports {sorted(wrong)}, above or beside its layer"


def _modules_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys; print('\\n'.join(sys.modules))"],
                         capture_output=True, text=True, check=True, cwd=PACKAGE.parent)
    return set(out.stdout.split())


def test_the_core_imports_no_http_library() -> None:
    loaded = _modules_after("import reconciler.diff, reconciler.plan, reconciler.render, reconciler.apply")
    assert not {"httpx", "httpcore", "aiohttp", "tenacity"} & loaded


def test_the_cli_holds_no_threads_gc_or_event_loops() -> None:
    source = (PACKAGE / "cli.py").read_text(encoding="utf-8")
    imported = {alias.name for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(ast.parse(source)) if isinstance(node, ast.ImportFrom) and node.module}
    assert not {"threading", "gc", "asyncio"} & imported


def test_no_module_grows_past_500_lines() -> None:
    long = {str(p.relative_to(PACKAGE)): n for p in MODULES if (n := len(p.read_text().splitlines())) > 500}
    assert not long


@pytest.mark.parametrize("argv", [["--version"], ["--help"], ["plan", "--help"], ["emulator", "--help"]])
def test_version_and_help_import_no_heavy_library(argv: list[str]) -> None:
    code = (f"import sys\nfrom reconciler.cli import main\nsys.argv = ['reconciler', *{argv!r}]\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n")
    loaded = _modules_after(code)
    assert not {"httpx", "aiohttp", "pydantic", "rich", "ruamel.yaml"} & loaded


def test_validate_imports_no_http_library_nor_the_planner_s_reports() -> None:
    """``reconciler validate`` (the pre-commit hook) checks a file offline: no HTTP client, no event loop."""
    example = PACKAGE.parent / "senders.yaml.example"
    code = (f"import sys\nfrom reconciler.cli import main\nsys.argv = ['reconciler', 'validate', '-f', {str(example)!r}]\n"
            "try:\n    main()\nexcept SystemExit as exc:\n    assert exc.code in (0, None), exc.code\n")
    loaded = _modules_after(code)
    assert "reconciler.config" in loaded  # it did load the file
    assert not {"httpx", "httpcore", "aiohttp", "rich", "asyncio", "reconciler.client", "reconciler.emulator.cli",
                "reconciler.session", "reconciler.apply", "reconciler.plan"} & loaded


def _test_module_of(path: Path) -> str:
    """The name of the test module ``path`` (a module of reconciler/) must have; see the test below."""
    parts = [*path.relative_to(PACKAGE).parts[:-1], path.stem]
    if parts[-1] == "__init__":
        parts = parts[:-1] or ["version"]
    return "test_" + "_".join(part.strip("_") for part in parts) + ".py"


def test_every_module_has_a_test_module_of_its_own() -> None:
    """Tests mirror the source: every ``.py`` file of reconciler/ has a test module named after it, in tests/ or
    tests/integration/ (issue 22). The name is ``test_`` and the module's path from reconciler/, joined by ``_``:

    - ``reconciler/a.py`` → ``test_a.py``; ``reconciler/pkg/mod.py`` → ``test_pkg_mod.py``;
    - a package's ``__init__.py`` stands for the package: ``reconciler/pkg/__init__.py`` → ``test_pkg.py``;
    - a dunder name loses its underscores: ``reconciler/__main__.py`` → ``test_main.py``,
      ``reconciler/pkg/__main__.py`` → ``test_pkg_main.py``;
    - the top-level ``reconciler/__init__.py``, which holds the version, → ``test_version.py``.

    A test module may test more than its namesake (tests/test_accounts.py covers accounts end to end), but
    each module has the one named after it, where its own promises are tested.
    """
    tests = Path(__file__).resolve().parent
    have = {p.name for folder in (tests, tests / "integration") for p in folder.glob("test_*.py")}
    missing = {str(p.relative_to(PACKAGE.parent)): name for p in sorted(PACKAGE.rglob("*.py"))
               if (name := _test_module_of(p)) not in have}
    assert not missing, f"modules without a test module of their own (module: expected name): {missing}"
