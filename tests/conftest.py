from __future__ import annotations

from pathlib import Path

import pytest

from tests.gitrepo import FAKE_KEY, clean_env, make_repo, save_fake_key


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
