"""The README's install command, as a new user runs it: a fresh clone, a fresh HOME,
the externally managed system Python (PEP 668) and its distribution's pipx; then
`moai demo`, and the git hooks of that install route a SPEC branch to GLM."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.gitrepo import FAKE_KEY, SETTINGS, clean_env, git
from tests.tty_support import need

ROOT = Path(__file__).resolve().parents[2]
SYSTEM_PYTHON = Path("/usr/bin/python3")


def readme_install_command() -> str:
    """The first shell block of the README: the command the README tells you to run first."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```sh\n(.*?)```", text, re.S)
    assert block, "README.md has no ```sh block"
    lines = [ln.split("#", 1)[0].strip() for ln in block.group(1).splitlines()]
    return " && ".join(ln for ln in lines if ln)


def fresh_clone(dest: Path) -> Path:
    """A clone of this repository with the working tree's edits on top (what would be
    committed), so the test checks the code under test, not the last commit."""
    subprocess.run(["git", "clone", "-q", str(ROOT), str(dest)], check=True)
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout
    for rel in filter(None, listed.decode().split("\0")):
        src = ROOT / rel
        if src.is_file() and not src.is_symlink():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    return dest


def system_python_is_externally_managed() -> bool:
    if not SYSTEM_PYTHON.exists():
        return False
    stdlib = subprocess.run(
        [str(SYSTEM_PYTHON), "-c", "import sysconfig; print(sysconfig.get_path('stdlib'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return (Path(stdlib) / "EXTERNALLY-MANAGED").exists()


@pytest.mark.pipx
def test_readme_install_on_the_system_python_then_demo_and_hooks(tmp_path: Path) -> None:
    need("pipx")
    if not system_python_is_externally_managed():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{SYSTEM_PYTHON} is not an externally managed Python (Debian 12+)")
        pytest.skip(f"{SYSTEM_PYTHON} is not an externally managed Python here")
    src = fresh_clone(tmp_path / "moai-mashup")
    home = tmp_path / "home"
    home.mkdir()
    # The machine's package-index settings stay (PIP_INDEX_URL, proxies, certificates);
    # anything of a Python environment or of moai's does not.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("VIRTUAL_ENV", "PYTHON", "PIPX_", "CONDA", "MOAI_", "GLM_"))
        and k not in ("HOME", "PATH", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME")
    }
    # pipx puts `moai` in ~/.local/bin; Debian's stock ~/.profile (and `pipx ensurepath`)
    # put that directory on PATH for the next login shell.
    env.update(HOME=str(home), PATH=f"{home}/.local/bin:/usr/local/bin:/usr/bin:/bin")
    command = readme_install_command()
    assert command.startswith("pipx install ."), command
    started = time.monotonic()
    r = subprocess.run(
        ["bash", "-c", command], cwd=src, env=env, capture_output=True, text=True, timeout=900
    )
    took = time.monotonic() - started
    assert r.returncode == 0, r.stdout + r.stderr
    assert "settings.local.json is byte for byte what you wrote: yes" in r.stdout
    print(f"\n`{command}`: {took:.1f} s")

    # The installed moai's interpreter is the system one, in pipx's own venv.
    moai = home / ".local" / "bin" / "moai"
    shebang = moai.read_text().splitlines()[0]
    venv_python = Path(shebang[2:])
    assert venv_python.resolve() == SYSTEM_PYTHON.resolve(), shebang
    assert str(home) in str(venv_python)

    # Its hooks record that interpreter and route a SPEC branch to GLM, even for a git
    # that cannot find `moai` on PATH (a GUI client).
    genv = clean_env(home)
    genv["PATH"] = env["PATH"]
    repo = tmp_path / "project"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main", env=genv)
    git(repo, "commit", "-q", "--allow-empty", "-m", "start", env=genv)
    k = subprocess.run(
        [str(moai), "glm", "--set-key"],
        cwd=repo,
        env=genv,
        input=FAKE_KEY,
        capture_output=True,
        text=True,
    )
    assert k.returncode == 0, k.stderr
    i = subprocess.run(
        [str(moai), "init", "--yes"],
        cwd=repo,
        env=genv,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
    )
    assert i.returncode == 0, i.stderr
    hook = (repo / ".git" / "hooks" / "post-checkout").read_text()
    assert f"MOAI_PYTHON={venv_python}" in hook
    git(repo, "add", "-A", env=genv)
    git(repo, "commit", "-q", "-m", "moai-mashup", env=genv)
    genv["PATH"] = "/usr/bin:/bin"
    git(repo, "checkout", "-q", "-b", "feature/SPEC-X", env=genv)
    doc = (repo / SETTINGS).read_text()
    assert FAKE_KEY in doc and "https://api.z.ai/api/anthropic" in doc
