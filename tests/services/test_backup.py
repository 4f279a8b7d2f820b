"""Backup → wipe → restore: every member reads again, open tasks and pending deadlines are back,
and each deadline fires once; a backup under another key is refused."""
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.factories import make_org, member_data
from webapp import crypto
from webapp.extensions import db
from webapp.models import Member, Notification, Task
from webapp.services import backup, member_key
from webapp.services.deadlines import process_due
from webapp.services.registration import register

pytestmark = pytest.mark.commits  # other connections and processes read what these tests write

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc)


def _wipe():
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    db.session.commit()


def test_backup_wipe_restore_and_deadlines_fire_once(app, ctx, tmp_path):
    if db.engine.url.get_backend_name() != "sqlite":
        pytest.skip("the PostgreSQL path needs pg_dump of the server's version")
    org = make_org()
    mobiles = {}
    for _ in range(3):
        data = member_data(org["assoc1"])
        mobiles[register(actor=org["assoc1"], store=org.stores[0], data=data, now=NOW).member_id] = data["mobile"]
    batch_file = Path(app.instance_path) / "batches" / "batch-1.pdf"
    batch_file.parent.mkdir(parents=True, exist_ok=True)
    batch_file.write_bytes(b"%PDF-1.7 test")
    due = db.session.scalars(select(Task.due_at).where(Task.status == "open")).all()
    assert len(due) == 3

    manifest = backup.backup(dest=tmp_path / "b1")
    assert manifest["member_key_fingerprint"] == crypto.fingerprint()
    assert not any("member.key" in str(p) for p in (tmp_path / "b1").rglob("*"))  # never the key
    _wipe()
    batch_file.unlink()
    assert db.session.scalar(select(func.count(Member.id))) == 0

    backup.restore(src=tmp_path / "b1")
    for member_id, mobile in mobiles.items():
        assert db.session.get(Member, member_id).mobile == mobile
    assert sorted(db.session.scalars(select(Task.due_at).where(Task.status == "open")).all()) == sorted(due)
    assert batch_file.read_bytes() == b"%PDF-1.7 test"
    later = max(due) + timedelta(seconds=1)
    process_due(now=later)
    fired = db.session.scalar(select(func.count(Notification.id)))
    assert fired >= 3
    process_due(now=later + timedelta(minutes=5))
    assert db.session.scalar(select(func.count(Notification.id))) == fired  # once


def test_a_backup_under_another_key_is_refused(app, ctx, tmp_path):
    if db.engine.url.get_backend_name() != "sqlite":
        pytest.skip("SQLite path")
    make_org()
    backup.backup(dest=tmp_path / "b2")
    (tmp_path / "b2" / "manifest.json").write_text((tmp_path / "b2" / "manifest.json").read_text()
                                                   .replace(crypto.fingerprint(), "0" * 32))
    with pytest.raises(member_key.KeyMismatch):
        backup.restore(src=tmp_path / "b2")


def test_old_batch_pdfs_and_stale_uploads_are_deleted(app, ctx):
    import os
    import time

    instance = Path(app.instance_path)
    old_batch, new_batch = instance / "batches" / "batch-old.pdf", instance / "batches" / "batch-new.pdf"
    stale_upload, fresh_upload = instance / "sales_imports" / "a.csv", instance / "sales_imports" / "b.csv"
    import shutil

    for folder in ("batches", "sales_imports"):  # other tests' files (dated by the disk) go first
        shutil.rmtree(instance / folder, ignore_errors=True)
    for path in (old_batch, new_batch, stale_upload, fresh_upload):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    now = time.time()  # the test's clock: the files are dated by it, not by the disk's real time
    for path in (new_batch, fresh_upload):
        os.utime(path, (now - 60, now - 60))
    os.utime(old_batch, (now - 31 * 86400, now - 31 * 86400))
    os.utime(stale_upload, (now - 25 * 3600, now - 25 * 3600))
    assert backup.purge_personal_files(now=now) == 2
    assert not old_batch.exists() and not stale_upload.exists()
    assert new_batch.exists() and fresh_upload.exists()
