"""A stage for the end-to-end scenarios: a repository, a fake HOME, fake backends.

- the "Claude" server stands for the user's own Claude endpoint: the fake HOME's
  ~/.claude/settings.json points Claude Code at it with a fake Claude token,
  which is what Claude Code uses when moai has written nothing;
- the "GLM" server is the GLM base URL committed in the repository's
  .moai/llm-configs/glm.json (trusted with `moai trust --yes`, as a user must
  for any endpoint outside the built-in list), with a distinct model name per
  tier so a test sees which alias mapped to which model;
- the "kimi" server (`make_backends_stage` only) is a third provider named in
  `llm.backends` with a committed custom base URL (trusted the same way), its
  own fake key in ~/.moai/.env.kimi, and `llm.routes` deciding which branch
  goes where.
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
KIMI_KEY = "fake2222kimi2222key2222for0tests.TESTONLYnotreal3"
KIMI_MODELS = {"opus": "kimi-k3", "sonnet": "kimi-k3", "haiku": "kimi-k2.5"}
KIMI_WINDOW = 256000
# llm.routes of the scenarios: a list of (branch glob, backend name), first match wins.
ROUTES_BY_BRANCH = (("exp/*", "kimi"), ("feature/SPEC-*", "glm"), ("*", "claude"))
ROUTES_MAIN_ON_KIMI = (("main", "kimi"), ("feature/SPEC-*", "glm"), ("*", "claude"))

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


def e2e_backends_yaml(kimi_url: str, routes: tuple[tuple[str, str], ...]) -> str:
    """mashup mode, a `kimi` backend at the fake's URL (not a preset: a committed
    endpoint, so `moai trust` is needed), and `routes`."""
    lines = [
        "llm:",
        "  mode: mashup",
        "  glm_env_var: GLM_API_TOKEN",
        "  backends:",
        "    kimi:",
        f"      base_url: {kimi_url}",
        "      models: {"
        + ", ".join(f"{tier}: {model}" for tier, model in KIMI_MODELS.items())
        + "}",
        f"      context_window: {KIMI_WINDOW}",
        "  routes:",
    ]
    lines += [f'    - {{branch: "{glob}", backend: {name}}}' for glob, name in routes]
    return "\n".join(lines) + "\n"


def save_kimi_key(repo: Path, env: dict[str, str], key: str = KIMI_KEY) -> None:
    """The kimi key as a user saves it: `moai key set kimi` in the repository (one line
    on stdin), which keeps it in ~/.moai/.env.kimi with the endpoint it is for."""
    r = moai(repo, "key", "set", "kimi", env=env, input=key + "\n")
    assert r.returncode == 0, r.stderr
    assert key not in r.stdout + r.stderr


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

    def __init__(
        self,
        reply: claude_cli.Reply,
        claude: FakeAnthropic,
        glm: FakeAnthropic,
        kimi: FakeAnthropic | None = None,
    ):
        self.reply = reply
        self.claude: list[Recorded] = claude.messages()
        self.glm: list[Recorded] = glm.messages()
        self.kimi: list[Recorded] = kimi.messages() if kimi is not None else []

    def __repr__(self) -> str:
        rows = [f"{r.server}: model={r.model}" for r in self.claude + self.glm + self.kimi]
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
    kimi: FakeAnthropic | None = None  # make_backends_stage's third provider

    @property
    def servers(self) -> list[FakeAnthropic]:
        return [self.claude, self.glm] + ([self.kimi] if self.kimi is not None else [])

    def clear(self) -> None:
        for server in self.servers:
            server.clear()

    def run_moai(self, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
        r = moai(cwd, *args, env=self.env)
        assert r.returncode == 0, f"moai {' '.join(args)}: {r.stderr}"
        assert FAKE_KEY not in r.stdout + r.stderr
        assert KIMI_KEY not in r.stdout + r.stderr
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
        self.clear()
        reply = claude_cli.run_claude(self.claude_bin, cwd, self.claude_env(), model)
        return Seen(reply, self.claude, self.glm, self.kimi)


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


@pytest.fixture
def kimi_server() -> Iterator[FakeAnthropic]:
    with FakeAnthropic("kimi") as kimi:
        yield kimi


StageFactory = Callable[..., Stage]


def build_stage(
    root: Path,
    home: Path,
    env: dict[str, str],
    claude_bin: Path,
    claude_version: str,
    servers: tuple[FakeAnthropic, FakeAnthropic],
    llm_yaml: str,
    kimi: FakeAnthropic | None = None,
) -> Stage:
    """The repository on main with `llm_yaml`, the user's Claude setup and keys in the
    fake HOME, the committed config trusted, git hooks installed and main applied."""
    claude, glm = servers
    write(
        home / ".claude" / "settings.json",
        json.dumps(
            {"env": {"ANTHROPIC_BASE_URL": claude.url, "ANTHROPIC_AUTH_TOKEN": CLAUDE_TOKEN}}
        ),
    )
    save_fake_key(home)
    repo = make_repo(root, env, llm_yaml=llm_yaml, glm_json=e2e_glm_json(glm.url))
    if kimi is not None:
        save_kimi_key(repo, env)
    stage = Stage(home, env, repo, claude, glm, claude_bin, claude_version, kimi=kimi)
    stage.run_moai(repo, "trust", "--yes")
    if ROUTING_BY == "hooks":
        stage.run_moai(repo, "hooks", "install")
    # The checkout that made this worktree happened before any hook existed.
    stage.run_moai(repo, "apply")
    return stage


@pytest.fixture
def make_stage(
    tmp_path: Path,
    home: Path,
    env: dict[str, str],
    claude_bin: Path,
    claude_version: str,
    fake_servers: tuple[FakeAnthropic, FakeAnthropic],
) -> StageFactory:
    def factory(mode: str = "mashup", credential_mode: str = "inline") -> Stage:
        return build_stage(
            tmp_path / "project",
            home,
            env,
            claude_bin,
            claude_version,
            fake_servers,
            e2e_llm_yaml(mode, credential_mode),
        )

    return factory


@pytest.fixture
def make_backends_stage(
    tmp_path: Path,
    home: Path,
    env: dict[str, str],
    claude_bin: Path,
    claude_version: str,
    fake_servers: tuple[FakeAnthropic, FakeAnthropic],
    kimi_server: FakeAnthropic,
) -> StageFactory:
    """Three providers: Claude (the user's own), GLM (glm.json), kimi (llm.backends),
    routed by `routes` (default ROUTES_BY_BRANCH); both keys saved in ~/.moai."""

    def factory(routes: tuple[tuple[str, str], ...] = ROUTES_BY_BRANCH) -> Stage:
        return build_stage(
            tmp_path / "project",
            home,
            env,
            claude_bin,
            claude_version,
            fake_servers,
            e2e_backends_yaml(kimi_server.url, routes),
            kimi=kimi_server,
        )

    return factory


@pytest.fixture
def stage(make_stage: StageFactory) -> Stage:
    """mashup mode, inline credentials, on main."""
    return make_stage()
