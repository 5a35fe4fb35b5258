"""Install, remove and inspect moai's git hook shims (`moai hooks ...`).

Hooks go where git will run them: `git rev-parse --git-path hooks`, which is
the common git dir's `hooks/` (so every linked worktree gets them) or
`core.hooksPath` when that is set. A hook that is already there and is not
ours is moved to `<hook>.pre-moai` and run first by our shim (as pre-commit
does with `<hook>.legacy`); uninstall moves it back, byte for byte (a rename
keeps even its mtime). Under the pre-commit framework's own script the shim
takes pre-commit's `<hook>.legacy` slot instead (_placement).
"""

from __future__ import annotations

import os
import shlex
import site
import sys
from pathlib import Path
from typing import NamedTuple

from moai_mashup import files, git
from moai_mashup.errors import BadInput, MoaiError, Refused

MARKER = "# moai-mashup-hook "
# post-checkout routes the backend; pre-commit is the always-on guard (and the
# team policy); the two message hooks add the LLM-Backend trailer when the
# policy asks for it (a no-op otherwise, so a later policy change needs no reinstall).
DEFAULT_HOOK_TYPES: tuple[str, ...] = (
    "post-checkout",
    "post-rewrite",  # `git rebase <upstream> <branch>` ends on <branch> without post-checkout
    "post-merge",  # a merge or pull can change glm.json (or llm.yaml) under the settings
    "pre-commit",
    "prepare-commit-msg",
    "commit-msg",
)
# Hook types whose stdin the shim can leave to a legacy hook (moai reads none):
# git gives them no stdin, or, for post-rewrite, a list only a legacy hook reads.
SUPPORTED_HOOK_TYPES: tuple[str, ...] = (
    "post-checkout",
    "post-rewrite",
    "pre-commit",
    "prepare-commit-msg",
    "commit-msg",
    "post-commit",
    "post-merge",
)


class HooksDir(NamedTuple):
    path: Path
    hooks_path: str | None  # core.hooksPath as configured, when set
    origin: str | None  # where it is set (`git config --show-origin`)


class HookState(NamedTuple):
    hook_type: str
    path: Path
    state: str  # "ours", "foreign" or "absent"
    legacy: bool  # a chained `<hook>.legacy` is there
    python: str | None  # the interpreter our shim records
    python_ok: bool  # ...and it still exists
    current: bool  # our shim is what this moai would write now


def hooks_dir(wt: git.Worktree, *, per_worktree_ok: bool = False) -> HooksDir:
    """Where git looks for hooks in this worktree.

    A relative core.hooksPath is resolved by git inside each worktree: fine to
    inspect (`per_worktree_ok`), refused for installing.
    """
    proc = git.run(["config", "--show-origin", "--get", "core.hooksPath"], wt.root, check=False)
    if proc.returncode == 0 and proc.stdout.strip():
        origin, _, value = proc.stdout.rstrip("\n").partition("\t")
        expanded = os.path.expanduser(value)
        if not os.path.isabs(expanded):
            if per_worktree_ok:
                return HooksDir(Path(wt.root) / expanded, value, origin)
            raise Refused(
                f"core.hooksPath is '{value}' ({origin}): a relative path is resolved inside "
                "each worktree, so a hook installed here would not run in the others; add "
                '`moai hook-impl post-checkout "$@"` to that hook manager\'s post-checkout '
                "script, or set an absolute core.hooksPath and rerun"
            )
        return HooksDir(Path(expanded), value, origin)
    path = Path(git.out(["rev-parse", "--path-format=absolute", "--git-path", "hooks"], wt.root))
    return HooksDir(path, None, None)


def _template() -> str:
    import moai_mashup
    from moai_mashup.limits import MAX_HOOK_BYTES

    path = os.path.join(os.path.dirname(moai_mashup.__file__), "resources", "hook-tmpl")
    text = files.read_text(path, MAX_HOOK_BYTES)
    if text is None:
        raise MoaiError(f"{path}: moai's hook template is missing; reinstall moai")
    return text


def engine_sys_path() -> list[str]:
    """Where this moai's modules come from: its package's parent, then site-packages.

    The shim runs Python with -S (no site.py, ~30 ms saved), so the directories
    site.py would have added (including an editable install's source tree) are
    recorded here.
    """
    import moai_mashup

    dirs = [str(Path(moai_mashup.__file__).resolve().parent.parent)]
    dirs += site.getsitepackages()
    if site.ENABLE_USER_SITE:
        dirs.append(site.getusersitepackages())
    out: list[str] = []
    for d in dirs:
        if d not in out and os.path.isdir(d):
            out.append(d)
    return out


def render(hook_type: str) -> str:
    python = sys.executable
    if not python or not os.path.isabs(python):
        raise Refused("cannot tell which Python runs moai (sys.executable is empty)")
    paths = engine_sys_path()
    if any("\n" in p for p in [python, *paths]):
        raise Refused("moai's install path contains a newline; reinstall it elsewhere")
    return (
        _template()
        .replace("@@HOOK_TYPE@@", shlex.quote(hook_type))
        .replace("@@PYTHON@@", shlex.quote(python))
        .replace("@@SYS_PATH@@", shlex.quote("\n".join(paths)))
    )


def _read(path: Path, within: Path | None = None) -> str | None:
    """A hook script's text; None when absent, or not a script moai reads (a
    program larger than any script, not UTF-8, a FIFO, a device, a link loop):
    neither moai's nor pre-commit's."""
    from moai_mashup.limits import MAX_HOOK_BYTES

    try:
        return files.read_text(path, MAX_HOOK_BYTES, within=within)
    except BadInput:
        return None


def is_ours(path: Path) -> bool:
    text = _read(path)
    return text is not None and MARKER in text


def _check_types(hook_types: tuple[str, ...]) -> None:
    for hook_type in hook_types:
        if hook_type not in SUPPORTED_HOOK_TYPES:
            raise BadInput(
                f"hook type '{hook_type}': not supported; use one of "
                + ", ".join(SUPPORTED_HOOK_TYPES)
            )


def _shown(hd: HooksDir) -> str:
    return f"{hd.path} (core.hooksPath, {hd.origin})" if hd.hooks_path else str(hd.path)


def chained_path(path: Path) -> Path:
    """Where moai keeps the hook that was there before it: `<hook>.pre-moai`.

    Not `<hook>.legacy`, the pre-commit framework's name: `pre-commit install`
    moves whatever is at `<hook>` to `<hook>.legacy` (over what was there), so
    the two tools must never both keep a hook under that one name.
    """
    return path.with_name(path.name + CHAINED_SUFFIX)


CHAINED_SUFFIX = ".pre-moai"
PRE_COMMIT_ID = "File generated by pre-commit"


def _there(path: Path) -> bool:
    return path.exists() or path.is_symlink()


def is_pre_commit(path: Path) -> bool:
    """The pre-commit framework's hook script (its template's marker line)."""
    text = _read(path)
    return text is not None and PRE_COMMIT_ID in text


class Placement(NamedTuple):
    """Where moai's shim goes for one hook type, and what moves first."""

    shim: Path  # `<hook>`, or `<hook>.legacy` under the pre-commit framework's script
    moves: tuple[tuple[Path, Path], ...]  # renames, in order, before the shim is written
    under_pre_commit: bool


def _placement(path: Path) -> Placement:
    """Where the shim goes so that both tools and the user's own hook all run.

    - nothing, or our shim, at `<hook>`: the shim goes there; a user's hook kept
      by an older moai as `<hook>.legacy` moves to `<hook>.pre-moai`;
    - the pre-commit framework's script at `<hook>` (or, from an older moai, at
      `<hook>.legacy` under ours): the shim goes under it, to `<hook>.legacy`,
      which pre-commit runs first ("migration mode"); a user's hook there moves
      to `<hook>.pre-moai`, which the shim runs first;
    - any other hook at `<hook>`: moves to `<hook>.pre-moai`; the shim takes its place.

    `pre-commit install` later moves our `<hook>` to `<hook>.legacy` (the same
    layout); `pre-commit uninstall` moves it back; nothing of the user's is lost.
    """
    legacy, chained = path.with_name(path.name + ".legacy"), chained_path(path)
    moves: list[tuple[Path, Path]] = []

    def keep_users(hook: Path) -> None:
        if _there(chained):
            raise Refused(
                f"{hook} and {chained} both exist and neither is moai's; "
                "move one of them aside, then rerun: moai hooks install"
            )
        moves.append((hook, chained))

    if is_ours(path) and is_pre_commit(legacy):
        moves.append((legacy, path))  # an older moai put itself over pre-commit: swap back
        return Placement(legacy, tuple(moves), True)
    if is_pre_commit(path):
        if _there(legacy) and not is_ours(legacy):
            keep_users(legacy)
        return Placement(legacy, tuple(moves), True)
    if _there(path) and not is_ours(path):
        keep_users(path)
    elif _there(legacy) and not is_ours(legacy):
        keep_users(legacy)  # kept by an older moai under pre-commit's name
    return Placement(path, tuple(moves), False)


def install(wt: git.Worktree, hook_types: tuple[str, ...] = DEFAULT_HOOK_TYPES) -> list[str]:
    """Install (or refresh) our shims; returns one line per hook for the user."""
    _check_types(hook_types)
    hd = hooks_dir(wt)
    planned = [(t, _placement(hd.path / t), render(t)) for t in hook_types]
    lines: list[str] = []
    files.make_dirs(hd.path)
    for hook_type, place, text in planned:
        for src, dst in place.moves:
            files.rename(src, dst)  # the exact file (symlink, FIFO, mode, mtime) stays
        shim = place.shim
        where = _shown(hd) + (" (run by the pre-commit framework's hook)" * place.under_pre_commit)
        if _read(shim) == text:
            lines.append(f"{hook_type}: already installed in {where}")
            continue
        files.write_text(shim, text, mode=0o755)
        if hook_type == "post-checkout":
            forget_prepared(wt)  # written by another engine or shim: decide afresh
        chained = chained_path(hd.path / hook_type)
        lines.append(
            f"{hook_type}: installed in {where}"
            + (f" (runs your existing hook first: {chained.name})" if _there(chained) else "")
        )
    return lines


def uninstall(wt: git.Worktree, hook_types: tuple[str, ...] = SUPPORTED_HOOK_TYPES) -> list[str]:
    """Remove our shims and put back what they chained; foreign hooks stay."""
    _check_types(hook_types)
    hd = hooks_dir(wt)
    lines: list[str] = []
    for hook_type in hook_types:
        path = hd.path / hook_type
        legacy, chained = path.with_name(hook_type + ".legacy"), chained_path(path)
        if is_ours(path):
            shim = path
        elif is_ours(legacy) and _there(path):
            shim = legacy  # under the pre-commit framework's script
        else:
            if path.exists() and hook_type in DEFAULT_HOOK_TYPES:
                lines.append(f"{hook_type}: {path} is not moai's; left alone")
            continue
        files.remove(shim)
        # What the shim chained goes back into its place: the user's hook, or (from
        # an older moai) whatever it kept as `<hook>.legacy`.
        previous = chained if _there(chained) else legacy if shim == path else None
        if previous is not None and _there(previous):
            files.rename(previous, shim)
            lines.append(f"{hook_type}: removed; restored your previous hook {shim}")
        else:
            lines.append(f"{hook_type}: removed from {_shown(hd)}")
    if not lines:
        lines.append(f"no moai hooks in {_shown(hd)}")
    if "post-checkout" in hook_types:
        forget_prepared(wt)
    return lines


def forget_prepared(wt: git.Worktree) -> None:
    """Every worktree's stamp and prepared switch (in its private folder,
    settings/private.py; an earlier moai's in the git dir): only the hook reads them,
    and another engine or shim decides afresh. The private folder itself stays: its
    ownership record says what to take out of the settings file."""
    from moai_mashup.paths import READY_DIR, STAMP_NAME
    from moai_mashup.settings import private

    worktrees = Path(wt.common_dir) / "worktrees"
    state_dirs = [Path(wt.common_dir) / "moai"]
    state_dirs += [worktrees / child / "moai" for child in files.subdirs(worktrees)]
    for state in state_dirs:
        files.remove(state / STAMP_NAME)
        files.remove_tree(state / READY_DIR)
        folder = private.lookup(str(state)).folder
        if folder is not None:
            private.remove_folder(private.ready_dir(folder))


def _recorded_python(text: str) -> str | None:
    for line in text.splitlines():
        if line.startswith("MOAI_PYTHON="):
            try:
                words = shlex.split(line[len("MOAI_PYTHON=") :])
            except ValueError:
                return None
            return words[0] if words else None
    return None


def status(wt: git.Worktree, hook_types: tuple[str, ...] = DEFAULT_HOOK_TYPES) -> list[HookState]:
    hd = hooks_dir(wt, per_worktree_ok=True)
    out: list[HookState] = []
    for hook_type in hook_types:
        path = hd.path / hook_type
        legacy = path.with_name(hook_type + ".legacy")
        chains = _there(chained_path(path))
        text = _read(path)
        shim = path if text is not None and MARKER in text else None
        if shim is None and is_pre_commit(path) and is_ours(legacy):
            shim, text = legacy, _read(legacy)  # run by the pre-commit framework's hook
        if shim is not None and text is not None:
            python = _recorded_python(text)
            current = text == render(hook_type)
            python_ok = python is not None and os.access(python, os.X_OK)
            chains = chains or (shim == path and _there(legacy))
            out.append(HookState(hook_type, shim, "ours", chains, python, python_ok, current))
        else:
            state = "foreign" if _there(path) else "absent"
            out.append(HookState(hook_type, path, state, legacy.exists(), None, False, False))
    return out


def _calls_moai(text: str) -> bool:
    """A hook written by hand or by a hook manager that hands over to moai."""
    return "moai hook-impl" in text or "moai-mashup" in text or "moai_mashup" in text


def is_installed(wt: git.Worktree, hook_type: str = "post-checkout") -> bool:
    """Whether git will run moai for `hook_type` in this worktree.

    Our shim counts when its engine still exists; so does ours kept at
    `<hook>.legacy` by a hook manager installed after us (`pre-commit install`
    moves the hook there and runs it), and a hook of a team's own
    (`.githooks`, husky) that calls `moai hook-impl`.
    """
    try:
        (state,) = status(wt, (hook_type,))
    except git.GitError:
        return False
    if state.state == "ours":
        return state.python_ok
    if state.state == "foreign":
        legacy = state.path.with_name(hook_type + ".legacy")
        if is_ours(legacy):
            python = _recorded_python(_read(legacy) or "")
            return python is not None and os.access(python, os.X_OK)
        text = _read(state.path) or ""
        if "File generated by pre-commit" in text:  # the framework, with our manifest's hook?
            config = _read(Path(wt.root) / ".pre-commit-config.yaml", within=Path(wt.root)) or ""
            return "moai-post-checkout" in config and hook_type == "post-checkout"
        return os.access(state.path, os.X_OK) and _calls_moai(text)
    return False


def forget_prepared_here() -> None:
    """After a new GLM key: the prepared GLM switches of this repository's
    worktrees were planned with the old one (the key file is also an input of
    their stamps); gone now, the next checkout prepares them afresh. Outside a
    repository there is nothing prepared."""
    import contextlib

    with contextlib.suppress(BadInput):
        forget_prepared(git.discover(Path.cwd()))


def apply_here(wt: git.Worktree) -> tuple[list[str], list[str]]:
    """Bring the worktree we stand in onto the table's backend now; (stdout, stderr) lines.

    The hooks act from the next checkout on; without this, a fresh glm-only
    repository (or a SPEC branch already checked out) would stay on Claude.
    """
    from moai_mashup.config import LLM_YAML
    from moai_mashup.settings.apply import apply_backend
    from moai_mashup.workspace import open_workspace

    if not (Path(wt.root) / LLM_YAML).is_file():
        return [], []  # not configured here: leave no state of ours behind
    try:
        ws = open_workspace(wt.root)
        if not ws.cfg.configured or ws.expected is None:
            return [], []
        result = apply_backend(ws.wt, ws.cfg, ws.expected)
    except MoaiError as exc:
        return [], [f"hooks installed, but this worktree was not switched: {exc}"]
    out = [f"this worktree now uses {result.backend} ({ws.why()})"] if result.changed else []
    return out, [result.held_line] if result.held_line else []
