"""``reconciler/__init__.py``: the one place the version is written, and everything that shows it reads it there."""

from __future__ import annotations

import re
from importlib import metadata

import reconciler
from tests.factories import REPO_ROOT

#: PEP 440's public versions, as a release tag ``v{__version__}`` carries them (no local part, no epoch).
PUBLIC_VERSION = re.compile(r"^\d+(\.\d+)*((a|b|rc)\d+)?(\.post\d+)?(\.dev\d+)?$")


def test_the_version_is_a_public_release_version() -> None:
    assert PUBLIC_VERSION.match(reconciler.__version__), reconciler.__version__


def test_pyproject_writes_no_version_of_its_own_and_reads_this_one() -> None:
    text = (REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8")
    project = text.split("[project]", 1)[1].split("\n[", 1)[0]
    assert not re.search(r"(?m)^version\s*=", project), "the version is written in reconciler/__init__.py only"
    assert re.search(r'(?m)^dynamic\s*=\s*\[[^]]*"version"', project)
    assert re.search(r'(?m)^version\s*=\s*\{\s*attr\s*=\s*"reconciler.__version__"\s*\}', text)


def test_the_installed_distribution_carries_this_version() -> None:
    assert metadata.version("whatsapp-senders-reconciler") == reconciler.__version__

