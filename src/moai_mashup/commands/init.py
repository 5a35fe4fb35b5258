"""`moai init`: write the team config files if they are absent."""

from __future__ import annotations

import json
from pathlib import Path

import click

from moai_mashup import git
from moai_mashup.config import GLM_JSON, LLM_LOCAL_YAML, LLM_YAML
from moai_mashup.core.glm_template import DEFAULT_TEMPLATE

LLM_YAML_TEXT = """\
# moai-mashup: which LLM backend each phase and branch gets.
# Docs: mode table in the moai-mashup README. Personal overrides go in
# llm.local.yaml (ignored by git); the policy block below is the team's.
llm:
  mode: mashup            # claude-only | mashup | glm-only
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

GITIGNORE_LINES = ("/" + str(LLM_LOCAL_YAML), "/.claude/settings.local.json")


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


def init_files(wt: git.Worktree) -> list[Path]:
    """Create what is missing; never overwrite. Returns the files written."""
    written: list[Path] = []
    llm = wt.root / LLM_YAML
    if not llm.exists():
        llm.parent.mkdir(parents=True, exist_ok=True)
        text = LLM_YAML_TEXT.format(default_branch=json.dumps(_default_branch(wt)))
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


@click.command("init")
@click.option("--hooks", is_flag=True, help="Also install the git hooks (moai hooks install).")
@click.option(
    "--claude-commands",
    is_flag=True,
    help="Also write .claude/commands/moai/{1-plan,2-run,3-sync}.md (they call moai route).",
)
def command(hooks: bool, claude_commands: bool) -> None:
    """Write .moai/config/sections/llm.yaml and .moai/llm-configs/glm.json if absent."""
    wt = git.discover(Path.cwd())
    written = init_files(wt)
    for path in written:
        click.echo(f"wrote {path.relative_to(wt.root)}")
    if not written:
        click.echo("nothing to do: config files already present")
    if hooks:
        from moai_mashup import hook_install

        for line in hook_install.install(wt):
            click.echo(line)
        from moai_mashup.commands.hooks import apply_here

        apply_here(wt)
    if claude_commands:
        from moai_mashup.claude_commands import write_claude_commands

        for path, state in write_claude_commands(wt.root):
            rel = path.relative_to(wt.root)
            note = " (yours differs; delete it to get moai's)" if state == "kept" else ""
            click.echo(f"{state} {rel}{note}")
