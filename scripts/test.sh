#!/usr/bin/env bash
# The one test command (README, .ci/run): installs what the tests need into
# ./.venv, then runs ruff, mypy, the docs build and the test suite. Extra args go
# to pytest. The fast lane, without the slow tests: scripts/test-fast.sh
# (CONTRIBUTING.md).
set -euo pipefail
cd "$(dirname "$0")/.."

# Tools the tests drive for real: tmux (a terminal for `moai init` and tab
# completion), zsh and fish (completion, the cd function), pipx (the README's
# install on the externally managed system Python). Debian packages, installed
# only when missing and only where apt-get can (root, as in CI); elsewhere the
# tests needing them skip, except under CI=true where they fail.
missing=()
for tool in tmux zsh fish pipx; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ] && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  echo "scripts/test.sh: apt-get install ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'
# Editable installs get no .pyc, and PYTHONDONTWRITEBYTECODE may be set: every
# `moai` subprocess would recompile the package. Compile once, explicitly.
.venv/bin/python -m compileall -q src

# The real Claude Code CLI for tests/e2e: every release pinned by
# tests/e2e/claude-code/package-lock.json (native builds under npm aliases,
# claude-code-<version>; scripts/bump-claude-code.sh moves the newer pin);
# reinstalled only when the lock changes. Without npm the e2e tests skip (fail under CI=true).
CC=tests/e2e/claude-code
if command -v npm >/dev/null && ! cmp -s "$CC/package-lock.json" "$CC/node_modules/.moai-lock"; then
  (cd "$CC" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
  cp "$CC/package-lock.json" "$CC/node_modules/.moai-lock"
fi

# promtool (Debian's prometheus package) checks and unit-tests the recording rules of
# `moai cost --prometheus-rules` (tests/cost/test_cost_prometheus.py). Installed only when missing.
if ! command -v promtool >/dev/null && command -v apt-get >/dev/null; then
  SUDO=""
  if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then SUDO="sudo"; fi
  $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi

.venv/bin/ruff check src tests benchmarks
.venv/bin/ruff format --check -q src tests benchmarks
.venv/bin/mypy
# docs/ as a site: --strict turns a broken link or anchor, or a page left out of
# mkdocs.yml's nav, into a failure. Built into a temporary directory, then removed.
SITE=$(mktemp -d)
.venv/bin/mkdocs build --strict --quiet -d "$SITE"
rm -rf "$SITE"
exec .venv/bin/python -m pytest "$@"
