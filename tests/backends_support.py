"""A repository with backends beside GLM (llm.backends, llm.routes) and fake keys for them."""

from __future__ import annotations

from pathlib import Path

from tests.gitrepo import LLM_YAML, SEED_LLM_YAML, git, write

KIMI_KEY = "sk-fake-kimi-TESTONLY-0000"
LAB_KEY = "sk-fake-lab-TESTONLY-0000"
GW_KEY = "sk-fake-gw-TESTONLY-0000"
KIMI_URL = "https://api.moonshot.ai/anthropic"
LAB_URL = "https://llm.internal.example.invalid/anthropic"
GW_URL = "https://gateway.example.invalid/anthropic"

ROUTES = """\
  routes:
    - {branch: "exp/*", backend: kimi}
    - {branch: "feature/SPEC-*", backend: glm}
    - {branch: "lab/*", backend: lab}
    - {branch: "gw/*", backend: gw}
    - {branch: "*", backend: claude}
"""
BACKENDS = f"""\
  backends:
    kimi: {{preset: moonshot}}
    lab:
      base_url: {LAB_URL}
      models: {{opus: lab-large, sonnet: lab-large, haiku: lab-small}}
      context_window: 128000
      display: Lab
    gw:
      base_url: {GW_URL}
      auth_var: ANTHROPIC_API_KEY
      models: {{opus: gw-large, sonnet: gw-large, haiku: gw-small}}
"""
TEAM = SEED_LLM_YAML + BACKENDS + ROUTES


# The endpoint each test backend's key is set for (`moai key set` records it).
URLS = {"kimi": KIMI_URL, "lab": LAB_URL, "gw": GW_URL}


def save_backend_key(home: Path, backend: str, key: str, base_url: str | None = None) -> Path:
    """`moai key set <backend>`'s file: ~/.moai/.env.<backend>, MOAI_<NAME>_API_KEY and
    the endpoint the key is for (MOAI_<NAME>_BASE_URL: `base_url`, else the test
    backend's own, URLS), 0600."""
    path = home / ".moai" / f".env.{backend}"
    path.parent.mkdir(parents=True, exist_ok=True)
    var = "MOAI_" + backend.upper().replace("-", "_")
    url = base_url or URLS[backend]
    path.write_text(f'{var}_API_KEY="{key}"\n{var}_BASE_URL="{url}"\n')
    path.chmod(0o600)
    return path


def use_backends(repo: Path, env: dict[str, str], text: str = TEAM) -> None:
    """Commit `text` as the team's llm.yaml."""
    write(repo / LLM_YAML, text)
    git(repo, "commit", "-qam", "backends and routes", env=env)
