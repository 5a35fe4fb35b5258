#!/usr/bin/env bash
# The fast lane (CONTRIBUTING.md, "The fast lane"): the in-process and real-git
# tests, on every core (pytest-xdist), without the tests marked `slow`: the real
# Claude Code (tests/e2e), pipx, tmux/zsh/fish, the pre-commit framework, and the
# concurrency and bounded-wait tests. pytest only, in the ./.venv that
# scripts/test.sh makes; extra args go to pytest (`-n 0`: one process).
# CI runs the full command, scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! .venv/bin/python -c "import xdist" 2>/dev/null; then
  echo "test-fast: ./.venv is missing or has no pytest-xdist; run bash scripts/test.sh once" >&2
  exit 2
fi
exec .venv/bin/python -m pytest -m "not slow" -n auto "$@"
