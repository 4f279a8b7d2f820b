#!/usr/bin/env bash
# `make test`, `make test-fast`, `make test-dates`: set up (without serving), then pytest, in
# parallel (pytest-xdist, one worker per core; each worker has its own database and Redis).
#
#   make test                                   # the whole suite: SQLite + private redis-servers
#   DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test make test   # databases test_gw0, test_gw1…
#   make test PYTEST_ARGS="tests/routes -x"     # or: scripts/test.sh tests/routes -x
#   make test-fast                              # the edit-test loop: all but browser and slow tests
#   make test-dates                             # all but slow tests (unless marked dated), once at
#                                               # each of TEST_DATES (CRM_TEST_TODAY, see tests/conftest.py)
#   TEST_WORKERS=0 make test                    # in one process (TEST_WORKERS=3: three workers)
#   TEST_SETUP=0 scripts/test.sh …              # skip scripts/setup.sh
#
# Exits non-zero when any test fails, and also when no test was collected (pytest's exit code 5).
set -euo pipefail
cd "$(dirname "$0")/.."

# Month end; New Year's Eve late in the evening; New Year's Day just after midnight (Shanghai's date
# is a day ahead of UTC's); a Spring Festival week; 29 February.
DEFAULT_DATES="2026-11-30 16:00;2026-12-31 23:30;2027-01-01 00:30;2027-02-08 10:00;2028-02-29 10:00"

mode=all
case "${1:-}" in
--fast | --dates) mode=${1#--}; shift ;;
esac

[ "${TEST_SETUP:-1}" = 0 ] || bash scripts/setup.sh

run_pytest() {
    set +e
    .venv/bin/python -m pytest -n "${TEST_WORKERS:-auto}" --dist worksteal "$@"
    local rc=$?
    set -e
    if [ "$rc" -eq 5 ]; then
        echo "pytest collected no tests: treated as a failure" >&2
        rc=1
    fi
    return "$rc"
}

case "$mode" in
all) run_pytest "$@" ;;
fast) run_pytest -m "not browser and not slow" "$@" ;;
dates)
    failed=()
    IFS=';' read -r -a dates <<<"${TEST_DATES:-$DEFAULT_DATES}"
    for today in "${dates[@]}"; do
        echo "==> today is $today (CRM_TEST_TODAY)"
        CRM_TEST_TODAY="$today" run_pytest -q -m "not slow or dated" "$@" || failed+=("$today")
    done
    if ((${#failed[@]})); then
        printf 'tests failed at CRM_TEST_TODAY=%s\n' "${failed[@]}" >&2
        exit 1
    fi
    ;;
esac
