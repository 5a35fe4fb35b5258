"""`moai check`: the guard and the team policy, for a commit, the index, or a range.

    moai check --staged                      the commit being made (the pre-commit hook)
    moai check --all-files                   every file in the index
    moai check --from-ref A --to-ref B       every commit in A..B (CI), with its sha
    moai check --prepare-commit-msg FILE [SOURCE [SHA]]   add the LLM-Backend trailer
    moai check --commit-msg FILE                          same, after the editor closed

The commit-time checks live in guard/commit.py (the git hooks call them
without click). In CI (a range, --all-files) a broken config fails the job.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from moai_mashup import git
from moai_mashup.config import load_config
from moai_mashup.errors import BadInput, Refused
from moai_mashup.guard import commit as commit_checks
from moai_mashup.guard import policy
from moai_mashup.guard import scan as guard
from moai_mashup.workspace import Workspace

# The refs `pre-commit run --from-ref A --to-ref B` (and its pre-push stage) hands its hooks.
PRE_COMMIT_RANGE = ("PRE_COMMIT_FROM_REF", "PRE_COMMIT_TO_REF")


def _show(lines: list[str]) -> None:
    for line in lines:
        click.echo(line, err=True)


def _workspace(wt: git.Worktree) -> Workspace:
    """Strict: in CI a broken config fails the job."""

    cfg = load_config(wt.root, wt.state_dir)
    _show([f"moai: warning: {line}" for line in cfg.warnings])
    return Workspace(wt, cfg)


def _refuse(header: str, findings: list[guard.Finding], problems: list[str], hint: str) -> None:
    _show(commit_checks.refusal(header, findings, problems, hint)[:-1])
    raise Refused(hint)


def _finish(report: commit_checks.Report) -> None:
    _show(report.lines)
    if report.status:
        sys.exit(report.status)


def check_all_files(wt: git.Worktree) -> int:
    ws = _workspace(wt)
    files = guard.index_files(Path(wt.root))
    matcher = commit_checks.matcher_for(ws)
    findings, warnings = guard.split_warnings(
        guard.scan_files(files, matcher)
        + guard.scan_names(files, matcher)
        + guard.scan_blobs(Path(wt.root), files, matcher)
    )
    _show(guard.warning_lines(warnings))
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
    ws = _workspace(wt)
    to_sha = _commit(wt, to_ref, "--to-ref")
    if from_ref.strip("0") == "":
        rev_args = [to_sha]  # a new branch (GitHub's `before` is all zeros): all its history
    else:
        rev_args = [f"{_commit(wt, from_ref, '--from-ref')}..{to_sha}"]
    files, added, whole = guard.read_range(Path(wt.root), rev_args)
    matcher = commit_checks.matcher_for(ws)
    findings = (
        guard.scan_files(files, matcher)
        + guard.scan_names(files, matcher)
        + guard.scan_added_lines(added, matcher)
        + guard.scan_blobs(Path(wt.root), whole, matcher)
    )
    for sha, message in guard.read_messages(Path(wt.root), rev_args):
        findings += guard.scan_message(message, matcher, sha)
    findings, warnings = guard.split_warnings(findings)
    _show(guard.warning_lines(warnings))
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
        _finish(commit_checks.commit_message(wt, list(args), prepare=prepare_msg))
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
    _finish(commit_checks.check_commit(wt, args))
