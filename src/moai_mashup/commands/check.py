"""`moai check`: the guard and the team policy, for a commit, the index, or a range.

    moai check --staged                      the commit being made (the pre-commit hook)
    moai check --all-files                   every file in the index
    moai check --from-ref A --to-ref B       every commit in A..B (CI), with its sha
    moai check --prepare-commit-msg FILE [SOURCE [SHA]]   add the LLM-Backend trailer
    moai check --commit-msg FILE                          same, after the editor closed

Inside a commit, a broken config is reported on stderr and the guard still
runs on its defaults: a typo in llm.local.yaml must not disable key checks,
nor block every commit. In CI (a range, --all-files) it fails the job.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from moai_mashup import git, guard, keys, policy
from moai_mashup.errors import BadInput, MoaiError, Refused
from moai_mashup.workspace import Workspace

# The refs `pre-commit run --from-ref A --to-ref B` (and its pre-push stage) hands its hooks.
PRE_COMMIT_RANGE = ("PRE_COMMIT_FROM_REF", "PRE_COMMIT_TO_REF")


def _warn(line: str) -> None:
    click.echo(f"moai: warning: {line}", err=True)


def _workspace(wt: git.Worktree, *, lenient: bool) -> Workspace | None:
    from moai_mashup.config import load_config

    try:
        cfg = load_config(wt.root, wt.state_dir)
    except MoaiError as exc:
        if not lenient:
            raise
        _warn(f"{exc}; team policy not checked, key checks still run")
        return None
    for line in cfg.warnings:
        _warn(line)
    return Workspace(wt, cfg)


def _matcher(ws: Workspace | None) -> guard.KeyMatcher:
    return guard.KeyMatcher(guard.known_keys(ws.cfg.glm_env_var if ws else keys.ENV_FILE_VAR))


def _refuse(header: str, findings: list[guard.Finding], problems: list[str], hint: str) -> None:
    click.echo(f"moai: refused: {header}", err=True)
    for line in guard.iter_lines(findings):
        click.echo(line, err=True)
    for problem in problems:
        click.echo(f"  {problem}", err=True)
    raise Refused(hint)


def check_staged(wt: git.Worktree, filenames: tuple[str, ...]) -> int:
    ws = _workspace(wt, lenient=True)
    changes = guard.staged_changes(wt.root)
    targets = changes
    if filenames:
        # `pre-commit run --all-files` hands every file, with nothing staged.
        wanted = set(filenames)
        targets = [f for f in guard.index_files(wt.root) if f.path in wanted]
    findings = guard.scan_files(targets) + guard.scan_blobs(wt.root, targets, _matcher(ws))
    problems: list[str] = []
    if ws is not None:
        try:
            for problem in (
                policy.location_problem(ws, [c.path for c in changes]),
                policy.backend_problem(ws),
            ):
                if problem:
                    problems.append(problem)
        except MoaiError as exc:
            _warn(f"{exc}; team policy not checked")
    if findings or problems:
        hint = guard.unstage_hint(findings) if findings else "nothing was committed"
        if filenames and not changes:
            # `pre-commit run --all-files`: nothing staged, the files are committed already.
            hint = "remove the keys, rotate any key that was pushed, `git rm --cached` key files"
        what = []
        if findings:
            what.append("keys or key files")
        if problems:
            what.append("the team policy")
        _refuse(f"this commit breaks {' and '.join(what)}:", findings, problems, hint)
    return 0


def check_all_files(wt: git.Worktree) -> int:
    ws = _workspace(wt, lenient=False)
    files = guard.index_files(wt.root)
    findings = guard.scan_files(files) + guard.scan_blobs(wt.root, files, _matcher(ws))
    if findings:
        _refuse(
            f"{len(findings)} key(s) or key file(s) in the index:",
            findings,
            [],
            "remove them, rotate any key that was pushed, and `git rm --cached` key files",
        )
    click.echo(f"moai check: {len(files)} file(s), no keys")
    return 0


def _commit(wt: git.Worktree, ref: str, flag: str) -> str:
    proc = git.run(["rev-parse", "-q", "--verify", f"{ref}^{{commit}}"], wt.root, check=False)
    if proc.returncode != 0:
        raise BadInput(
            f"{flag} {ref}: no such commit here; in CI fetch the history first "
            "(actions/checkout with fetch-depth: 0)"
        )
    return proc.stdout.strip()


def _branch_name(ref: str) -> str:
    for prefix in ("refs/heads/", "refs/remotes/origin/", "origin/"):
        if ref.startswith(prefix):
            return ref[len(prefix) :]
    return ref


def check_range(wt: git.Worktree, from_ref: str, to_ref: str, branch: str | None) -> int:
    ws = _workspace(wt, lenient=False)
    to_sha = _commit(wt, to_ref, "--to-ref")
    if from_ref.strip("0") == "":
        rev_args = [to_sha]  # a new branch (GitHub's `before` is all zeros): all its history
    else:
        rev_args = [f"{_commit(wt, from_ref, '--from-ref')}..{to_sha}"]
    files, added = guard.read_range(wt.root, rev_args)
    findings = guard.scan_files(files) + guard.scan_added_lines(added, _matcher(ws))
    problems: list[str] = []
    on_default = _branch_name(branch or to_ref) == (ws.cfg.default_branch if ws else None)
    if ws and on_default and ws.cfg.policy.enforce_locations and ws.cfg.mode == "mashup":
        # Only the default branch's own commits: merges bring SPEC work in, and
        # the first commit bootstraps the repository.
        own = git.out(
            ["rev-list", "--first-parent", "--min-parents=1", "--max-parents=1", *rev_args],
            wt.root,
        ).split()
        by_commit: dict[str, list[str]] = {}
        for f in files:
            if f.commit:
                by_commit.setdefault(f.commit, []).append(f.path)
        for sha in own:
            outside = policy.outside_plan_paths(ws, by_commit.get(sha, []))
            if outside:
                plan_paths = ws.cfg.policy.plan_paths
                msg = policy.location_message(ws.cfg.default_branch, plan_paths, outside)
                problems.append(f"{sha[:12]} {msg}")
    commits = len(git.out(["rev-list", *rev_args], wt.root).split())
    if findings or problems:
        _refuse(
            f"in {commits} commit(s) of {from_ref}..{to_ref}:",
            findings,
            problems,
            "a key that was pushed is leaked: rotate it at its provider (rewriting history "
            "does not un-leak it), then remove it",
        )
    click.echo(f"moai check: {commits} commit(s), no keys, policy kept")
    return 0


def add_trailer(wt: git.Worktree, args: tuple[str, ...], *, prepare: bool) -> int:
    """A commit-msg or prepare-commit-msg hook: never fails the commit."""
    if not args:
        raise BadInput("give the commit message file, as git passes it to the hook")
    source: str | None = None
    if prepare:
        source = args[1] if len(args) > 1 else os.environ.get("PRE_COMMIT_COMMIT_MSG_SOURCE", "")
    try:
        ws = _workspace(wt, lenient=True)
        if ws is not None:
            policy.add_trailer(ws, Path(args[0]), source)
    except (MoaiError, git.GitError) as exc:
        _warn(f"commit trailer not added: {exc}")
    return 0


@click.command("check")
@click.option("--staged", is_flag=True, help="Check the commit being made (the default).")
@click.option("--all-files", is_flag=True, help="Check every file in the index.")
@click.option("--from-ref", metavar="A", help="With --to-ref: check every commit in A..B.")
@click.option("--to-ref", metavar="B", help="The end of the range (CI: the pushed commit).")
@click.option(
    "--branch",
    metavar="NAME",
    help="The branch the range was pushed to (default: --to-ref's name); "
    "enforce_locations checks the default branch's own commits.",
)
@click.option("--prepare-commit-msg", "prepare_msg", is_flag=True, help="Add the trailer.")
@click.option("--commit-msg", "commit_msg", is_flag=True, help="Add the trailer after editing.")
@click.argument("args", nargs=-1)
def command(
    staged: bool,
    all_files: bool,
    from_ref: str | None,
    to_ref: str | None,
    branch: str | None,
    prepare_msg: bool,
    commit_msg: bool,
    args: tuple[str, ...],
) -> None:
    """Refuse keys, key files and commits the team policy forbids.

    ARGS: file names from pre-commit (--staged), or the commit message file
    (and source) git passes to a message hook.
    """
    chosen = [
        n
        for n, on in (
            ("--staged", staged),
            ("--all-files", all_files),
            ("--from-ref/--to-ref", bool(from_ref or to_ref)),
            ("--prepare-commit-msg", prepare_msg),
            ("--commit-msg", commit_msg),
        )
        if on
    ]
    if len(chosen) > 1:
        raise BadInput(f"choose one of {', '.join(chosen)}")
    wt = git.discover(Path.cwd())
    if prepare_msg or commit_msg:
        add_trailer(wt, args, prepare=prepare_msg)
        return
    if bool(from_ref) != bool(to_ref):
        raise BadInput("--from-ref and --to-ref go together: moai check --from-ref A --to-ref B")
    if not from_ref and staged:
        env_from, env_to = (os.environ.get(n) for n in PRE_COMMIT_RANGE)
        if env_from and env_to:
            from_ref, to_ref = env_from, env_to
    if from_ref and to_ref:
        check_range(wt, from_ref, to_ref, branch)
        return
    if all_files:
        check_all_files(wt)
        return
    check_staged(wt, args)
