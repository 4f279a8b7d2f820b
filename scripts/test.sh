#!/usr/bin/env bash
# `make test`: set up (without serving), then the whole pytest suite.
#
#   make test                                   # SQLite + a private redis-server (tests/conftest.py)
#   DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test make test
#   make test PYTEST_ARGS="tests/routes -x"     # or: scripts/test.sh tests/routes -x
#
# Exits non-zero when any test fails, and also when no test was collected (pytest's exit code 5).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh

set +e
.venv/bin/python -m pytest "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
    echo "pytest collected no tests: treated as a failure" >&2
    exit 1
fi
exit "$rc"
