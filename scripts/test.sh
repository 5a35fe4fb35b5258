#!/usr/bin/env bash
# The one test command (README, .ci/run): installs what the tests need into
# ./.venv, then runs ruff, mypy and the test suite. Extra args go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'
# Editable installs get no .pyc, and PYTHONDONTWRITEBYTECODE may be set: every
# `moai` subprocess would recompile the package. Compile once, explicitly.
.venv/bin/python -m compileall -q src

.venv/bin/ruff check src tests benchmarks
.venv/bin/ruff format --check -q src tests benchmarks
.venv/bin/mypy
exec .venv/bin/python -m pytest "$@"
