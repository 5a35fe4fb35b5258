"""`moai cost` on generated transcripts: bad lines, dedup, phases, filters, formats, errors."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from moai_mashup.cost.phase_record import append_phase
from moai_mashup.cost.transcripts import encode_project_path
from tests.costkit import (
    BRANCH,
    SPEC,
    assistant,
    cost_json,
    repo_with_worktree,
    row,
    user_command,
    write_session,
)
from tests.gitrepo import moai, write


def test_malformed_and_unknown_lines_are_counted_never_fatal(
    tmp_path: Path, env: dict[str, str], home: Path
) -> None:
    main, _wt = repo_with_worktree(tmp_path, env)
    good = assistant(cwd=main, branch="main", msg_id="msg_1")
    weird = {**assistant(cwd=main, branch="main", msg_id="msg_2"), "type": "brand-new-kind"}
    bad_usage = assistant(cwd=main, branch="main", msg_id="msg_3")
    bad_usage["message"]["usage"]["input_tokens"] = "many"
    partial = json.dumps(assistant(cwd=main, branch="main", msg_id="msg_4"))[:-40]
    path = write_session(
        home,
        main,
        "s-1",
        [
            good,
            '{"type": "assistant", "usage": {oops\n',  # broken JSON with a usage key
            '[1, 2, "usage"]\n',  # valid JSON, not an object
            "\x00\xff garbage without the key\n",  # no usage key: never parsed at all
            weird,
            bad_usage,
            {"type": "summary", "summary": "no usage here"},
            partial,  # last line cut mid-write, no newline
        ],
    )
    proc = moai(main, "cost", "--json", env=env)
    data = cost_json(proc)
    t = data["transcripts"]
    assert data["total"]["responses"] == 1
    assert (t["malformed"], t["unknown_type"], t["bad_usage"]) == (3, 1, 1)
    assert t["skipped"] == 5
    assert t["samples"][0] == {"path": str(path), "line": 2, "why": "malformed JSON"}
    assert t["usage_lines"] == 6

    table = moai(main, "cost", env=env)
    assert table.returncode == 0
    assert "skipped 5 line(s): 3 malformed, 1 unknown type, 1 without usable usage" in table.stdout
    assert f"{path}:2" in table.stdout


def test_streamed_copy_with_more_output_counts_once_with_the_final_count(
    tmp_path: Path, env: dict[str, str], home: Path
) -> None:
    main, _wt = repo_with_worktree(tmp_path, env)
    first = assistant(cwd=main, branch="main", msg_id="msg_s", tokens=(500, 1, 0, 0))
    final = assistant(cwd=main, branch="main", msg_id="msg_s", tokens=(500, 80, 0, 0))
    other_request = assistant(
        cwd=main, branch="main", msg_id="msg_s", request_id="req_retry", tokens=(500, 5, 0, 0)
    )
    write_session(home, main, "s-1", [first, final, final])
    write_session(home, main, "s-2", [final, other_request])  # a fork copies; a retry is new
    data = cost_json(moai(main, "cost", "--json", env=env))
    assert data["total"]["responses"] == 2
    assert data["total"]["output_tokens"] == 85
    assert data["total"]["input_tokens"] == 1000
    assert data["duplicates"] == 3


def test_phase_from_slash_command_phase_record_and_location(
    tmp_path: Path, env: dict[str, str], home: Path
) -> None:
    main, wt = repo_with_worktree(tmp_path, env)
    glm = "glm-4.7"
    # Session A in the worktree: plain work (run), then /moai:3-sync (sync from there on).
    write_session(
        home,
        wt,
        "a",
        [
            assistant(cwd=wt, branch=BRANCH, msg_id="m1", model=glm, session="a"),
            user_command(cwd=wt, branch=BRANCH, name="/moai:3-sync", args=SPEC, session="a"),
            assistant(cwd=wt, branch=BRANCH, msg_id="m2", model=glm, session="a"),
        ],
    )
    # Its subagent's file inherits the session's phase.
    sub = wt / "sub"
    write_session(
        home,
        wt,
        "a/subagents/agent-1",
        [assistant(cwd=wt, branch=BRANCH, msg_id="m3", model=glm, session="a")],
    )
    # Session B: the phase record written by `moai route` says sync after 12:00.
    append_phase(wt_git_dir(wt) / "moai", "sync", SPEC, at="2026-11-20T12:00:00Z")
    write_session(
        home,
        sub,
        "b",
        [
            assistant(
                cwd=sub,
                branch=BRANCH,
                msg_id="m4",
                model=glm,
                session="b",
                ts="2026-11-20T11:59:59.000Z",
            ),
            assistant(
                cwd=sub,
                branch=BRANCH,
                msg_id="m5",
                model=glm,
                session="b",
                ts="2026-11-20T12:00:00.500Z",
            ),
        ],
    )
    # On main: plan; on some other branch: other; claude-only style `/moai:2-run X` on main: run.
    write_session(
        home,
        main,
        "c",
        [
            assistant(cwd=main, branch="main", msg_id="m6", session="c"),
            assistant(cwd=main, branch="fix/typo", msg_id="m7", session="c"),
            user_command(cwd=main, branch="main", name="/moai:2-run", args="SPEC-X-9", session="d"),
            assistant(cwd=main, branch="main", msg_id="m8", session="d"),
        ],
    )
    data = cost_json(moai(main, "cost", "--json", env=env))
    counts = {r["phase"]: r["responses"] for r in data["rows"]}
    assert counts == {"plan": 1, "run": 3, "sync": 3, "other": 1}
    specs = cost_json(moai(main, "cost", "--json", "--by", "spec", env=env))
    assert row(specs, "SPEC-X-9")["responses"] == 1
    assert row(specs, SPEC)["responses"] == 5


def wt_git_dir(wt: Path) -> Path:
    text = (wt / ".git").read_text(encoding="utf-8").strip()
    return Path(text.split(":", 1)[1].strip())


def test_since_until_and_by_day(tmp_path: Path, env: dict[str, str], home: Path) -> None:
    main, _wt = repo_with_worktree(tmp_path, env)
    days = ["2026-11-01T23:59:59.999Z", "2026-11-02T00:00:00.000Z", "2026-11-03T12:00:00.000Z"]
    write_session(
        home,
        main,
        "s",
        [assistant(cwd=main, branch="main", msg_id=f"m{i}", ts=d) for i, d in enumerate(days)],
    )
    by_day = cost_json(moai(main, "cost", "--json", "--by", "day", env=env))
    assert [r["day"] for r in by_day["rows"]] == ["2026-11-01", "2026-11-02", "2026-11-03"]
    only = cost_json(
        moai(main, "cost", "--json", "--since", "2026-11-02", "--until", "2026-11-02", env=env)
    )
    assert only["total"]["responses"] == 1
    assert only["filtered_out"] == 2
    late = cost_json(moai(main, "cost", "--json", "--since", "2026-11-01T23:59:59Z", env=env))
    assert late["total"]["responses"] == 3


def test_pricing_from_llm_yaml(tmp_path: Path, env: dict[str, str], home: Path) -> None:
    llm = (
        "llm:\n  mode: mashup\n  pricing:\n"
        "    glm-4.7: {input: 1.0, output: 2.0, cache_read: 0.5}\n"
        "    sonnet: {input: 4.0, output: 20.0, cache_write: 5.0, cache_read: 0.4}\n"
    )
    main, wt = repo_with_worktree(tmp_path, env, llm_yaml=llm)
    tokens = (1_000_000, 1_000_000, 1_000_000, 1_000_000)
    write_session(
        home,
        wt,
        "s",
        [assistant(cwd=wt, branch=BRANCH, msg_id="g", model="glm-4.7", tokens=tokens)],
    )
    write_session(
        home,
        main,
        "t",
        [
            assistant(
                cwd=main, branch="main", msg_id="c", model="claude-sonnet-4-6", tokens=tokens
            ),
            assistant(cwd=main, branch="main", msg_id="x", model="mystery-1", tokens=tokens),
        ],
    )
    data = cost_json(moai(main, "cost", "--json", "--by", "model", env=env))
    # glm-4.7: input 1 + output 2 + cache write = input (GLM rule) 1 + cache read 0.5
    assert row(data, "glm-4.7")["actual_usd"] == 4.5
    # counterfactual: the configured sonnet price, tier for tier
    assert row(data, "glm-4.7")["all_claude_usd"] == 29.4
    assert row(data, "claude-sonnet-4-6")["actual_usd"] == 29.4
    assert row(data, "mystery-1")["actual_usd"] == 0
    assert data["unpriced_models"] == ["mystery-1"]
    table = moai(main, "cost", env=env)
    assert "no price for mystery-1" in table.stdout


def test_csv_and_html_outputs(tmp_path: Path, env: dict[str, str], home: Path) -> None:
    main, wt = repo_with_worktree(tmp_path, env)
    write_session(home, main, "p", [assistant(cwd=main, branch="main", msg_id="p1")])
    write_session(home, wt, "r", [assistant(cwd=wt, branch=BRANCH, msg_id="r1", model="glm-4.7")])
    proc = moai(main, "cost", "--csv", "--by", "model", env=env)
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    assert [r["model"] for r in rows] == ["claude-sonnet-4-6", "glm-4.7", "total"]
    assert rows[-1]["responses"] == "2"
    assert float(rows[1]["saved_usd"]) > 0

    report = tmp_path / "out" / "cost.html"
    report.parent.mkdir()
    html_proc = moai(main, "cost", "--html", str(report), env=env)
    assert html_proc.returncode == 0, html_proc.stderr
    page = report.read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and "<svg" in page
    assert "plan / claude" in page and "run / glm" in page
    assert "src=" not in page and "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert html_proc.stdout.splitlines()[0].startswith("phase")  # the table still prints


def test_claude_config_dir_and_no_transcripts(
    tmp_path: Path, env: dict[str, str], home: Path
) -> None:
    main, _wt = repo_with_worktree(tmp_path, env)
    empty = moai(main, "cost", env=env)
    assert empty.returncode == 0
    assert "no transcripts found" in empty.stdout
    alt = tmp_path / "claude-config"
    write(
        alt / "projects" / encode_project_path(str(main)) / "s.jsonl",
        json.dumps(assistant(cwd=main, branch="main", msg_id="z")) + "\n",
    )
    data = cost_json(moai(main, "cost", "--json", env={**env, "CLAUDE_CONFIG_DIR": str(alt)}))
    assert data["total"]["responses"] == 1


def test_bad_arguments_exit_2_with_one_line(
    tmp_path: Path, env: dict[str, str], home: Path
) -> None:
    main, _wt = repo_with_worktree(tmp_path, env)
    for args, needle in [
        (["--since", "last tuesday"], "--since 'last tuesday': not a date"),
        (["--spec", "../../x"], "--spec '../../x': not a SPEC id"),
        (["--json", "--csv"], "--json and --csv: choose one"),
        (["--since", "2026-11-03", "--until", "2026-11-01"], "is not before --until"),
    ]:
        proc = moai(main, "cost", *args, env=env)
        assert proc.returncode == 2, (args, proc.stderr)
        assert proc.stderr.strip().count("\n") == 0
        assert needle in proc.stderr
        assert proc.stdout == ""
    (tmp_path / "a-file").write_text("not a directory\n")
    nowhere = moai(main, "cost", "--html", str(tmp_path / "a-file" / "r.html"), env=env)
    assert nowhere.returncode == 2 and nowhere.stdout == ""
    assert "--html" in nowhere.stderr and "cannot write" in nowhere.stderr
    outside = tmp_path / "not-a-repo"
    outside.mkdir()
    proc = moai(outside, "cost", env=env)
    assert proc.returncode == 2 and "not inside a git worktree" in proc.stderr


def test_removed_worktrees_of_a_same_named_project_are_not_ours(
    tmp_path: Path, env: dict[str, str], home: Path
) -> None:
    """Two projects named `app`: the second's worktrees live in `app-<hash>`; each
    counts its own removed SPEC worktree's sessions and never the other's."""
    from tests.gitrepo import make_repo

    first = make_repo(tmp_path / "a" / "app", env)
    second = make_repo(tmp_path / "b" / "app", env)
    made = {}
    for repo, spec in ((first, "SPEC-ONE-1"), (second, "SPEC-TWO-2")):
        r = moai(repo, "worktree", "create", spec, "--claude", env=env)
        assert r.returncode == 0, r.stderr
        made[spec] = Path(moai(repo, "worktree", "path", spec, env=env).stdout.strip())
        branch = f"feature/{spec}"
        write_session(
            home, made[spec], spec, [assistant(cwd=made[spec], branch=branch, msg_id=spec)]
        )
        r = moai(repo, "worktree", "remove", spec, env=env)
        assert r.returncode == 0, r.stderr
    assert made["SPEC-ONE-1"].parent.name == "app"
    assert made["SPEC-TWO-2"].parent.name.startswith("app-")
    for repo, mine, theirs in (
        (first, "SPEC-ONE-1", "SPEC-TWO-2"),
        (second, "SPEC-TWO-2", "SPEC-ONE-1"),
    ):
        specs = {
            r["spec"]
            for r in cost_json(moai(repo, "cost", "--json", "--by", "spec", env=env))["rows"]
        }
        assert mine in specs and theirs not in specs, (repo, specs)
