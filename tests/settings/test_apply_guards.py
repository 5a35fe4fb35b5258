"""apply.py's guards in-process, on real repositories: where a settings link may
lead, which template keys need trust, the stray GLM state a plan starts without,
the mode a file without our keys gets back.

Each test here fails on a mutant of apply.py that the subprocess tests catch
too slowly for scripts/mutation.sh.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from moai_mashup.errors import BadInput, Refused
from moai_mashup.settings import apply, private, trust
from moai_mashup.workspace import Workspace
from tests.gitrepo import GLM_JSON, SEED_GLM_JSON, SETTINGS, write


def _link_claude_dir(ws: Workspace, target: str) -> None:
    (Path(ws.wt.root) / target).mkdir(parents=True, exist_ok=True)
    (Path(ws.wt.root) / ".claude").symlink_to(target)


def test_a_link_into_the_git_dir_is_outside_the_worktree(ws: Workspace) -> None:
    _link_claude_dir(ws, ".git/claude")
    with pytest.raises(apply.UnsafeSettingsLink, match="outside this worktree"):
        apply.check_settings_link(ws.wt)


def test_a_link_out_of_the_worktree_is_refused(ws: Workspace, tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    (Path(ws.wt.root) / ".claude").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(apply.UnsafeSettingsLink, match="outside this worktree"):
        apply.check_settings_link(ws.wt)


def test_a_link_to_an_ignored_folder_in_the_worktree_is_fine(ws: Workspace) -> None:
    with (Path(ws.wt.common_dir) / "info" / "exclude").open("a") as fh:
        fh.write("/claude-real/\n")
    _link_claude_dir(ws, "claude-real")
    apply.check_settings_link(ws.wt)  # no error


def test_a_link_to_a_folder_git_does_not_ignore_is_refused(ws: Workspace) -> None:
    _link_claude_dir(ws, "claude-real")
    with pytest.raises(apply.UnsafeSettingsLink, match="which git does not ignore"):
        apply.check_settings_link(ws.wt)


def test_template_keys_beyond_routing_wait_for_trust(ws: Workspace) -> None:
    doc = json.loads(SEED_GLM_JSON)
    doc["env"]["HTTPS_PROXY"] = "http://proxy.example.invalid:3128"
    write(Path(ws.wt.root) / GLM_JSON, json.dumps(doc))
    env, held = apply.trusted_template(ws.wt, ws.cfg.glm_env_var)
    assert held == ("HTTPS_PROXY",) and "HTTPS_PROXY" not in env
    assert trust.trust(
        ws.wt.main_root, "env", json.dumps({"HTTPS_PROXY": doc["env"]["HTTPS_PROXY"]})
    )
    env, held = apply.trusted_template(ws.wt, ws.cfg.glm_env_var)
    assert held == () and env["HTTPS_PROXY"] == "http://proxy.example.invalid:3128"


def test_cleaned_takes_the_stray_glm_state_out(ws: Workspace) -> None:
    doc = {"env": {"ANTHROPIC_BASE_URL": "https://api.z.ai/api/anthropic", "MY_FLAG": "1"}}
    state = apply.SettingsState(str(Path(ws.wt.root) / SETTINGS), json.dumps(doc), doc, None)
    assert state.cleaned() is state  # nothing stray: the same state
    stray = state._replace(stray=(("env", "ANTHROPIC_BASE_URL"),))
    assert stray.cleaned() == state._replace(doc={"env": {"MY_FLAG": "1"}})
    # No record owns it: Claude by the record, but GLM in fact.
    assert (state.active, stray.active) == ("claude", "glm")


@pytest.mark.parametrize("mode", [0o755, 0o640])
def test_a_file_moai_never_owned_keeps_its_mode(ws: Workspace, mode: int) -> None:
    path = write(Path(ws.wt.root) / SETTINGS, '{"model": "opus"}\n')
    path.chmod(mode)
    state = apply.read_state(ws.wt)
    assert state.mode == mode and apply.restore_mode(state) == mode


def test_a_linked_settings_file_stays_a_link(ws: Workspace) -> None:
    """A settings file that is a link (to an ignored file in this worktree): moai
    writes its target, a rename over the link would make it a plain file."""
    with (Path(ws.wt.common_dir) / "info" / "exclude").open("a") as fh:
        fh.write("/claude-real/\n")
    target = write(Path(ws.wt.root) / "claude-real" / "settings.json", '{"model": "opus"}\n')
    (Path(ws.wt.root) / ".claude").mkdir()
    (Path(ws.wt.root) / SETTINGS).symlink_to(target)
    apply.apply_backend(ws.wt, ws.cfg, "glm")
    assert (Path(ws.wt.root) / SETTINGS).is_symlink()
    assert json.loads(target.read_text())["env"]["ANTHROPIC_BASE_URL"]


@pytest.mark.parametrize(("text", "doc"), [('{"model": "opus"}', {"model": "opus"}), ("[]", {})])
def test_the_users_own_settings_level_is_read_as_claude_code_reads_it(
    ws: Workspace, text: str, doc: dict[str, str]
) -> None:
    write(Path(os.environ["HOME"]) / ".claude" / "settings.json", text)
    assert apply.user_settings_levels(ws.wt)[2] == doc


def test_the_mode_of_no_file(ws: Workspace) -> None:
    """Without a file, what a new one gets."""
    assert apply.restore_mode(apply.read_state(ws.wt)) == 0o600


def test_a_users_file_gets_its_mode_back_after_glm(ws: Workspace) -> None:
    path = write(Path(ws.wt.root) / SETTINGS, '{"model": "opus"}\n')
    path.chmod(0o644)
    apply.apply_backend(ws.wt, ws.cfg, "glm")
    assert path.stat().st_mode & 0o777 == 0o600
    apply.apply_backend(ws.wt, ws.cfg, "claude")
    assert path.stat().st_mode & 0o777 == 0o644


def test_the_users_keys_are_known_for_stray_state(
    ws: Workspace, keyed_home: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The key in ~/.moai/.env.glm (and no credentials file) is a key of the user's:
    found back on main, it is stray GLM state."""
    monkeypatch.setattr(apply, "_USER_KEYS", {})  # read once per process
    assert apply._user_keys(ws.cfg.glm_env_var) == frozenset({keyed_home})


@pytest.mark.parametrize(
    ("data", "done"), [(b"", False), (b" \n", False), (b"{", False), (b"[]", False), (b"{}", True)]
)
def test_an_empty_or_broken_file_is_a_save_half_done(data: bytes, done: bool) -> None:
    assert apply._complete(data) is done


def test_a_private_folder_moai_cannot_write_is_refused_before_any_write(ws: Workspace) -> None:
    """Any OSError of the probe is the one clear line (as root a read-only folder does
    not refuse; a probe name already taken gives the same OSError). The probe is
    in the worktree's private folder, where the record is (settings/private.py)."""
    Path(ws.wt.state_dir).mkdir(parents=True, exist_ok=True)
    folder = private.ensure(str(ws.wt.state_dir))
    (Path(folder) / f".write-probe.{os.getpid()}").mkdir()
    with pytest.raises(Refused, match=f"^{folder}: cannot write there"):
        apply.apply_backend(ws.wt, ws.cfg, "glm")
    assert not (Path(ws.wt.root) / SETTINGS).exists()


def test_apply_checks_the_link_for_glm_only(ws: Workspace, tmp_path: Path) -> None:
    """A link out of the worktree: no key through it; Claude's settings (no key) may go."""
    (tmp_path / "elsewhere").mkdir()
    (Path(ws.wt.root) / ".claude").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(apply.UnsafeSettingsLink):
        apply.apply_backend(ws.wt, ws.cfg, "glm")
    assert list((tmp_path / "elsewhere").iterdir()) == []
    apply.apply_backend(ws.wt, ws.cfg, "claude")


def test_stray_state_is_found_with_the_default_template_when_the_repositorys_is_broken(
    ws: Workspace,
) -> None:
    from moai_mashup.core.glm_template import DEFAULT_TEMPLATE

    write(Path(ws.wt.root) / GLM_JSON, "{")
    assert apply.stray_spec(ws.wt, ws.cfg.glm_env_var).template == DEFAULT_TEMPLATE["env"]


@pytest.mark.parametrize("python", ["", "python3"])
def test_no_key_helper_without_an_absolute_python(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch, python: str
) -> None:
    """An embedding interpreter may leave sys.executable empty or relative."""
    monkeypatch.setattr(sys, "executable", python)
    with pytest.raises(Refused, match=r"sys\.executable is not absolute"):
        apply.key_helper_command(ws.wt)


def test_the_users_settings_file_without_home(monkeypatch: pytest.MonkeyPatch) -> None:
    import pwd

    monkeypatch.delenv("HOME", raising=False)
    home = pwd.getpwuid(os.getuid()).pw_dir
    assert apply.user_settings_file() == str(Path(home) / ".claude" / "settings.json")


def test_a_broken_credentials_file_does_not_hide_the_other_keys(
    ws: Workspace, keyed_home: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """(reported where the key is needed, not while looking for stray state)"""
    from moai_mashup.settings import keys

    write(Path(keys.credentials_file()), "glm_api_key: [unclosed\n")
    monkeypatch.setattr(apply, "_USER_KEYS", {})
    assert apply._user_keys(ws.cfg.glm_env_var) == frozenset({keyed_home})


def test_a_template_that_is_not_utf8_is_named(ws: Workspace) -> None:
    (Path(ws.wt.root) / GLM_JSON).write_bytes(b'{"env": {"X": "\xff"}}')
    with pytest.raises(BadInput, match="not UTF-8 text"):
        apply.load_template(ws.wt)
