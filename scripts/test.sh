#!/usr/bin/env bash
# Sets up .venv (libens + test and MPI extras) and runs the whole test suite; extra args go to pytest.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-venv.sh "test,mpi" || exit 1
.venv/bin/ruff check libens tests examples benchmarks || exit 1
.venv/bin/mypy libens || exit 1
.venv/bin/python -m pytest "$@"
rc=$?
if [ "$rc" -eq 5 ]; then
  echo "pytest collected no tests"
  exit 0
fi
exit "$rc"
