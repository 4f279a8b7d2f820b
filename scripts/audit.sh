#!/usr/bin/env bash
# `make audit`: check the pinned requirements against the Python packaging advisory database
# (PyPI's JSON API / OSV) with pip-audit, installed in a venv of its own (.venv-audit) so the
# app's .venv stays exactly as pinned. Says plainly when the tool or the database is out of reach.
# Exit status: 0 = every pinned package checked, no known vulnerability; 1 = checked, at least one
# known vulnerability (listed above the status); 2 = NOT (fully) CHECKED: pip-audit could not be
# installed, or the advisory database could not be reached for some package — not a pass.
set -uo pipefail
cd "$(dirname "$0")/.."
AUDIT_VENV=.venv-audit
PIP_AUDIT_VERSION=2.10.1
if [ ! -x "$AUDIT_VENV/bin/pip-audit" ]; then
    python3 -m venv "$AUDIT_VENV" >/dev/null 2>&1 \
        && timeout 300 "$AUDIT_VENV/bin/pip" install -q "pip-audit==$PIP_AUDIT_VERSION" >/dev/null 2>&1
    if [ ! -x "$AUDIT_VENV/bin/pip-audit" ]; then
        echo "make audit: NOT RUN — pip-audit $PIP_AUDIT_VERSION could not be installed (no access to the package index?)." >&2
        echo "The dependencies were NOT checked for known vulnerabilities." >&2
        exit 2
    fi
fi
status=0
for file in requirements.txt requirements-dev.txt; do
    echo "==> pip-audit -r $file"
    # --no-deps: every runtime dependency we ship is pinned in the file itself
    out=$(timeout 600 "$AUDIT_VENV/bin/pip-audit" --progress-spinner off -r "$file" --no-deps 2>&1)
    rc=$?
    echo "$out" | grep -v "encouraged to fully hash\|pip-compile"
    if echo "$out" | grep -q "could not be audited"; then
        echo "make audit: $file NOT FULLY CHECKED — the packages above could not be looked up (no access to PyPI's vulnerability data from here)." >&2
        status=2
    elif [ $rc -ne 0 ] && [ $rc -ne 1 ]; then
        echo "make audit: $file NOT CHECKED — pip-audit could not reach the vulnerability database (exit $rc)." >&2
        status=2
    elif [ $rc -eq 1 ]; then
        status=$(( status == 2 ? 2 : 1 ))
    fi
done
exit $status
