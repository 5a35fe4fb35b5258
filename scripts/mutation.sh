#!/usr/bin/env bash
# Mutation testing of the modules that guard keys and settings (not part of
# scripts/test.sh): breaks one line at a time and runs the tests chosen for
# that module; a mutant the tests do not notice "survives".
#
#   bash scripts/mutation.sh            every module below, one after another
#   bash scripts/mutation.sh trust keys only these
#   MUTATION_FULL=1       also the module's subprocess tests (see module_tests)
#   MUTATION_ALL_TESTS=1  run every selected test for each mutant (by default only
#                         those that ran the mutated statement in one traced run,
#                         in their own process or in a moai process they started,
#                         and any test whose lines the trace cannot see:
#                         scripts/mutation_lines.py, scripts/mutation_trace.py)
#   MUTATION_TIMEOUT=S    seconds before a mutant's run counts as killed
#                         (default: 4x the unmutated run, at least 30)
#   MUTATION_KEEP=DIR     keep each module's cosmic-ray session (DIR/<module>.sqlite,
#                         with the module as it was mutated: DIR/<module>.py)
#   MUTATION_RESUME=DIR   start from DIR/<module>.sqlite (a kept session) when the
#                         module is unchanged since: its survivors and the mutants
#                         not run are run again (against today's tests), the
#                         killed and skipped ones are kept; new equivalent.md rows apply
#
# Tool: cosmic-ray, pinned and installed here into ./.venv-mutation (a dev
# tool, kept out of the project's venv and its test extra). It writes each
# mutant into the source file on disk, so the `moai` subprocesses, the git hooks and pre-commit
# that the tests start run the mutant too. It does that in a scratch copy of
# this work tree (tracked and untracked files, not ignored ones), imported via
# PYTHONPATH, so the work tree itself is never touched and tests can go on
# running beside it.
#
# Survivors judged equivalent are listed, with a reason, in
# tests/mutation/equivalent.md; the run skips them and says which entries no
# longer match any mutant. Per module it prints killed / survived / skipped
# and each survivor (line, operator, source line). Exit 1 when any survived.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

COSMIC_RAY_VERSION=8.7.0

# module -> file to mutate, and the tests that run for each of its mutants:
# the module's in-process tests (a mutant dies in a few seconds, so a module
# takes minutes); MUTATION_FULL=1 adds the subprocess tests of the same
# module (real `moai`, git hooks: a surviving mutant then costs minutes).
ALL_MODULES=(trust keys guard settings_plan apply hook_fast hook_stamp claude_hooks statusline claude_worktree otel_env pricing)
module_path() {
    case $1 in
        trust | keys | apply) echo "src/moai_mashup/settings/$1.py" ;;
        guard) echo src/moai_mashup/guard/scan.py ;;
        hook_fast) echo src/moai_mashup/githooks/fast.py ;;
        hook_stamp) echo src/moai_mashup/githooks/stamp.py ;;
        settings_plan) echo src/moai_mashup/core/settings_plan.py ;;
        claude_hooks) echo src/moai_mashup/claude_code/install.py ;;
        statusline) echo src/moai_mashup/claude_code/statusline.py ;;
        claude_worktree) echo src/moai_mashup/claude_code/worktree.py ;;
        otel_env) echo src/moai_mashup/cost/otel_env.py ;;
        pricing) echo src/moai_mashup/cost/pricing.py ;;
        *) return 1 ;;
    esac
}
module_tests() {
    local t=tests/settings/test_core_settings.py
    case $1 in
        trust) echo tests/settings/test_trust_rules.py tests/settings/test_trust.py ;;
        keys) echo tests/settings/test_keys_rules.py ;;
        guard) echo tests/guard/test_guard_rules.py tests/guard/test_guard_utf16.py tests/guard/test_hardening_guard.py ;;
        settings_plan)
            # the planner's pure tests, then apply's (its only caller) in process
            echo tests/core/test_settings_plan_rules.py \
                "$t::test_glm_then_claude_restores_any_document_byte_for_byte" \
                "$t::test_user_edits_made_on_glm_survive_the_switch_back" \
                "$t::test_a_user_edit_of_our_key_is_theirs_afterwards" \
                "$t::test_stale_record_is_ignored" tests/settings/test_apply_writers.py
            ;;
        apply) echo tests/settings/test_apply_rules.py tests/settings/test_apply_guards.py tests/settings/test_apply_writers.py ;;
        hook_fast | hook_stamp)
            # and the hook's exit code when another process holds the lock (2 x 5 s)
            echo tests/githooks/test_hooks_prepared.py \
                tests/settings/test_lock_bound.py::test_checkout_waits_a_bounded_time_then_leaves_the_worktree
            ;;
        claude_hooks) echo tests/claude_code/test_claude_code_install_rules.py ;;
        statusline | claude_worktree)
            # Claude Code runs both as `moai` subprocesses: their tests are such runs
            local h=tests/claude_code/test_claude_code_hooks.py
            if [ "$1" = statusline ]; then
                echo "$h::test_statusline_shows_backend_model_spec_phase_and_marks_a_mismatch" \
                    "$h::test_statusline_a_model_the_table_does_not_know_is_no_mismatch" \
                    "$h::test_statusline_a_broken_config_is_one_short_line_and_extra_words_are_refused" \
                    tests/claude_code/test_stdin_hostile.py tests/claude_code/test_statusline_model.py \
                    tests/claude_code/test_statusline_stale.py \
                    tests/claude_code/test_session_backends.py::test_the_status_line_names_the_routed_backend_and_marks_another_backends_model
            else
                echo "$h::test_worktree_create_refuses_a_bad_name_and_leaves_nothing" \
                    "$h::test_worktree_create_makes_the_spec_worktree_on_glm_then_reuses_it" \
                    "$h::test_worktree_create_without_a_key_fails_with_one_line_and_nothing_left" \
                    "$h::test_worktree_remove_refuses_work_and_says_why" \
                    "$h::test_without_moais_config_worktree_create_does_what_claude_code_would" \
                    tests/claude_code/test_claude_worktree_hooks.py tests/worktrees/test_worktree_race.py
            fi
            ;;
        otel_env) echo tests/cost/test_telemetry.py tests/cost/test_telemetry_hostile.py ;;
        pricing) echo tests/cost/test_cost_table.py tests/cost/test_cost_units.py tests/cost/test_cost_prices.py tests/cost/test_cost_prometheus.py ;;
        *) return 1 ;;
    esac
    [ -z "${MUTATION_FULL:-}" ] && return 0
    case $1 in
        keys) echo tests/settings/test_core_keys.py ;;
        guard) echo tests/guard/test_guard_staged.py tests/guard/test_guard_range.py ;;
        claude_hooks) echo tests/claude_code/test_claude_code_hooks.py ;;
        settings_plan | apply) echo "$t" ;;
    esac
}

# All in one function: bash reads it whole before running it, so editing this
# file during a run cannot change the run.
main() {
    modules=("$@")
    [ ${#modules[@]} -gt 0 ] || modules=("${ALL_MODULES[@]}")
    for m in "${modules[@]}"; do
        if ! module_tests "$m" >/dev/null; then
            echo "mutation.sh: unknown module '$m'; one of: ${ALL_MODULES[*]}" >&2
            exit 2
        fi
    done

    # The project's venv (as scripts/test.sh makes it) and the tool's own.
    PY=${PYTHON:-python3}
    if [ ! -x .venv/bin/python ]; then
        "$PY" -m venv .venv
        .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'
    fi
    CR=.venv-mutation
    if [ ! -x "$CR/bin/cosmic-ray" ] || [ "$("$CR/bin/cosmic-ray" --version 2>/dev/null)" != "cosmic-ray, version $COSMIC_RAY_VERSION" ]; then
        "$PY" -m venv "$CR"
        "$CR/bin/python" -m pip install -q --disable-pip-version-check "cosmic-ray==$COSMIC_RAY_VERSION"
    fi

    WORK=$(mktemp -d "${TMPDIR:-/tmp}/moai-mutation.XXXXXX")
    trap 'rm -rf "$WORK"' EXIT
    REPORT=$WORK/report.txt
    : >"$REPORT"
    status=0

    for m in "${modules[@]}"; do
        target=$(module_path "$m")
        copy=$WORK/$m
        mkdir -p "$copy"
        # The work tree as it is (committed or not), without ignored files.
        git ls-files -z --cached --others --exclude-standard \
            | (cd "$ROOT" && xargs -0 cp --parents -t "$copy" 2>/dev/null || true)
        # Only the mutated module is compiled afresh each time (a cached .pyc of the
        # same size written in the same second would hide the mutant); the rest once.
        .venv/bin/python -m compileall -q "$copy/src"
        rm -f "$copy/$(dirname "$target")/__pycache__/$(basename "$target" .py)".*.pyc
        export PYTHONPATH=$copy/src
        # Test output cosmic-ray can decode, even when it names a non-UTF-8 path.
        export PYTHONIOENCODING=utf-8:backslashreplace
        where=$(cd "$copy" && "$ROOT/.venv/bin/python" -c 'import moai_mashup; print(moai_mashup.__file__)')
        case $where in "$copy"/*) ;; *)
            echo "mutation.sh: the copy's moai_mashup is not the one imported ($where)" >&2
            exit 1
            ;;
        esac

        tests=$(module_tests "$m" | tr '\n' ' ')
        # Hypothesis's pytest plugin costs more CPU to load than most of these
        # test files take to run: loaded only for tests that use it.
        plugins=
        # shellcheck disable=SC2086 # word splitting wanted: the list of tests
        if ! grep -q hypothesis $(echo $tests | tr ' ' '\n' | sed -n 's/::.*//; /^tests/p'); then
            plugins="-p no:hypothesispytest"
        fi
        # Each mutant runs only the tests that can notice it (scripts/mutation_lines.py:
        # those that ran its statement in one traced run, and every test that starts
        # a process which could run the module unseen); MUTATION_ALL_TESTS=1: all.
        cp "$copy/$target" "$WORK/$m.original.py"
        pytest="$ROOT/.venv/bin/python -m pytest -x -q -p no:cacheprovider $plugins"
        if [ -n "${MUTATION_ALL_TESTS:-}" ]; then
            echo "exec $pytest $tests" >"$WORK/$m.tests.sh"
        else
            # (its own copy of the selector: editing scripts/ during a run changes nothing)
            cp scripts/mutation_lines.py "$WORK/mutation_lines.py"
            cat >"$WORK/$m.tests.sh" <<EOF
if ! chosen=\$("$ROOT/.venv/bin/python" "$WORK/mutation_lines.py" select "$target" \\
    "$WORK/$m.original.py" "$WORK/$m.lines.json" $tests); then
    echo "mutation.sh: no test selection (see above): every test" >&2
    exec $pytest $tests
fi
[ -n "\$chosen" ] || exit 0  # no test runs the mutated statement: it survives
# The test that kills a mutant is asked first for the next ones (select reads
# $WORK/$m.kills): the same few tests kill most mutants of a module.
log="$WORK/$m.pytest.log"
printf '%s\n' "\$chosen" | tr '\n' '\0' | xargs -0 $pytest >"\$log" 2>&1
rc=\$?
cat "\$log"
"$ROOT/.venv/bin/python" "$WORK/mutation_lines.py" killed "\$log" "$WORK/$m.kills" || true
exit \$rc
EOF
        fi
        cat >"$copy/cosmic-ray.toml" <<EOF
[cosmic-ray]
module-path = "$target"
timeout = 3600
excluded-modules = []
test-command = "sh $WORK/$m.tests.sh"

[cosmic-ray.distributor]
name = "local"

[cosmic-ray.filters.operators-filter]
# One replacement per binary operator (not every other one), the comparison
# mutants that negate or move a boundary, and none of the random variable
# operators (a run must be repeatable).
exclude-operators = [
  "core/ReplaceBinaryOperator_(?!(Add_Sub|Sub_Add|Mul_Add|Div_Mul|FloorDiv_Mul|Mod_Add|Pow_Mul|LShift_RShift|RShift_LShift|BitOr_BitAnd|BitAnd_BitOr|BitXor_BitOr)$)",
  "core/ReplaceComparisonOperator_(?!(Eq_NotEq|NotEq_Eq|Lt_LtE|Lt_GtE|LtE_Lt|LtE_Gt|Gt_GtE|Gt_LtE|GtE_Gt|GtE_Lt|Is_IsNot|IsNot_Is)$)",
  "core/VariableInserter",
  "core/VariableReplacer",
]
EOF
        start=$(date +%s)
        (
            cd "$copy"
            resume=${MUTATION_RESUME:+$MUTATION_RESUME/$m}
            if [ -n "$resume" ] && [ -f "$resume.sqlite" ]; then
                if ! cmp -s "$resume.py" "$target"; then
                    echo "mutation.sh: $m: $target changed since $resume.sqlite (or no $resume.py): run it afresh" >&2
                    exit 1
                fi
                cp "$resume.sqlite" session.sqlite
                "$ROOT/$CR/bin/python" "$ROOT/scripts/mutation_session.py" forget session.sqlite
            else
                "$ROOT/$CR/bin/cosmic-ray" --verbosity ERROR init cosmic-ray.toml session.sqlite
                "$ROOT/$CR/bin/cr-filter-operators" session.sqlite cosmic-ray.toml
            fi
            "$ROOT/$CR/bin/python" "$ROOT/scripts/mutation_session.py" skip session.sqlite \
                "$target" "$ROOT/tests/mutation/equivalent.md"
            t0=$(date +%s)
            if ! "$ROOT/$CR/bin/cosmic-ray" --verbosity ERROR baseline cosmic-ray.toml >baseline.log 2>&1; then
                echo "mutation.sh: $m: the selected tests fail without any mutant:" >&2
                tail -20 baseline.log >&2
                exit 1
            fi
            if [ -z "${MUTATION_ALL_TESTS:-}" ]; then
                # The moai processes the tests start trace themselves too, for this
                # run only: the copy's package starts the recorder (mutation_trace.py).
                init=src/moai_mashup/__init__.py
                cp "$init" "$WORK/$m.init.py"
                cp "$ROOT/scripts/mutation_trace.py" src/_mutation_trace.py
                printf '\n__import__("_mutation_trace").start()\n' >>"$init"
                mkdir -p "$WORK/$m.sub"
                # shellcheck disable=SC2086 # word splitting wanted: the list of tests
                if ! PYTHONPATH="$WORK:$PYTHONPATH" MUTATION_LINES_TARGET="$copy/$target" \
                    MUTATION_LINES_SUBDIR="$WORK/$m.sub" MUTATION_LINES_OUT="$WORK/$m.lines.json" \
                    "$ROOT/.venv/bin/python" -m pytest -q \
                    -p no:cacheprovider -p mutation_lines $plugins $tests >lines.log 2>&1; then
                    echo "mutation.sh: $m: the traced run failed:" >&2
                    tail -20 lines.log >&2
                    exit 1
                fi
                cp "$WORK/$m.init.py" "$init"
                rm -rf src/_mutation_trace.py src/__pycache__/_mutation_trace.* "$WORK/$m.sub" \
                    src/moai_mashup/__pycache__/__init__.*
            fi
            # A mutant that loops forever is stopped (and counts as killed) after
            # 4x the unmutated run, at least 30 s.
            limit=${MUTATION_TIMEOUT:-$((4 * ($(date +%s) - t0) > 30 ? 4 * ($(date +%s) - t0) : 30))}
            sed -i "s/^timeout = 3600\$/timeout = $limit/" cosmic-ray.toml
            "$ROOT/$CR/bin/cosmic-ray" --verbosity ERROR exec cosmic-ray.toml session.sqlite
        )
        seconds=$(($(date +%s) - start))
        "$CR/bin/python" scripts/mutation_session.py report "$copy/session.sqlite" "$target" \
            "$m" "$seconds" "$REPORT" || status=1
        if [ -n "${MUTATION_KEEP:-}" ]; then
            mkdir -p "$MUTATION_KEEP"
            cp "$copy/session.sqlite" "$MUTATION_KEEP/$m.sqlite"
            cp "$copy/$target" "$MUTATION_KEEP/$m.py"
        fi
        rm -rf "$copy"
    done

    echo
    echo "module          killed survived skipped  seconds"
    cat "$REPORT"
    exit $status
}

main "$@"
