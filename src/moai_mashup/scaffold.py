"""The files `moai init` writes: `llm.yaml`, the GLM template, two `.gitignore` lines.

Each is created only when missing; nothing here overwrites a file the team or
the user wrote (`moai init` and `moai demo` both start here).
"""

from __future__ import annotations

import os
from pathlib import Path

from moai_mashup import files, git, jsontext
from moai_mashup.config import GLM_JSON, LLM_LOCAL_YAML, LLM_YAML
from moai_mashup.core.glm_template import DEFAULT_TEMPLATE
from moai_mashup.errors import BadInput, MoaiError
from moai_mashup.limits import MAX_CONFIG_BYTES
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
  spec_branch_pattern: "{spec_pattern}"
  credential_mode: inline  # inline | helper (key fetched on demand, never stored in the worktree)
  worktree:
    root: "~/worktrees/{{project}}"
  policy:
    locked: []
    enforce_locations: false
    require_backend_match: false
    commit_trailer: false
"""

# `moai init --backend NAME` (a preset): the backend, and the routes that put it where
# the mode puts GLM (docs/configuration.md, "moai init --backend").
BACKEND_TEXT = """\
  backends:
    {name}: {{preset: {name}}}  # the provider's endpoint and models (docs/backends.md)
  routes:  # first match wins (docs/configuration.md)
{routes}"""
ROUTE_TEXT = "    - {{branch: {glob}, backend: {backend}}}\n"


def backend_routes(mode: str, name: str, pattern: str) -> list[tuple[str, str]]:
    """Where `moai init --backend NAME` sends each branch: the SPEC branches to NAME
    and every other branch to Claude in mashup; every branch to NAME in glm-only
    (NAME takes GLM's place in the mode)."""
    if mode == "glm-only":
        return [("*", name)]
    return [(pattern, name), ("*", "claude")]


SPEC_PATTERN = "feature/SPEC-*"
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


def with_fix(exc: MoaiError) -> MoaiError:
    """`exc`, saying how to let moai write when a folder is linked outside (the
    refusal of a linked file already says it)."""
    if ": its folder is a link" not in str(exc):
        return exc
    return BadInput(f"{exc} (replace the linked folder with a real one to let moai write there)")


def writable(root: Path, rel: str) -> str:
    """Where writing `root/rel` lands: the file, or a link's target inside `root`.

    BadInput, one line naming the file and the fix, when the file or one of
    its folders is a link leading outside the repository (a committed
    `.gitignore -> ../.gitconfig`, `.claude -> ~/elsewhere`): moai writes only
    inside it.
    """
    try:
        return files.write_target(root / rel, root, rel)
    except BadInput as exc:
        raise with_fix(exc) from None


def _mode(dest: str) -> int:
    try:
        return os.stat(dest).st_mode & 0o777
    except FileNotFoundError:
        return 0o644  # the team's files: readable by all, like a checkout's


def _write(root: Path, rel: str, dest: str, text: str) -> None:
    files.make_dirs(os.path.dirname(dest), within=root)
    files.write_text(root / rel, text, _mode(dest), within=root, label=rel)


def init_files(
    wt: git.Worktree, mode: str = "mashup", backend: str | None = None, *, template: bool = True
) -> list[Path]:
    """Create what is missing; never overwrite. Returns the files written.

    `backend`: a preset's name (`moai init --backend NAME`): a new llm.yaml
    defines it and routes to it (`backend_routes`), and no GLM template is
    written; `template=False`: no GLM template either. Where each write lands is
    checked before anything is written: a file or folder linked outside the
    repository stops them all (BadInput)."""
    root = Path(wt.root)
    llm, glm = writable(root, LLM_YAML), writable(root, GLM_JSON)
    missing = [p for p in GITIGNORE_LINES if not git.is_ignored(root, p.lstrip("/"))]
    gitignore = writable(root, ".gitignore") if missing else ""
    written: list[Path] = []
    if not os.path.exists(llm):
        text = LLM_YAML_TEXT.format(
            mode=mode,
            pad=" " * max(1, 18 - len(mode)),
            default_branch=jsontext.dumps(_default_branch(wt)),
            spec_pattern=SPEC_PATTERN,
        )
        if backend is not None:
            routes = backend_routes(mode, backend, SPEC_PATTERN)
            text += BACKEND_TEXT.format(
                name=backend,
                routes="".join(
                    ROUTE_TEXT.format(glob=jsontext.dumps(g), backend=b) for g, b in routes
                ),
            )
        _write(root, LLM_YAML, llm, text)
        written.append(root / LLM_YAML)
    if template and backend is None and not os.path.exists(glm):
        _write(root, GLM_JSON, glm, jsontext.dumps(DEFAULT_TEMPLATE, indent=2) + "\n")
        written.append(root / GLM_JSON)
    if missing:
        existing = files.read_text(gitignore, MAX_CONFIG_BYTES, ".gitignore", within=root) or ""
        sep = "" if not existing or existing.endswith("\n") else "\n"
        block = "# moai-mashup: per-developer files, never committed\n" + "\n".join(missing)
        _write(root, ".gitignore", gitignore, existing + sep + block + "\n")
        written.append(root / ".gitignore")
    return written
