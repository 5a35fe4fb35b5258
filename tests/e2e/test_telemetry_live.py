"""The real Claude Code exports labelled usage to a local OTLP receiver, main and SPEC worktree.

Claude Code is started as docs/cost.md says, `claude --settings "$(moai telemetry
settings)"`, with the telemetry collector committed in llm.yaml and trusted.
Each location's fake backend answers with its own token counts, so the counts
in `claude_code.token.usage` show which session they came from; the labels must
say the same. Runs on every pinned `claude_bin` (2.1.197 and 2.1.332; 2.1.112
passed too before the matrix replaced it); see moai_mashup/cost/telemetry.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from moai_mashup.cost.pricing import strip_suffix
from tests.e2e import claude_cli
from tests.e2e.conftest import GLM_MODELS, Stage, StageFactory, e2e_llm_yaml
from tests.e2e.otlp_receiver import OtlpReceiver
from tests.gitrepo import FAKE_KEY, git, write

LLM_YAML = ".moai/config/sections/llm.yaml"
CLAUDE_USAGE = {
    "input_tokens": 111,
    "output_tokens": 22,
    "cache_creation_input_tokens": 333,
    "cache_read_input_tokens": 444,
}
GLM_USAGE = {
    "input_tokens": 555,
    "output_tokens": 66,
    "cache_creation_input_tokens": 777,
    "cache_read_input_tokens": 888,
}
TYPES = {
    "input": "input_tokens",
    "output": "output_tokens",
    "cacheCreation": "cache_creation_input_tokens",
    "cacheRead": "cache_read_input_tokens",
}


def run_with_telemetry(stage: Stage, cwd: Path) -> dict[str, Any]:
    settings = stage.run_moai(cwd, "telemetry", "settings").stdout.strip()
    assert FAKE_KEY not in settings
    env_block = json.loads(settings)["env"]
    argv = claude_cli.claude_argv(stage.claude_bin, None, "say hi")
    argv[-1:-1] = ["--settings", settings]
    import subprocess

    proc = subprocess.Popen(
        argv,
        cwd=cwd,
        env=stage.claude_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    reply = claude_cli.finish(proc)
    assert reply.ok, reply
    block: dict[str, Any] = env_block
    return block


def test_sessions_export_their_location_labels_and_token_counts(
    make_stage: StageFactory,
) -> None:
    stage = make_stage()
    stage.claude.usage = dict(CLAUDE_USAGE)
    stage.glm.usage = dict(GLM_USAGE)
    with OtlpReceiver() as otlp:
        llm = e2e_llm_yaml() + (
            "  telemetry:\n"
            f"    otlp_endpoint: {otlp.url}\n"
            "    protocol: http/protobuf\n"
            "    resource_attributes: {team: platform, cost.centre: 'R&D 7, ops=1'}\n"
        )
        write(stage.repo / LLM_YAML, llm)
        git(stage.repo, "commit", "-qam", "team telemetry", env=stage.env)
        stage.run_moai(stage.repo, "trust", "--yes")
        wt = stage.worktree_add(stage.repo.parent / "SPEC-AUTH-001", "feature/SPEC-AUTH-001")

        seen: dict[str, dict[str, Any]] = {}
        for where, cwd, usage in (("main", stage.repo, CLAUDE_USAGE), ("spec", wt, GLM_USAGE)):
            otlp.clear()
            stage.claude.clear()
            stage.glm.clear()
            run_with_telemetry(stage, cwd)
            served = stage.claude.messages() if where == "main" else stage.glm.messages()
            assert len(served) == 1, (where, stage.claude.messages(), stage.glm.messages())
            points = [p for p in otlp.points() if p.metric == "claude_code.token.usage"]
            assert points, (where, otlp.bodies)
            assert otlp.content_types() == {"application/x-protobuf"}
            labels = {k: v for k, v in points[0].resource.items() if k.startswith("moai.")}
            assert all(
                {k: v for k, v in p.resource.items() if k.startswith("moai.")} == labels
                for p in points
            )
            assert points[0].resource["team"] == "platform"
            assert points[0].resource["cost.centre"] == "R&D 7, ops=1"  # encoded, then decoded
            assert points[0].resource["service.name"] == "claude-code"
            # 2.1.332 also copies resource attributes onto each point (2.1.112 does not:
            # the collector's resource_to_telemetry_conversion makes them labels).
            assert (
                points[0].attributes.get("moai.phase", labels["moai.phase"])
                == (labels["moai.phase"])
            )
            assert {p.temporality for p in points} == {2}  # cumulative, as moai asks
            by_type = {t: sum(p.value for p in points if p.attributes["type"] == t) for t in TYPES}
            assert by_type == {t: float(usage[f]) for t, f in TYPES.items()}, where
            models = {p.attributes["model"] for p in points}
            events = [e for e in otlp.events() if e.attributes.get("event.name") == "api_request"]
            assert len(events) == 1
            assert events[0].resource["moai.spec"] == labels["moai.spec"]
            assert int(events[0].attributes["input_tokens"]) == usage["input_tokens"]
            seen[where] = {"labels": labels, "models": models}

    main, spec = seen["main"], seen["spec"]
    assert main["labels"] == {
        "moai.mode": "mashup",
        "moai.backend": "claude",
        "moai.phase": "plan",
        "moai.spec": "-",
        "moai.repository": "project",
    }
    assert spec["labels"] == {
        "moai.mode": "mashup",
        "moai.backend": "glm",
        "moai.phase": "run",
        "moai.spec": "SPEC-AUTH-001",
        "moai.repository": "project",
    }
    assert all(m.startswith("claude-") for m in main["models"]), main
    # 2.1.197 and 2.1.332 report the GLM model as `glm-4.7[1m]` (2.1.112: `glm-4.6`, the
    # sonnet tier's); the Prometheus rules strip the suffix as `moai cost` does.
    assert {strip_suffix(m) for m in spec["models"]} <= set(GLM_MODELS.values()), spec


def test_why_not_the_settings_files(make_stage: StageFactory) -> None:
    """The measurement behind `--settings`: telemetry variables in a worktree's own
    `.claude/settings.local.json` turn export on in 2.1.197 and are ignored by 2.1.332
    ("A project's settings files can only turn telemetry off")."""
    stage = make_stage()
    with OtlpReceiver() as otlp:
        env_block = {
            "CLAUDE_CODE_ENABLE_TELEMETRY": "1",
            "OTEL_METRICS_EXPORTER": "otlp",
            "OTEL_LOGS_EXPORTER": "otlp",
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            "OTEL_EXPORTER_OTLP_ENDPOINT": otlp.url,
            "OTEL_RESOURCE_ATTRIBUTES": "moai.phase=plan",
        }
        write(stage.repo / ".claude/settings.local.json", json.dumps({"env": env_block}))
        reply = claude_cli.run_claude(stage.claude_bin, stage.repo, stage.claude_env())
        assert reply.ok, reply
        version = tuple(int(x) for x in stage.claude_version.split("."))
        exported = any(p.metric == "claude_code.token.usage" for p in otlp.points())
        assert exported == (version < (2, 1, 332)), stage.claude_version
