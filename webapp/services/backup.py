"""Consistent backups and their restore: the database (SQLite online backup / pg_dump), the filing
batch PDFs, and a manifest naming the member-data key's fingerprint. The key itself is never in
a backup (keep it apart); a restore refuses a backup whose data another key encrypted."""
from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import time
from pathlib import Path

from flask import current_app
from sqlalchemy import text

from .. import clock, crypto
from ..extensions import db
from .member_key import KeyMismatch

FILES = ("batches",)  # under instance/: what else must be kept (import uploads are transient)


def _libpq_url() -> str:
    return db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def backup(*, dest: Path) -> dict:
    """Write a consistent copy of the database and the kept files into `dest` (a new folder)."""
    dest.mkdir(parents=True, exist_ok=False)
    url = db.engine.url
    revision = db.session.scalar(text("SELECT version_num FROM alembic_version"))
    db.session.remove()
    if url.get_backend_name() == "sqlite":
        with sqlite3.connect(url.database) as source, sqlite3.connect(dest / "crm.sqlite") as copy:
            source.backup(copy)  # the online backup API: consistent while the app writes
        database = "crm.sqlite"
    else:
        subprocess.run(["pg_dump", "--format=custom", "--no-owner", "--file", str(dest / "crm.pgdump"),
                        _libpq_url()], check=True, capture_output=True, timeout=3600)
        database = "crm.pgdump"
    instance = Path(current_app.instance_path)
    for folder in FILES:
        if (instance / folder).is_dir():
            shutil.copytree(instance / folder, dest / "files" / folder)
    manifest = {"taken_at": clock.now().isoformat(), "database": database, "revision": revision,
                "member_key_fingerprint": crypto.fingerprint(), "files": list(FILES)}
    (dest / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return manifest


def restore(*, src: Path) -> dict:
    """Replace the database and the kept files by the backup in `src`; the configured key must be
    the one the backup's member data is under."""
    manifest = json.loads((src / "manifest.json").read_text())
    if manifest["member_key_fingerprint"] != crypto.fingerprint():
        raise KeyMismatch("this backup's member data is under another MEMBER_DATA_KEY: configure "
                          "the key that was in use when it was taken")
    url = db.engine.url
    db.session.remove()
    db.engine.dispose()
    if manifest["database"] == "crm.sqlite":
        if url.get_backend_name() != "sqlite":
            raise ValueError("a SQLite backup cannot be restored into PostgreSQL here")
        with sqlite3.connect(src / "crm.sqlite") as source, sqlite3.connect(url.database) as live:
            source.backup(live)
    else:
        subprocess.run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
                        "--dbname", _libpq_url(), str(src / "crm.pgdump")],
                       check=True, capture_output=True, timeout=3600)
    instance = Path(current_app.instance_path)
    for folder in manifest["files"]:
        if (src / "files" / folder).is_dir():
            shutil.rmtree(instance / folder, ignore_errors=True)
            shutil.copytree(src / "files" / folder, instance / folder)
    return manifest


def purge_personal_files(*, now: float | None = None) -> int:
    """Delete filing-batch PDFs older than BATCH_RETENTION_DAYS and import uploads older than a
    day (a preview never confirmed): plain files with personal data are kept only as long as
    they are needed. Returns how many were deleted; run by the daily job."""
    now = time.time() if now is None else now
    instance = Path(current_app.instance_path)
    limits = {"batches": current_app.config["BATCH_RETENTION_DAYS"] * 86400, "sales_imports": 86400}
    deleted = 0
    for folder, age in limits.items():
        for path in (instance / folder).glob("*") if (instance / folder).is_dir() else ():
            if path.is_file() and now - path.stat().st_mtime > age:
                path.unlink(missing_ok=True)
                deleted += 1
    return deleted
