from __future__ import annotations

from pathlib import Path

import pytest

from tests.gitrepo import FAKE_KEY, clean_env, make_repo, save_fake_key

E2E = Path(__file__).resolve().parent / "e2e"
# Markers that leave a test out of the fast lane (CONTRIBUTING.md, "Markers").
SLOW_KINDS = ("e2e", "pipx", "terminal", "pre_commit", "stress")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """tests/e2e is `e2e` by where it lives; each slow kind is also `slow`."""
    for item in items:
        if item.path.is_relative_to(E2E):
            item.add_marker(pytest.mark.e2e)
        if any(item.get_closest_marker(kind) for kind in SLOW_KINDS):
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def env(home: Path) -> dict[str, str]:
    return clean_env(home)


@pytest.fixture
def repo(tmp_path: Path, env: dict[str, str]) -> Path:
    """A repository on main with the seed's llm.yaml and glm.json committed."""
    return make_repo(tmp_path / "project", env)


@pytest.fixture
def keyed_home(home: Path) -> str:
    """A fake GLM key saved in the fake HOME's ~/.moai/.env.glm."""
    save_fake_key(home)
    return FAKE_KEY
