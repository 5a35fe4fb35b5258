"""`llm.telemetry` and `moai telemetry settings|env`: opt-in, trusted, labelled, encoded."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from moai_mashup.cost.telemetry import encode_attributes, parse_attributes
from tests.gitrepo import FAKE_KEY, MOAI, git, moai, save_fake_key, write

LLM_YAML = ".moai/config/sections/llm.yaml"
LOCAL_YAML = ".moai/config/sections/llm.local.yaml"
COLLECTOR = "http://collector.internal:4318"


def telemetry_yaml(extra: str = "", endpoint: str = COLLECTOR) -> str:
    return (
        "llm:\n  mode: mashup\n  glm_env_var: GLM_API_TOKEN\n"
        "  telemetry:\n"
        f"    otlp_endpoint: {endpoint}\n"
        "    protocol: http/protobuf\n"
        "    resource_attributes: {team: platform, cost.center: 'R&D 1,2=3'}\n" + extra
    )


def settings_env(cwd: Path, env: dict[str, str]) -> tuple[dict[str, str], str]:
    proc = moai(cwd, "telemetry", "settings", env=env)
    assert proc.returncode == 0, proc.stderr
    doc: dict[str, Any] = json.loads(proc.stdout)
    return dict(doc.get("env", {})), proc.stderr


def commit_llm(repo: Path, env: dict[str, str], text: str) -> None:
    write(repo / LLM_YAML, text)
    git(repo, "commit", "-qam", "telemetry", env=env)


def test_opt_in_and_only_once_the_endpoint_is_trusted(repo: Path, env: dict[str, str]) -> None:
    assert settings_env(repo, env) == ({}, "")  # the seed's llm.yaml: nothing to export
    commit_llm(repo, env, telemetry_yaml())
    got, err = settings_env(repo, env)
    assert got == {} and "not trusted" in err and "moai trust" in err
    listing = moai(repo, "trust", "--list", env=env).stdout
    assert f"needs trust  telemetry {COLLECTOR}" in listing

    assert moai(repo, "trust", "--yes", env=env).returncode == 0
    got, err = settings_env(repo, env)
    assert err == ""
    assert got["CLAUDE_CODE_ENABLE_TELEMETRY"] == "1"
    assert got["OTEL_EXPORTER_OTLP_ENDPOINT"] == COLLECTOR
    assert got["OTEL_EXPORTER_OTLP_PROTOCOL"] == "http/protobuf"
    assert got["OTEL_METRICS_EXPORTER"] == got["OTEL_LOGS_EXPORTER"] == "otlp"
    assert got["OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE"] == "cumulative"
    attrs = parse_attributes(got["OTEL_RESOURCE_ATTRIBUTES"])
    assert {k: v for k, v in attrs.items() if k.startswith("moai.")} == {
        "moai.mode": "mashup",
        "moai.backend": "claude",
        "moai.phase": "plan",
        "moai.spec": "-",
        "moai.repository": "project",
    }

    # A changed endpoint is a new thing to trust (and replaces the old approval).
    commit_llm(repo, env, telemetry_yaml(endpoint=COLLECTOR + "/v2"))
    got, err = settings_env(repo, env)
    assert got == {} and "not trusted" in err


def test_spec_worktree_labels_merged_with_the_users_attributes_encoded(
    repo: Path, env: dict[str, str], home: Path
) -> None:
    commit_llm(repo, env, telemetry_yaml())
    assert moai(repo, "trust", "--yes", env=env).returncode == 0
    save_fake_key(home)
    wt = repo.parent / "wt-auth"
    git(repo, "worktree", "add", "-q", "-b", "feature/SPEC-AUTH-001", str(wt), env=env)
    assert moai(wt, "apply", env=env).returncode == 0  # GLM here, as the table says
    mine = dict(env, OTEL_RESOURCE_ATTRIBUTES="team=mine,who=Ann%20Lee,moai.phase=x")
    got, _err = settings_env(wt, mine)
    raw = got["OTEL_RESOURCE_ATTRIBUTES"]
    assert " " not in raw  # one raw space and Claude Code drops the whole variable
    attrs = parse_attributes(raw)
    assert attrs["moai.backend"] == "glm" and attrs["moai.phase"] == "run"
    assert attrs["moai.spec"] == "SPEC-AUTH-001"
    assert attrs["who"] == "Ann Lee"  # the user's own, kept
    assert attrs["team"] == "platform"  # the team's over the user's
    assert attrs["cost.center"] == "R&D 1,2=3"  # commas and '=' survive the encoding
    assert FAKE_KEY not in json.dumps(got)

    # ~/.claude/settings.json's OTEL_RESOURCE_ATTRIBUTES is the one Claude Code would use
    # (it beats the environment), so that is the one merged.
    write(
        home / ".claude/settings.json",
        json.dumps({"env": {"OTEL_RESOURCE_ATTRIBUTES": "dept=ops"}}),
    )
    attrs = parse_attributes(settings_env(wt, mine)[0]["OTEL_RESOURCE_ATTRIBUTES"])
    assert attrs["dept"] == "ops" and "who" not in attrs

    # `moai route` wrote sync into the phase record: the label follows it.
    route = moai(wt, "route", "sync", "SPEC-AUTH-001", "--apply", env=env)
    assert route.returncode == 0, route.stderr
    attrs = parse_attributes(settings_env(wt, env)[0]["OTEL_RESOURCE_ATTRIBUTES"])
    assert attrs["moai.phase"] == "sync"

    shell = moai(wt, "telemetry", "env", env=env)
    assert shell.returncode == 0, shell.stderr
    assert f"export OTEL_EXPORTER_OTLP_ENDPOINT={COLLECTOR}" in shell.stdout.splitlines()


def test_a_developer_may_turn_it_off_unless_the_team_locks_it(
    repo: Path, env: dict[str, str]
) -> None:
    commit_llm(repo, env, telemetry_yaml())
    assert moai(repo, "trust", "--yes", env=env).returncode == 0
    write(repo / LOCAL_YAML, "llm:\n  telemetry:\n    enabled: false\n")
    assert settings_env(repo, env)[0] == {}

    commit_llm(repo, env, telemetry_yaml("  policy:\n    locked: [telemetry]\n"))
    proc = moai(repo, "telemetry", "env", env=env)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and LOCAL_YAML in proc.stderr and "locked" in proc.stderr
    # The launcher still gets valid JSON, so Claude Code starts (without telemetry).
    launch = moai(repo, "telemetry", "settings", env=env)
    assert launch.returncode == 2 and launch.stdout == "{}\n"


@pytest.mark.parametrize(
    ("block", "expect"),
    [
        ("    otlp_endpont: http://x:4318\n", "llm.telemetry.otlp_endpont: unknown key"),
        ("    protocol: grpcc\n", "llm.telemetry.protocol: must be one of"),
        ("    otlp_endpoint: file:///etc/passwd\n", "llm.telemetry.otlp_endpoint"),
        ("    otlp_endpoint: http://user@evil.example:4318\n", "llm.telemetry.otlp_endpoint"),
        ("    otlp_endpoint: 'http://a b:4318'\n", "llm.telemetry.otlp_endpoint"),
        ("    resource_attributes: {team: 5}\n", "llm.telemetry.resource_attributes.team"),
        ("    resource_attributes: {a b: c}\n", "key 'a b': use letters"),
    ],
)
def test_hostile_or_wrong_values(repo: Path, env: dict[str, str], block: str, expect: str) -> None:
    commit_llm(repo, env, "llm:\n  mode: mashup\n  telemetry:\n" + block)
    proc = moai(repo, "telemetry", "env", env=env)
    assert expect in proc.stderr
    if "unknown key" in expect:
        assert proc.returncode == 0 and "did you mean 'otlp_endpoint'" in proc.stderr
    else:
        assert proc.returncode == 2 and proc.stderr.count("\n") == 1


def test_outside_a_repository_the_launcher_is_a_no_op(tmp_path: Path, env: dict[str, str]) -> None:
    proc = moai(tmp_path, "telemetry", "settings", env=env)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "{}\n", "")


def test_encoding_round_trip() -> None:
    attrs = {"a.b": "c,d=e%f g", "moai.spec": "SPEC-1", "x": "ß"}
    text = encode_attributes(attrs)
    assert " " not in text and text.count(",") == 2 and text.count("=") == 3
    assert parse_attributes(text) == attrs
    assert parse_attributes("bad,=x,k=v,a b=c") == {"k": "v"}


def test_the_readme_launcher_passes_the_settings_to_claude(
    repo: Path, env: dict[str, str], tmp_path: Path
) -> None:
    """docs/cost.md's `claude()` shell function, run by bash with a stand-in `claude`."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "cost.md").read_text(encoding="utf-8")
    line = next(ln.strip() for ln in doc.splitlines() if ln.strip().startswith("claude() {"))
    commit_llm(repo, env, telemetry_yaml())
    assert moai(repo, "trust", "--yes", env=env).returncode == 0
    bindir = tmp_path / "bin"
    stand_in = write(
        bindir / "claude",
        "#!/usr/bin/env python3\nimport json, sys\nprint(json.dumps(sys.argv[1:]))\n",
    )
    stand_in.chmod(0o755)
    path = os.pathsep.join([str(bindir), str(Path(MOAI).parent), env["PATH"]])
    proc = subprocess.run(
        ["bash", "-c", f"{line}\nclaude -p 'say hi'"],
        cwd=repo,
        env=dict(env, PATH=path),
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    argv = json.loads(proc.stdout)
    assert argv[0] == "--settings" and argv[2:] == ["-p", "say hi"]
    assert json.loads(argv[1])["env"]["OTEL_EXPORTER_OTLP_ENDPOINT"] == COLLECTOR


def test_the_backend_label_is_the_backends_name(repo: Path, env: dict[str, str]) -> None:
    """A worktree whose settings moai put on the configured backend `ds` exports
    `moai.backend=ds` (the name `moai cost --by backend` shows), not its family."""
    from moai_mashup.core.backends import PRESETS
    from tests.costkit import put_on_backend

    commit_llm(repo, env, telemetry_yaml())
    assert moai(repo, "trust", "--yes", env=env).returncode == 0
    wt = repo.parent / "wt-ds"
    git(repo, "worktree", "add", "-q", "-b", "feature/SPEC-DS-001", str(wt), env=env)
    preset = PRESETS["deepseek"]
    put_on_backend(wt, env, "ds", preset.base_url, preset.models)
    attrs = parse_attributes(settings_env(wt, env)[0]["OTEL_RESOURCE_ATTRIBUTES"])
    assert attrs["moai.backend"] == "ds"
    assert attrs["moai.spec"] == "SPEC-DS-001" and attrs["moai.phase"] == "run"


def _spec_worktree_on_glm(repo: Path, env: dict[str, str], home: Path) -> Path:
    commit_llm(repo, env, telemetry_yaml())
    assert moai(repo, "trust", "--yes", env=env).returncode == 0
    save_fake_key(home)
    wt = repo.parent / "wt-auth"
    git(repo, "worktree", "add", "-q", "-b", "feature/SPEC-AUTH-001", str(wt), env=env)
    assert moai(wt, "apply", env=env).returncode == 0  # GLM here, as the table says
    return wt


def test_the_phase_label_is_the_last_mark_of_this_spec(
    repo: Path, env: dict[str, str], home: Path
) -> None:
    """The phase record (cost/phase_record.py: appended by `moai route` or any tool
    that knows): its last line decides, when it names this worktree's SPEC."""
    wt = _spec_worktree_on_glm(repo, env, home)
    record = Path(git(wt, "rev-parse", "--absolute-git-dir", env=env).strip()) / "moai" / "phase"
    record.parent.mkdir(parents=True, exist_ok=True)

    def phase(*marks: tuple[str, str | None]) -> str:
        lines = [
            json.dumps({"at": f"2026-12-0{i + 1}T10:00:00Z", "phase": p, "spec": s})
            for i, (p, s) in enumerate(marks)
        ]
        record.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        attrs = parse_attributes(settings_env(wt, env)[0]["OTEL_RESOURCE_ATTRIBUTES"])
        return attrs["moai.phase"]

    assert phase(("plan", "SPEC-OLD-1"), ("sync", "SPEC-AUTH-001")) == "sync"
    assert phase(("plan", "SPEC-AUTH-001"), ("sync", None)) == "sync"
    assert phase(("sync", "SPEC-AUTH-001"), ("plan", "SPEC-OLD-1")) == "run"  # another SPEC's


def test_settings_moai_cannot_read_or_only_partly_its_own_label_the_tables_backend(
    repo: Path, env: dict[str, str], home: Path
) -> None:
    wt = _spec_worktree_on_glm(repo, env, home)
    settings_path = wt / ".claude" / "settings.local.json"

    def backend() -> str:
        attrs = parse_attributes(settings_env(wt, env)[0]["OTEL_RESOURCE_ATTRIBUTES"])
        return attrs["moai.backend"]

    assert backend() == "glm"
    # A model key of moai's edited by hand: the file is only partly moai's ("mixed").
    doc = json.loads(settings_path.read_text(encoding="utf-8"))
    doc["env"]["ANTHROPIC_DEFAULT_OPUS_MODEL"] = "my-own-model"
    write(settings_path, json.dumps(doc))
    assert json.loads(moai(wt, "status", "--json", env=env).stdout)["active_backend"] == "mixed"
    assert backend() == "glm"
    # Not JSON at all: still the table's backend, and the export goes on.
    write(settings_path, "{not json\n")
    assert backend() == "glm"
    git(wt, "checkout", "-q", "-b", "other-work", env=env)  # the table: Claude here
    assert backend() == "claude"
