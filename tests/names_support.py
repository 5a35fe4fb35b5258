"""A repository with backends beside GLM (llm.backends, llm.routes), for the tests of
what names a backend: status, the status line, the session hooks, doctor, route."""

from __future__ import annotations

from pathlib import Path

from tests import backends_support
from tests.gitrepo import LLM_YAML, SEED_LLM_YAML, git, write

DS_URL = "https://api.deepseek.com/anthropic"  # core.backends.PRESETS["deepseek"]
LAB_URL = "https://llm.lab.example/anthropic"
DS_KEY = "fake2222ds2222key2222tests.TESTONLYnotreal3"
LAB_KEY = "fake3333lab3333key3333tests.TESTONLYnotreal4"

# SPEC branches on DeepSeek (as `ds`), exp/* on GLM, lab/* on a custom endpoint (not
# its preset's: it needs `moai trust`), every other branch on Claude.
BACKENDS = """\
  backends:
    ds:
      preset: deepseek
      models: {opus: deepseek-v4-pro, sonnet: deepseek-v4-pro, haiku: deepseek-v4-flash}
    lab:
      base_url: https://llm.lab.example/anthropic
      models: {opus: lab-large, sonnet: lab-large, haiku: lab-small}
      display: Lab
  routes:
    - {branch: "feature/SPEC-*", backend: ds}
    - {branch: "exp/*", backend: glm}
    - {branch: "lab/*", backend: lab}
    - {branch: "*", backend: claude}
"""


def with_backends(repo: Path, env: dict[str, str], extra: str = "") -> None:
    """Commit llm.yaml with BACKENDS (and `extra`, more of the `llm:` block)."""
    write(repo / LLM_YAML, SEED_LLM_YAML + BACKENDS + extra)
    git(repo, "commit", "-qam", "backends", env=env)


# The endpoint each test backend's key is set for (`moai key set` records it).
URLS = {"ds": DS_URL, "deepseek": DS_URL, "lab": LAB_URL}


def save_backend_key(home: Path, name: str, key: str, base_url: str | None = None) -> Path:
    """A backend's key in ~/.moai/.env.NAME, as `moai key set NAME` saves it: with the
    endpoint it is for (`base_url`, else the test backend's own, URLS)."""
    return backends_support.save_backend_key(home, name, key, base_url or URLS[name])
