#!/usr/bin/env bash
# Prepare this checkout: Debian packages, .venv, translations, PDF fonts, database schema.
#
#   scripts/setup.sh          # what `make run` and `make test` do first
#
# Idempotent and quick when nothing changed: apt is asked only for missing packages, pip only
# when requirements*.txt changed (stamp in .venv/), the font builder skips an up-to-date subset.
# Environment: PYTHON (interpreter for a new .venv, default python3), DATABASE_URL (schema target;
# default instance/crm.sqlite, see config.py).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { if [ -t 1 ]; then printf '\033[1m==> %s\033[0m\n' "$*"; else echo "==> $*"; fi; }

# --- Debian packages -----------------------------------------------------------------------
# redis-server: private Redis for `make run`/tests; fonts-noto-cjk: CJK glyphs for the PDFs;
# pango/harfbuzz-subset/fontconfig/shared-mime-info: WeasyPrint's native libraries;
# graphviz: `dot` draws the workflow diagrams; poppler-utils + chromium: browser/PDF tests;
# python3-venv/python3-dev/gcc/libc6-dev: the virtualenv and any wheel that must be compiled.
PACKAGES=(redis-server fonts-noto-cjk fonts-dejavu-core libharfbuzz-subset0 libpango-1.0-0
          libpangoft2-1.0-0 fontconfig shared-mime-info graphviz poppler-utils chromium
          python3-venv python3-dev gcc libc6-dev ca-certificates)

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
    say "installing ${missing[*]}"
    "${sudo[@]}" apt-get update -q
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q "${missing[@]}"
fi

# --- virtualenv ------------------------------------------------------------------------------
# One venv for serving and testing: requirements-dev.txt includes requirements.txt.
PYTHON=${PYTHON:-python3}
if [ -d .venv ] && ! .venv/bin/python -c 'import sys' 2>/dev/null; then
    say "removing broken .venv"
    rm -rf .venv
fi
if [ ! -x .venv/bin/python ]; then
    say "creating .venv with $PYTHON"
    "$PYTHON" -m venv .venv
fi
stamp=.venv/.requirements.sha256
wanted=$(cat requirements.txt requirements-dev.txt | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
    say "installing Python requirements"
    .venv/bin/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt
    echo "$wanted" >"$stamp"
fi

# --- translations, fonts ---------------------------------------------------------------------
if [ -d translations ] && [ -n "$(find translations -name '*.po' -print -quit)" ]; then
    .venv/bin/pybabel -q compile -d translations
fi
if [ -f scripts/build_fonts.py ]; then
    .venv/bin/python scripts/build_fonts.py
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
say "applying migrations"
.venv/bin/flask --app wsgi db upgrade
