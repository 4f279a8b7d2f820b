#!/usr/bin/env bash
# Prepare this checkout: Debian packages, .venv, translations, PDF fonts, database schema.
#
#   scripts/setup.sh          # what `make test` does first: everything, test tools included
#   scripts/setup.sh --run    # what `make run` does first: only what serving needs (no Chromium,
#                             # no test tools); run.sh builds the PDF fonts beside the demo data
#
# Idempotent and quick when nothing changed: apt is asked only for missing packages, pip only
# when requirements*.txt changed (stamps in .venv/), the font builder skips an up-to-date subset.
# The terminal gets one line per step (with its time); the tools' own output goes to
# instance/logs/setup.log, whose end is shown when a step fails.
# Environment: PYTHON (interpreter for a new .venv, default python3), DATABASE_URL (schema target;
# default instance/crm.sqlite, see config.py).
set -euo pipefail
cd "$(dirname "$0")/.."

mode=test
[ "${1:-}" = "--run" ] && mode=run
LOG_DIR=instance/logs
LOG=$LOG_DIR/setup.log
mkdir -p "$LOG_DIR"
: >"$LOG"

source scripts/_lib.sh
trap kill_step EXIT

# --- Debian packages -----------------------------------------------------------------------
# redis-server: private Redis for `make run`/tests; fonts-noto-cjk: CJK glyphs for the PDFs;
# pango/harfbuzz-subset/fontconfig/shared-mime-info: WeasyPrint's native libraries;
# graphviz: `dot` draws the workflow diagrams; python3-venv/python3-dev/gcc/libc6-dev: the
# virtualenv and any wheel that must be compiled. Tests only: poppler-utils + chromium.
PACKAGES=(redis-server fonts-noto-cjk fonts-dejavu-core libharfbuzz-subset0 libpango-1.0-0
          libpangoft2-1.0-0 fontconfig shared-mime-info graphviz
          python3-venv python3-dev gcc libc6-dev ca-certificates)
[ "$mode" = test ] && PACKAGES+=(poppler-utils chromium)

missing=()
for pkg in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null | grep -qx installed || missing+=("$pkg")
done
if ((${#missing[@]})); then
    if ! command -v apt-get >/dev/null; then
        echo "missing packages (${missing[*]}) and no apt-get: install them by hand" >&2
        exit 1
    fi
    sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || { echo "run as root (or install sudo) to install: ${missing[*]}" >&2; exit 1; }
        sudo=(sudo)
    fi
    quietly "apt-get update" "${sudo[@]}" apt-get update -qq
    quietly "installing ${#missing[@]} Debian packages (${missing[*]})" \
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi

# --- virtualenv ------------------------------------------------------------------------------
# One venv for serving and testing; `make run` installs requirements.txt only (no pytest, no
# Playwright), `make test` adds requirements-dev.txt (which includes requirements.txt).
PYTHON=${PYTHON:-python3}
if [ -d .venv ] && ! .venv/bin/python -c 'import sys' 2>/dev/null; then
    echo "==> removing broken .venv"
    rm -rf .venv
fi
if [ ! -x .venv/bin/python ]; then
    quietly "creating .venv with $PYTHON" "$PYTHON" -m venv .venv
fi
run_hash=$(sha256sum <requirements.txt | cut -d' ' -f1)
dev_hash=$(cat requirements.txt requirements-dev.txt | sha256sum | cut -d' ' -f1)
run_stamp=.venv/.requirements-run.sha256
dev_stamp=.venv/.requirements.sha256
if [ "$(cat "$dev_stamp" 2>/dev/null)" = "$dev_hash" ] \
    || { [ "$mode" = run ] && [ "$(cat "$run_stamp" 2>/dev/null)" = "$run_hash" ]; }; then
    :  # up to date
else
    file=requirements-dev.txt
    [ "$mode" = run ] && file=requirements.txt
    quietly "installing Python packages from $file" --count '^Collecting ' \
        .venv/bin/python -m pip install --disable-pip-version-check --no-input --no-compile \
        --progress-bar off -r "$file"
    # Bytecode on every core at once (pip compiles one file after another). Needed even though
    # Python would write it on first import: not with PYTHONDONTWRITEBYTECODE set, and then every
    # process (web, worker, cron, each flask command) compiled ~600 modules again, ~10 s each.
    # A file that does not compile (a package's Python-2 example) only costs its own speed-up.
    purelib=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')
    quietly "compiling Python packages" bash -c '"$0" -m compileall -q -j 0 "$1" || true' \
        .venv/bin/python "$purelib"
    echo "$run_hash" >"$run_stamp"
    [ "$mode" = test ] && echo "$dev_hash" >"$dev_stamp"
fi

# --- translations, fonts ---------------------------------------------------------------------
if [ -d translations ] && [ -n "$(find translations -name '*.po' -print -quit)" ]; then
    .venv/bin/pybabel -q compile -d translations
fi
if [ "$mode" = test ] && ! .venv/bin/python scripts/build_fonts.py --check >/dev/null; then
    quietly "building the PDF font subset (once)" .venv/bin/python scripts/build_fonts.py
fi

# --- database schema -------------------------------------------------------------------------
case "${DATABASE_URL:-}" in
postgres://* | postgresql://*)
    # A fresh PostgreSQL server has no database of that name yet: create it (needs CREATEDB).
    .venv/bin/python - <<'PY'
import os, psycopg
from psycopg import conninfo, sql
url = os.environ["DATABASE_URL"].replace("postgres://", "postgresql://", 1)
try:
    psycopg.connect(url, connect_timeout=5).close()
except psycopg.OperationalError as exc:
    if "does not exist" not in str(exc):
        raise SystemExit(f"cannot connect to DATABASE_URL: {exc}")
    name = conninfo.conninfo_to_dict(url)["dbname"]
    with psycopg.connect(url, dbname="postgres", autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    print(f"created database {name}")
PY
    ;;
esac
quietly "applying migrations" .venv/bin/flask --app wsgi db upgrade
