"""Fixtures for the in-process settings tests: this process stands in the repository."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from moai_mashup.workspace import Workspace, open_workspace


@pytest.fixture
def in_repo(
    repo: Path, env: dict[str, str], keyed_home: str, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """`repo`, with this process's environment replaced by the test's and its cwd there."""
    for name in list(os.environ):
        if name not in env:
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(repo)
    return repo


@pytest.fixture
def ws(in_repo: Path) -> Workspace:
    return open_workspace(in_repo, warn=False)
