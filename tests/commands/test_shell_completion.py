"""Tab completion from `moai shell-init`, typed in real interactive bash, zsh and fish
(tmux), and the completion protocol it relies on."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.shell_completion import ShellComplete

from moai_mashup.cli import COMMANDS, LazyGroup, cli, complete_backend_options
from moai_mashup.core.backends import PRESETS
from tests.commands.test_key_cli import BACKENDS_YAML
from tests.gitrepo import LLM_YAML, MOAI, git, write
from tests.tty_support import Tmux, need

PROMPT = "moai-test$ "


def shell_argv(shell: str, tmp: Path) -> tuple[list[str], dict[str, str]]:
    """An interactive shell whose only start-up file evals `moai shell-init <shell>`."""
    exe = need(shell)
    if shell == "bash":
        rc = tmp / "bashrc"
        rc.write_text(f"PS1='{PROMPT}'\neval \"$(moai shell-init bash)\"\n")
        return [exe, "--noprofile", "--rcfile", str(rc), "-i"], {}
    if shell == "zsh":
        (tmp / ".zshrc").write_text(f"PROMPT='{PROMPT}'\neval \"$(moai shell-init zsh)\"\n")
        return [exe, "-i"], {"ZDOTDIR": str(tmp)}
    rc = tmp / "config.fish"
    rc.write_text(
        f"function fish_prompt; echo -n '{PROMPT}'; end\n"
        "set -g fish_greeting ''\nset -g fish_autosuggestion_enabled 0\n"
        "moai shell-init fish | source\n"
    )
    return [exe, "--no-config", "-i", "-C", f"source {rc}"], {}


@pytest.fixture
def term() -> Iterator[list[Tmux]]:
    started: list[Tmux] = []
    yield started
    for t in started:
        t.close()


@pytest.mark.terminal
@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_tab_completes_commands_options_choices_and_spec_ids(
    shell: str,
    tmp_path: Path,
    env: dict[str, str],
    repo: Path,
    keyed_home: str,
    term: list[Tmux],
) -> None:
    write(repo / LLM_YAML, BACKENDS_YAML)  # kimi and lab beside glm
    git(repo, "commit", "-qam", "backends", env=env)
    made = subprocess.run(
        [MOAI, "worktree", "create", "SPEC-TAB-001"], cwd=repo, env=env, capture_output=True
    )
    assert made.returncode == 0, made.stderr
    argv, extra = shell_argv(shell, tmp_path)
    bindir = str(Path(MOAI).parent)
    env = dict(env, PATH=f"{bindir}:{env['PATH']}", TERM="xterm-256color", **extra)
    t = Tmux(tmp_path, argv, repo, env)
    term.append(t)
    t.wait_for(PROMPT)
    for typed, completed in [
        ("moai worktr", "moai worktree "),  # a command group (the list fast path too)
        ("moai worktree li", "moai worktree list "),
        ("moai worktree list --js", "moai worktree list --json "),
        ("moai init --mo", "moai init --mode "),
        ("moai init --mode glm-", "moai init --mode glm-only "),
        ("moai shell-init fi", "moai shell-init fish "),
        ("moai worktree go SPEC-T", "moai worktree go SPEC-TAB-001 "),  # this repository's
        ("moai use cl", "moai use claude "),
        ("moai use ki", "moai use kimi "),  # this repository's llm.backends
        ("moai key rem", "moai key remove "),
        ("moai key set la", "moai key set lab "),
    ]:
        t.send("C-u")
        t.send(typed, literal=True)
        t.send("Tab")
        t.wait_for(PROMPT + completed, timeout=30)
    t.send("C-u")


@pytest.mark.terminal
@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_shell_init_output_is_valid_syntax(shell: str, env: dict[str, str]) -> None:
    exe = need(shell)
    out = subprocess.run(
        [MOAI, "shell-init", shell], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert "_MOAI_COMPLETE" in out
    r = subprocess.run([exe, "-n"], input=out, capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr


def test_completion_request_is_never_taken_by_the_list_fast_path(
    env: dict[str, str], tmp_path: Path
) -> None:
    """`moai worktree list` skips click; a completion request must not."""
    r = subprocess.run(
        [MOAI, "worktree", "list"],
        env=dict(
            env, _MOAI_COMPLETE="bash_complete", COMP_WORDS="moai worktree list --j", COMP_CWORD="3"
        ),
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["plain,--json"]


def complete(cwd: Path, env: dict[str, str], words: str) -> list[str]:
    """What bash's completion asks `moai` for the last word of `words`."""
    r = subprocess.run(
        [MOAI],
        env=dict(
            env,
            _MOAI_COMPLETE="bash_complete",
            COMP_WORDS=words,
            COMP_CWORD=str(len(words.split(" ")) - 1),
        ),
        cwd=cwd,
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    return r.stdout.splitlines()


def test_backend_names_are_completed(
    repo: Path, env: dict[str, str], home: Path, tmp_path: Path
) -> None:
    """`moai use`: claude, glm and llm.backends; `moai key set|remove`: glm, llm.backends
    and every backend a key file exists for (never claude: it has no key here)."""
    write(repo / LLM_YAML, BACKENDS_YAML)
    key = write(home / ".moai" / ".env.old", 'MOAI_OLD_API_KEY="x"\n')
    key.chmod(0o600)
    assert complete(repo, env, "moai use ") == [
        "plain,claude",
        "plain,glm",
        "plain,kimi",
        "plain,lab",
    ]
    assert complete(repo, env, "moai use l") == ["plain,lab"]
    for verb in ("set", "remove"):
        assert complete(repo, env, f"moai key {verb} ") == [
            "plain,glm",
            "plain,kimi",
            "plain,lab",
            "plain,old",
        ]
    # outside a repository: what the key files name; a broken config offers glm alone
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    assert complete(outside, env, "moai use ") == ["plain,claude", "plain,glm"]
    assert complete(outside, env, "moai key set ") == ["plain,glm", "plain,old"]
    write(repo / LLM_YAML, "llm:\n  mode: [oops\n")
    assert complete(repo, env, "moai use ") == ["plain,claude", "plain,glm"]


def backend_options() -> list[list[str]]:
    """The command line up to each `--backend` option moai's commands declare."""
    found: list[list[str]] = []

    def walk(cmd: click.Command, path: list[str]) -> None:
        if any(isinstance(p, click.Option) and "--backend" in p.opts for p in cmd.params):
            found.append(path)
        if isinstance(cmd, click.Group) and not isinstance(cmd, LazyGroup):
            for name, sub in cmd.commands.items():
                walk(sub, [*path, name])

    ctx = click.Context(cli)
    for name in COMMANDS:
        command = cli.get_command(ctx, name)
        assert command is not None
        walk(command, [name])
    return found


def test_init_backend_completes_presets_until_llm_yaml_exists(
    repo: Path, env: dict[str, str], tmp_path: Path
) -> None:
    """`moai init --backend`: a new llm.yaml takes a preset (or glm); one already there
    takes glm or one of its llm.backends, as init itself checks."""
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    git(fresh, "init", "-q", env=env)
    presets = [f"plain,{n}" for n in ("glm", *PRESETS)]
    assert complete(fresh, env, "moai init --backend ") == presets
    assert complete(fresh, env, "moai init --backend moon") == [
        "plain,moonshot",
        "plain,moonshot-china",
    ]
    write(repo / LLM_YAML, BACKENDS_YAML)
    assert complete(repo, env, "moai init --backend ") == ["plain,glm", "plain,kimi", "plain,lab"]


def test_every_backend_option_completes_backend_names(
    repo: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """cli.py gives every `--backend NAME` option the backend names: a command of
    moai's own (each one found) and one declared as any command declares it."""
    write(repo / LLM_YAML, BACKENDS_YAML)
    names = ["plain,claude", "plain,glm", "plain,kimi", "plain,lab"]
    for path in backend_options():
        words = " ".join(["moai", *path, "SPEC-X", "--backend", ""])
        # init's puts SPEC worktrees on NAME: never claude (test_init_backend_completes_...)
        expected = [n for n in names if n != "plain,claude"] if path == ["init"] else names
        assert complete(repo, env, words) == expected, path

    @click.command()
    @click.option("--backend", metavar="NAME")
    @click.option("--other", metavar="X")
    def plain(backend: str | None, other: str | None) -> None:
        click.echo(f"{backend} {other}")

    complete_backend_options(click.Group(commands={"plain": plain}))
    monkeypatch.chdir(repo)
    monkeypatch.setenv("HOME", env["HOME"])
    shell = ShellComplete(plain, {}, "plain", "_PLAIN_COMPLETE")
    assert [c.value for c in shell.get_completions(["--backend"], "")] == [
        "claude",
        "glm",
        "kimi",
        "lab",
    ]
    assert [c.value for c in shell.get_completions(["--backend"], "k")] == ["kimi"]
    assert shell.get_completions(["--other"], "") == []
    # the value itself is the plain string it was
    assert plain.main(["--backend", "lab", "--other", "x"], standalone_mode=False) is None
