"""A stage for the end-to-end scenarios: a repository, a fake HOME, two fake backends.

- the "Claude" server stands for the user's own Claude endpoint: the fake HOME's
  ~/.claude/settings.json points Claude Code at it with a fake Claude token,
  which is what Claude Code uses when moai has written nothing;
- the "GLM" server is the GLM base URL committed in the repository's
  .moai/llm-configs/glm.json (trusted with `moai trust --yes`, as a user must
  for any endpoint outside the built-in list), with a distinct model name per
  tier so a test sees which alias mapped to which model.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.e2e import claude_cli
from tests.e2e.fake_anthropic import FakeAnthropic, Recorded
from tests.gitrepo import FAKE_KEY, git, make_repo, moai, save_fake_key, write

CLAUDE_TOKEN = "fake-claude-oauth-token.TESTONLYnotreal"
GLM_MODELS = {"opus": "glm-4.7", "sonnet": "glm-4.6", "haiku": "glm-4.5-air"}

# How the backend follows git here. "hooks" (what the scenarios prove): `moai hooks
# install` once, then plain git only, the product's promise. "apply": plain git,
# then `moai apply` in the worktree, to tell a hook problem from a routing one.
ROUTING_BY = "hooks"


def e2e_llm_yaml(mode: str = "mashup", credential_mode: str = "inline") -> str:
    return (
        "llm:\n"
        f"  mode: {mode}\n"
        "  glm_env_var: GLM_API_TOKEN\n"
        "  auto_worktree:\n"
        "    enabled: true\n"
        "    copy_glm_config: true\n"
        f"  credential_mode: {credential_mode}\n"
    )


def e2e_glm_json(base_url: str) -> str:
    env = {
        "ANTHROPIC_AUTH_TOKEN": "${GLM_API_KEY}",
        "ANTHROPIC_BASE_URL": base_url,
        "ANTHROPIC_DEFAULT_OPUS_MODEL": GLM_MODELS["opus"],
        "ANTHROPIC_DEFAULT_SONNET_MODEL": GLM_MODELS["sonnet"],
        "ANTHROPIC_DEFAULT_HAIKU_MODEL": GLM_MODELS["haiku"],
        "API_TIMEOUT_MS": "60000",
    }
    return json.dumps({"env": env}, indent=2) + "\n"


class Seen:
    """The model calls each server received during one or more `claude -p` runs."""

    def __init__(self, reply: claude_cli.Reply, claude: FakeAnthropic, glm: FakeAnthropic):
        self.reply = reply
        self.claude: list[Recorded] = claude.messages()
        self.glm: list[Recorded] = glm.messages()

    def __repr__(self) -> str:
        rows = [f"{r.server}: model={r.model}" for r in self.claude + self.glm]
        return f"{self.reply}\nrequests: {rows}"


@dataclass
class Stage:
    home: Path
    env: dict[str, str]
    repo: Path
    claude: FakeAnthropic
    glm: FakeAnthropic
    claude_bin: Path
    claude_version: str
    extra_env: dict[str, str] = field(default_factory=dict)

    def run_moai(self, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
        r = moai(cwd, *args, env=self.env)
        assert r.returncode == 0, f"moai {' '.join(args)}: {r.stderr}"
        assert FAKE_KEY not in r.stdout + r.stderr
        return r

    def follow_git(self, worktree: Path) -> None:
        """What happens after a git operation for the backend to follow it."""
        if ROUTING_BY == "apply":
            self.run_moai(worktree, "apply")

    def checkout(self, worktree: Path, *args: str) -> None:
        git(worktree, "checkout", "-q", *args, env=self.env)
        self.follow_git(worktree)

    def worktree_add(self, path: Path, branch: str) -> Path:
        git(self.repo, "worktree", "add", "-q", "-b", branch, str(path), env=self.env)
        self.follow_git(path)
        return path

    def claude_env(self) -> dict[str, str]:
        return claude_cli.claude_env(self.home, **self.extra_env)

    def ask(self, cwd: Path, model: str | None = None) -> Seen:
        """One `claude -p` in cwd; what each server received for it."""
        self.claude.clear()
        self.glm.clear()
        reply = claude_cli.run_claude(self.claude_bin, cwd, self.claude_env(), model)
        return Seen(reply, self.claude, self.glm)


@pytest.fixture(scope="session", params=claude_cli.pinned_versions(), ids=lambda v: f"cc{v}")
def claude_version(request: pytest.FixtureRequest) -> str:
    """Each pinned Claude Code release in turn: every test that runs the real CLI
    (through `claude_bin`, `stage`, `make_stage`) runs once per version, with the
    test id `[cc<version>]`. A test says what differs by version by comparing it
    with `claude_cli.version_key`."""
    version: str = request.param
    return version


@pytest.fixture(scope="session")
def claude_bin(claude_version: str) -> Path:
    found = claude_cli.find_claude(claude_version)
    if isinstance(found, claude_cli.Missing):
        if found.may_skip:
            pytest.skip(found.reason)
        pytest.fail(found.reason)
    return found


@pytest.fixture
def fake_servers() -> Iterator[tuple[FakeAnthropic, FakeAnthropic]]:
    with FakeAnthropic("claude") as claude, FakeAnthropic("glm") as glm:
        yield claude, glm


StageFactory = Callable[..., Stage]


@pytest.fixture
def make_stage(
    tmp_path: Path,
    home: Path,
    env: dict[str, str],
    claude_bin: Path,
    claude_version: str,
    fake_servers: tuple[FakeAnthropic, FakeAnthropic],
) -> StageFactory:
    claude, glm = fake_servers

    def factory(mode: str = "mashup", credential_mode: str = "inline") -> Stage:
        write(
            home / ".claude" / "settings.json",
            json.dumps(
                {"env": {"ANTHROPIC_BASE_URL": claude.url, "ANTHROPIC_AUTH_TOKEN": CLAUDE_TOKEN}}
            ),
        )
        save_fake_key(home)
        repo = make_repo(
            tmp_path / "project",
            env,
            llm_yaml=e2e_llm_yaml(mode, credential_mode),
            glm_json=e2e_glm_json(glm.url),
        )
        stage = Stage(home, env, repo, claude, glm, claude_bin, claude_version)
        stage.run_moai(repo, "trust", "--yes")
        if ROUTING_BY == "hooks":
            stage.run_moai(repo, "hooks", "install")
        # The checkout that made this worktree happened before any hook existed.
        stage.run_moai(repo, "apply")
        return stage

    return factory


@pytest.fixture
def stage(make_stage: StageFactory) -> Stage:
    """mashup mode, inline credentials, on main."""
    return make_stage()
