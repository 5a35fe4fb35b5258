"""The files `moai init` writes: `llm.yaml`, the GLM template, two `.gitignore` lines.

Each is created only when missing; nothing here overwrites a file the team or
the user wrote (`moai init` and `moai demo` both start here).
"""

from __future__ import annotations

import json
from pathlib import Path

from moai_mashup import git
from moai_mashup.config import GLM_JSON, LLM_LOCAL_YAML, LLM_YAML
from moai_mashup.core.glm_template import DEFAULT_TEMPLATE
from moai_mashup.paths import SETTINGS_REL

LLM_YAML_TEXT = """\
# moai-mashup: which LLM backend each phase and branch gets.
# Docs: mode table in the moai-mashup README. Personal overrides go in
# llm.local.yaml (ignored by git); the policy block below is the team's.
llm:
  mode: {mode}{pad}# claude-only | mashup | glm-only
  glm_env_var: GLM_API_KEY
  auto_worktree:
    enabled: true
    copy_glm_config: true
  default_branch: {default_branch}
  spec_branch_pattern: "feature/SPEC-*"
  credential_mode: inline  # inline | helper (key fetched on demand, never stored in the worktree)
  worktree:
    root: "~/worktrees/{{project}}"
  policy:
    locked: []
    enforce_locations: false
    require_backend_match: false
    commit_trailer: false
"""

GITIGNORE_LINES = ("/" + str(LLM_LOCAL_YAML), "/" + SETTINGS_REL)


def _default_branch(wt: git.Worktree) -> str:
    """The repository's trunk, not merely the branch `moai init` happens to run on."""
    remote_head = git.run(
        ["symbolic-ref", "-q", "--short", "refs/remotes/origin/HEAD"], wt.root, check=False
    ).stdout.strip()
    if remote_head.startswith("origin/"):
        return remote_head[len("origin/") :]
    if wt.branch in ("main", "master"):
        return wt.branch
    for name in ("main", "master"):
        ref = git.run(["rev-parse", "-q", "--verify", f"refs/heads/{name}"], wt.root, check=False)
        if ref.returncode == 0:
            return name
    return "main"


def init_files(wt: git.Worktree, mode: str = "mashup") -> list[Path]:
    """Create what is missing; never overwrite. Returns the files written."""
    written: list[Path] = []
    llm = wt.root / LLM_YAML
    if not llm.exists():
        llm.parent.mkdir(parents=True, exist_ok=True)
        text = LLM_YAML_TEXT.format(
            mode=mode,
            pad=" " * max(1, 18 - len(mode)),
            default_branch=json.dumps(_default_branch(wt)),
        )
        llm.write_text(text, encoding="utf-8")
        written.append(llm)
    glm = wt.root / GLM_JSON
    if not glm.exists():
        glm.parent.mkdir(parents=True, exist_ok=True)
        glm.write_text(json.dumps(DEFAULT_TEMPLATE, indent=2) + "\n", encoding="utf-8")
        written.append(glm)
    gitignore = wt.root / ".gitignore"
    missing = [p for p in GITIGNORE_LINES if not git.is_ignored(wt.root, p.lstrip("/"))]
    if missing:
        existing = gitignore.read_text(encoding="utf-8") if gitignore.exists() else ""
        sep = "" if not existing or existing.endswith("\n") else "\n"
        block = "# moai-mashup: per-developer files, never committed\n" + "\n".join(missing)
        gitignore.write_text(existing + sep + block + "\n", encoding="utf-8")
        written.append(gitignore)
    return written
