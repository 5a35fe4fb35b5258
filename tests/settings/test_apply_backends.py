"""apply.py for backends beside GLM (llm.backends), in-process: each backend's env and
key only, the switch from one provider to another, trust per backend, helper mode,
drift and stray state of any backend."""

from __future__ import annotations

import json
import stat
import subprocess
from pathlib import Path

import pytest

from moai_mashup.core.backends import PRESETS
from moai_mashup.errors import BadInput
from moai_mashup.settings import apply, trust
from moai_mashup.workspace import Workspace, open_workspace
from tests.backends_support import (
    BACKENDS,
    GW_KEY,
    GW_URL,
    KIMI_KEY,
    KIMI_URL,
    LAB_KEY,
    LAB_URL,
    ROUTES,
    TEAM,
    save_backend_key,
    use_backends,
)
from tests.gitrepo import FAKE_KEY, LLM_YAML, SEED_LLM_YAML, SETTINGS, settings, write

# The user's own settings: their own credentials and endpoint, CRLF, a pinned model.
USER = (
    '{\r\n  "model": "claude-sonnet-4-5-20250929",\r\n  "env": {\r\n'
    '    "ANTHROPIC_BASE_URL": "https://proxy.example.invalid",\r\n'
    '    "ANTHROPIC_AUTH_TOKEN": "user-own-token-TESTONLY",\r\n'
    '    "ANTHROPIC_API_KEY": "user-own-api-key-TESTONLY",\r\n'
    '    "MY_FLAG": "1"\r\n  }\r\n}\r\n'
)


@pytest.fixture
def bws(in_repo: Path, env: dict[str, str], home: Path) -> Workspace:
    use_backends(in_repo, env)
    for backend, key in (("kimi", KIMI_KEY), ("lab", LAB_KEY), ("gw", GW_KEY)):
        save_backend_key(home, backend, key)
    apply._USER_KEYS.clear()  # read once per process: this test's HOME is new
    return open_workspace(in_repo, warn=False)


def _text(ws: Workspace) -> str:
    path = Path(ws.wt.root) / SETTINGS
    return path.read_text(encoding="utf-8") if path.exists() else ""


def test_kimi_gets_its_url_models_and_key_and_no_other_key(bws: Workspace) -> None:
    result = apply.apply_backend(bws.wt, bws.cfg, "kimi")
    assert result.changed and result.key is not None and result.key.value == KIMI_KEY
    env = settings(Path(bws.wt.root))["env"]
    assert env["ANTHROPIC_BASE_URL"] == KIMI_URL
    assert env["ANTHROPIC_AUTH_TOKEN"] == KIMI_KEY and env["ANTHROPIC_API_KEY"] == ""
    assert env["ANTHROPIC_DEFAULT_OPUS_MODEL"] == "kimi-k3"
    assert env["ANTHROPIC_DEFAULT_HAIKU_MODEL"] == "kimi-k2.5"
    # the smallest window of its tiers' models (the moonshot preset's kimi-k2.5)
    assert env["CLAUDE_CODE_MAX_CONTEXT_TOKENS"] == str(PRESETS["moonshot"].windows["kimi-k2.5"])
    assert env["ANTHROPIC_MODEL"] == "opus"
    text = _text(bws)
    for other in (FAKE_KEY, LAB_KEY, GW_KEY):
        assert other not in text
    assert stat.S_IMODE((Path(bws.wt.root) / SETTINGS).stat().st_mode) == 0o600
    state = apply.read_state(bws.wt)
    assert state.record is not None and state.record.backend == "kimi"
    assert state.active == "kimi"


def test_a_key_goes_only_under_the_backends_auth_var(bws: Workspace) -> None:
    trust.trust(bws.wt.main_root, "url", GW_URL, "gw")
    apply.apply_backend(bws.wt, bws.cfg, "gw")  # auth_var: ANTHROPIC_API_KEY
    env = settings(Path(bws.wt.root))["env"]
    assert env["ANTHROPIC_API_KEY"] == GW_KEY and env["ANTHROPIC_AUTH_TOKEN"] == ""
    assert [v for v in env.values() if v == GW_KEY] == [GW_KEY]


def test_provider_to_provider_restores_the_users_own_keys_byte_for_byte(bws: Workspace) -> None:
    path = write(Path(bws.wt.root) / SETTINGS, USER)
    path.chmod(0o644)
    for backend in ("glm", "kimi", "glm", "kimi"):
        apply.apply_backend(bws.wt, bws.cfg, backend)
        text = _text(bws)
        own, other = (FAKE_KEY, KIMI_KEY) if backend == "glm" else (KIMI_KEY, FAKE_KEY)
        assert own in text and other not in text, backend
        assert "user-own-token-TESTONLY" not in text and "user-own-api-key" not in text
        doc = json.loads(text)
        assert doc["env"]["MY_FLAG"] == "1" and doc["model"] == "claude-sonnet-4-5-20250929"
        assert doc["env"]["ANTHROPIC_MODEL"] == "sonnet"  # the tier of the user's pin
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    result = apply.apply_backend(bws.wt, bws.cfg, "claude")
    assert result.before == "kimi"
    assert path.read_bytes() == USER.encode()
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert apply.read_record(bws.wt) is None


def test_a_key_the_other_backend_does_not_write_comes_back(bws: Workspace) -> None:
    """glm.json sets a key kimi's profile does not (API_TIMEOUT_MS): leaving GLM for
    kimi gives the user's value back; a key both write keeps the user's first value."""
    template = json.loads((Path(bws.wt.root) / ".moai/llm-configs/glm.json").read_text())
    template["env"]["API_TIMEOUT_MS"] = "3000000"
    write(Path(bws.wt.root) / ".moai/llm-configs/glm.json", json.dumps(template))
    write(Path(bws.wt.root) / SETTINGS, '{"env": {"API_TIMEOUT_MS": "5", "MY_FLAG": "1"}}\n')
    apply.apply_backend(bws.wt, bws.cfg, "glm")
    assert settings(Path(bws.wt.root))["env"]["API_TIMEOUT_MS"] == "3000000"
    apply.apply_backend(bws.wt, bws.cfg, "kimi")
    assert settings(Path(bws.wt.root))["env"]["API_TIMEOUT_MS"] == "5"
    apply.apply_backend(bws.wt, bws.cfg, "claude")
    assert _text(bws) == '{"env": {"API_TIMEOUT_MS": "5", "MY_FLAG": "1"}}\n'


def test_an_unknown_backend_is_one_line_and_nothing_is_written(bws: Workspace) -> None:
    with pytest.raises(BadInput) as caught:
        apply.apply_backend(bws.wt, bws.cfg, "nope")
    message = str(caught.value)
    assert "\n" not in message and LLM_YAML in message and "llm.backends" in message
    assert not (Path(bws.wt.root) / SETTINGS).exists() and apply.read_record(bws.wt) is None


def test_a_custom_endpoint_needs_trust_and_each_backend_keeps_its_own(bws: Workspace) -> None:
    repo = bws.wt.main_root
    with pytest.raises(apply.UntrustedUrl) as caught:
        apply.apply_backend(bws.wt, bws.cfg, "lab")
    message = str(caught.value)
    assert "\n" not in message
    assert "llm.yaml" in message and "llm.backends.lab.base_url" in message
    assert LAB_URL in message and "moai trust" in message
    assert not (Path(bws.wt.root) / SETTINGS).exists()

    assert trust.trust(repo, "url", LAB_URL, "lab")
    assert trust.trust(repo, "url", GW_URL, "gw")  # gw's approval leaves lab's in place
    assert trust.is_trusted(repo, "url", LAB_URL, "lab")
    assert not trust.is_trusted(repo, "url", LAB_URL, "gw")  # one backend's URL is not another's
    assert not trust.is_trusted(repo, "url", LAB_URL)  # nor GLM's
    apply.apply_backend(bws.wt, bws.cfg, "lab")
    env = settings(Path(bws.wt.root))["env"]
    assert env["ANTHROPIC_BASE_URL"] == LAB_URL and env["ANTHROPIC_AUTH_TOKEN"] == LAB_KEY
    assert env["CLAUDE_CODE_MAX_CONTEXT_TOKENS"] == "128000"
    apply.apply_backend(bws.wt, bws.cfg, "gw")
    assert settings(Path(bws.wt.root))["env"]["ANTHROPIC_API_KEY"] == GW_KEY
    assert LAB_KEY not in _text(bws)


def test_a_backend_from_the_users_own_file_needs_no_trust(
    bws: Workspace, env: dict[str, str], home: Path
) -> None:
    from tests.gitrepo import LLM_LOCAL_YAML

    write(
        Path(bws.wt.root) / LLM_LOCAL_YAML,
        "llm:\n  backends:\n    mine:\n      base_url: https://mine.example.invalid/a\n"
        "      models: {opus: m, sonnet: m, haiku: m}\n",
    )
    save_backend_key(home, "mine", "sk-fake-mine-TESTONLY-0000", "https://mine.example.invalid/a")
    ws = open_workspace(bws.wt.root, warn=False)
    apply.apply_backend(ws.wt, ws.cfg, "mine")
    assert (
        settings(Path(ws.wt.root))["env"]["ANTHROPIC_BASE_URL"] == "https://mine.example.invalid/a"
    )


def test_another_providers_host_is_not_known_for_a_custom_backend(
    in_repo: Path, env: dict[str, str], home: Path
) -> None:
    """A committed `lab: {base_url: <DeepSeek's endpoint>}` (no preset) sends the key to
    DeepSeek's host under another name: it needs trust like any custom endpoint."""
    use_backends(
        in_repo,
        env,
        SEED_LLM_YAML
        + "  backends:\n    lab:\n      base_url: https://api.deepseek.com/anthropic\n"
        "      models: {opus: a, sonnet: a, haiku: a}\n",
    )
    save_backend_key(home, "lab", LAB_KEY)
    ws = open_workspace(in_repo, warn=False)
    assert not ws.cfg.backends["lab"].url_known
    with pytest.raises(apply.UntrustedUrl):
        apply.apply_backend(ws.wt, ws.cfg, "lab")
    assert not (in_repo / SETTINGS).exists()


def test_a_profiles_env_beyond_routing_waits_for_trust_of_that_backend(
    in_repo: Path, env: dict[str, str], home: Path
) -> None:
    extra = "      env: {API_TIMEOUT_MS: '600000', HTTPS_PROXY: 'http://p.example.invalid:1'}\n"
    use_backends(
        in_repo, env, SEED_LLM_YAML + "  backends:\n    kimi:\n      preset: moonshot\n" + extra
    )
    save_backend_key(home, "kimi", KIMI_KEY)
    ws = open_workspace(in_repo, warn=False)
    result = apply.apply_backend(ws.wt, ws.cfg, "kimi")
    assert result.held == ("HTTPS_PROXY",)
    line = result.held_line
    assert line is not None
    assert "llm.backends.kimi.env" in line and "moai trust" in line and "\n" not in line
    doc_env = settings(in_repo)["env"]
    assert "HTTPS_PROXY" not in doc_env and doc_env["API_TIMEOUT_MS"] == "600000"
    value = json.dumps({"HTTPS_PROXY": "http://p.example.invalid:1"}, sort_keys=True)
    assert not trust.is_trusted(ws.wt.main_root, "env", value, "kimi")
    trust.trust(ws.wt.main_root, "env", value, "kimi")
    assert not trust.is_trusted(ws.wt.main_root, "env", value)  # GLM's env set stays untrusted
    result = apply.apply_backend(ws.wt, ws.cfg, "kimi")
    assert result.held == () and settings(in_repo)["env"]["HTTPS_PROXY"].startswith("http://p.")


def test_helper_mode_gives_kimi_its_own_key_only(
    in_repo: Path, env: dict[str, str], home: Path, keyed_home: str
) -> None:
    use_backends(in_repo, env, TEAM + "  credential_mode: helper\n")
    save_backend_key(home, "kimi", KIMI_KEY)
    ws = open_workspace(in_repo, warn=False)
    apply.apply_backend(ws.wt, ws.cfg, "kimi")
    doc = settings(in_repo)
    assert doc["env"]["ANTHROPIC_AUTH_TOKEN"] == "" and doc["env"]["ANTHROPIC_API_KEY"] == ""
    assert KIMI_KEY not in _text(ws) and FAKE_KEY not in _text(ws)
    command = doc["apiKeyHelper"]
    assert command.endswith(" kimi")
    out = subprocess.run(
        ["/bin/sh", "-c", command], cwd=in_repo, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout == KIMI_KEY + "\n"
    # GLM's helper command names no backend, as moai always wrote it: GLM's key.
    apply.apply_backend(ws.wt, ws.cfg, "glm")
    command = settings(in_repo)["apiKeyHelper"]
    out = subprocess.run(
        ["/bin/sh", "-c", command], cwd=in_repo, env=env, capture_output=True, text=True
    )
    assert out.stdout == FAKE_KEY + "\n"


def test_drift_of_a_backend_is_what_applying_it_now_would_change(
    bws: Workspace, env: dict[str, str]
) -> None:
    apply.apply_backend(bws.wt, bws.cfg, "kimi")
    state = apply.read_state(
        bws.wt, apply.stray_spec(bws.wt, bws.cfg.glm_env_var, bws.cfg.backends)
    )
    assert apply.stale_backend(bws.wt, bws.cfg, state) is None
    use_backends(
        Path(bws.wt.root),
        env,
        SEED_LLM_YAML
        + BACKENDS.replace(
            "kimi: {preset: moonshot}", "kimi: {preset: moonshot, models: {haiku: k-mini}}"
        )
        + ROUTES,
    )
    ws = open_workspace(bws.wt.root, warn=False)
    state = apply.read_state(ws.wt, apply.stray_spec(ws.wt, ws.cfg.glm_env_var, ws.cfg.backends))
    stale = apply.stale_backend(ws.wt, ws.cfg, state)
    assert stale is not None and "env.ANTHROPIC_DEFAULT_HAIKU_MODEL" in stale.keys
    assert stale.fix == "moai apply"
    apply.apply_backend(ws.wt, ws.cfg, "kimi")
    state = apply.read_state(ws.wt, apply.stray_spec(ws.wt, ws.cfg.glm_env_var, ws.cfg.backends))
    assert apply.stale_backend(ws.wt, ws.cfg, state) is None


def test_kimi_state_no_record_owns_is_stray_and_goes_on_the_way_to_claude(
    bws: Workspace,
) -> None:
    """An editor saves the kimi settings back after moai took them out."""
    apply.apply_backend(bws.wt, bws.cfg, "kimi")
    saved = _text(bws)
    apply.apply_backend(bws.wt, bws.cfg, "claude")
    write(Path(bws.wt.root) / SETTINGS, saved)
    spec = apply.stray_spec(bws.wt, bws.cfg.glm_env_var, bws.cfg.backends)
    state = apply.read_state(bws.wt, spec)
    assert state.active == "kimi" and state.stray_backend == "kimi"
    assert ("env", "ANTHROPIC_AUTH_TOKEN") in state.stray
    assert ("env", "ANTHROPIC_BASE_URL") in state.stray
    apply.apply_backend(bws.wt, bws.cfg, "claude")
    assert not (Path(bws.wt.root) / SETTINGS).exists() or KIMI_KEY not in _text(bws)
    assert KIMI_URL not in _text(bws)
    # ...and on the way to GLM it is not recorded as the user's.
    write(Path(bws.wt.root) / SETTINGS, saved)
    apply.apply_backend(bws.wt, bws.cfg, "glm")
    apply.apply_backend(bws.wt, bws.cfg, "claude")
    assert KIMI_KEY not in _text(bws) and KIMI_URL not in _text(bws)


def test_a_hand_written_provider_url_without_the_users_key_is_theirs(bws: Workspace) -> None:
    text = json.dumps({"env": {"ANTHROPIC_BASE_URL": KIMI_URL, "ANTHROPIC_AUTH_TOKEN": "t"}})
    write(Path(bws.wt.root) / SETTINGS, text)
    spec = apply.stray_spec(bws.wt, bws.cfg.glm_env_var, bws.cfg.backends)
    assert apply.read_state(bws.wt, spec).stray == ()
    apply.apply_backend(bws.wt, bws.cfg, "claude")
    assert _text(bws) == text
