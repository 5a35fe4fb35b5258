"""Transcripts for `moai cost` tests: the real CLI's fixtures, re-homed, and generated ones."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from moai_mashup.core.settings_plan import ABSENT, Entry, OwnershipRecord, fingerprint
from moai_mashup.cost.transcripts import encode_project_path
from moai_mashup.paths import RECORD_NAME, SETTINGS_REL
from tests.core_fixtures import make_private_folder
from tests.gitrepo import git, make_repo

FIXTURES = Path(__file__).parent / "fixtures" / "transcripts"
# The paths Claude Code ran in when the fixtures were recorded (scrubbed to /home/user/...).
FIXTURE_MAIN = "/home/user/project"
FIXTURE_WT = "/home/user/worktrees/project/SPEC-AUTH-001"
SPEC = "SPEC-AUTH-001"
BRANCH = "feature/SPEC-AUTH-001"


def projects(home: Path) -> Path:
    return home / ".claude" / "projects"


def install_fixtures(home: Path, main: Path, wt: Path, id_prefix: str = "") -> None:
    """Copy the recorded transcripts into `home`, as if Claude Code had run in `main` and `wt`.

    `id_prefix` makes message and request ids distinct from another copy's.
    """
    for src in sorted(FIXTURES.rglob("*")):
        if not src.is_file():
            continue
        rel = src.relative_to(FIXTURES)
        folder, rest = rel.parts[0], Path(*rel.parts[1:])
        if folder == encode_project_path(FIXTURE_WT):
            folder = encode_project_path(str(wt))
        elif folder == encode_project_path(FIXTURE_MAIN):
            folder = encode_project_path(str(main))
        dest = projects(home) / folder / rest
        dest.parent.mkdir(parents=True, exist_ok=True)
        text = src.read_text(encoding="utf-8")
        text = text.replace(FIXTURE_WT, str(wt)).replace(FIXTURE_MAIN, str(main))
        if id_prefix:
            text = text.replace('"msg_', f'"msg_{id_prefix}').replace('"req_', f'"req_{id_prefix}')
        dest.write_text(text, encoding="utf-8")


def repo_with_worktree(
    tmp: Path, env: dict[str, str], llm_yaml: str | None = None
) -> tuple[Path, Path]:
    """`<tmp>/project` on main and a linked worktree `<tmp>/worktrees/project/SPEC-AUTH-001`."""
    kwargs: dict[str, Any] = {}
    if llm_yaml is not None:
        kwargs["llm_yaml"] = llm_yaml
    main = make_repo(tmp / "project", env, **kwargs)
    wt = tmp / "worktrees" / "project" / SPEC
    git(main, "worktree", "add", "-q", "-b", BRANCH, str(wt), env=env)
    return main, wt


def assistant(
    *,
    cwd: Path,
    branch: str | None,
    msg_id: str,
    request_id: str | None = None,
    model: str = "claude-sonnet-4-6",
    ts: str = "2026-11-20T10:00:00.000Z",
    session: str = "s-1",
    tokens: tuple[int, int, int, int] = (100, 10, 0, 0),
) -> dict[str, Any]:
    """An assistant record shaped like Claude Code 2.1.112's (see the fixtures)."""
    inp, out, cw, cr = tokens
    rec: dict[str, Any] = {
        "parentUuid": None,
        "isSidechain": False,
        "message": {
            "id": msg_id,
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [{"type": "text", "text": f"answer {msg_id}"}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {
                "input_tokens": inp,
                "cache_creation_input_tokens": cw,
                "cache_read_input_tokens": cr,
                "output_tokens": out,
                "service_tier": "standard",
            },
        },
        "requestId": request_id or f"req_{msg_id}",
        "type": "assistant",
        "uuid": f"u-{msg_id}-{ts}",
        "timestamp": ts,
        "userType": "external",
        "cwd": str(cwd),
        "sessionId": session,
        "version": "2.1.112",
    }
    if branch is not None:
        rec["gitBranch"] = branch
    return rec


def user_command(
    *, cwd: Path, branch: str, name: str, args: str, session: str = "s-1", ts: str = ""
) -> dict[str, Any]:
    content = (
        f"<command-message>{name.lstrip('/')}</command-message>\n"
        f"<command-name>{name}</command-name>\n<command-args>{args}</command-args>"
    )
    return {
        "parentUuid": None,
        "isSidechain": False,
        "type": "user",
        "message": {"role": "user", "content": content},
        "uuid": f"cmd-{name}-{ts}",
        "timestamp": ts or "2026-11-20T09:59:00.000Z",
        "cwd": str(cwd),
        "sessionId": session,
        "version": "2.1.112",
        "gitBranch": branch,
    }


def write_session(home: Path, cwd: Path, name: str, lines: list[Any]) -> Path:
    """Write a session file for `cwd`; str items are written verbatim (malformed lines)."""
    path = projects(home) / encode_project_path(str(cwd)) / f"{name}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for item in lines:
            fh.write(item if isinstance(item, str) else json.dumps(item) + "\n")
    return path


def cost_json(proc: Any) -> dict[str, Any]:
    assert proc.returncode == 0, proc.stderr
    data: dict[str, Any] = json.loads(proc.stdout)
    return data


def row(data: dict[str, Any], key: str) -> dict[str, Any]:
    by = data["by"]
    for r in data["rows"]:
        if r[by] == key:
            return dict(r)
    raise AssertionError(f"no row {key!r} in {[r[by] for r in data['rows']]}")


def put_on_backend(
    wt: Path, env: dict[str, str], backend: str, base_url: str, models: dict[str, str]
) -> None:
    """The worktree's settings on `backend`, as settings/apply.py leaves them: the env
    block in `.claude/settings.local.json` and moai's ownership record naming the backend
    (its serializer, core/settings_plan.py); no key (the report never reads it)."""
    block = {
        "ANTHROPIC_BASE_URL": base_url,
        **{f"ANTHROPIC_DEFAULT_{tier.upper()}_MODEL": m for tier, m in models.items()},
    }
    settings = wt / SETTINGS_REL
    settings.parent.mkdir(parents=True, exist_ok=True)
    settings.write_text(json.dumps({"env": block}, indent=2) + "\n", encoding="utf-8")
    entries = tuple(Entry(("env", k), fingerprint(v), ABSENT) for k, v in block.items())
    record = OwnershipRecord(backend, entries, True, False, None)
    folder = make_private_folder(wt, env)  # where apply keeps it (settings/private.py)
    (folder / RECORD_NAME).write_text(json.dumps(record.to_json()), encoding="utf-8")


def copy_tree(src: Path, dest: Path) -> None:
    shutil.copytree(src, dest, dirs_exist_ok=True)
