"""Flask CLI commands: demo data, deadline processing."""
import time

import click
from sqlalchemy import event, func, select

from .extensions import db
from .models import User


def register_cli(app) -> None:
    @app.cli.command("demo-data")
    def demo_data():
        """Load the demo company when the database has no users yet."""
        if db.session.scalar(select(func.count(User.id))):
            click.echo("database already has users; demo data not loaded")
            return
        from .demo import DEMO_USERS, load

        started = time.monotonic()
        _unsynced_sqlite()
        load()
        click.echo(f"demo data loaded in {time.monotonic() - started:.0f} s (users: "
                   f"{', '.join(u[0] for u in DEMO_USERS)}; password: demo)")

    @app.cli.command("rotate-member-key")
    @click.option("--new-key-file", type=click.Path(exists=True, dir_okay=False), required=True,
                  help="a file holding the new MEMBER_DATA_KEY (generate_key())")
    @click.option("--batch", default=500, show_default=True, help="rows per commit")
    def rotate_member_key(new_key_file, batch):
        """Re-encrypt member data under a new key; run it again if it was interrupted."""
        from pathlib import Path

        from .services import member_key

        new_key = Path(new_key_file).read_text().strip()
        done = member_key.rotate(old_key=app.config["MEMBER_DATA_KEY"], new_key=new_key, batch=batch,
                                 progress=lambda table, last: click.echo(f"{table}: up to id {last}"))
        if app.config["MEMBER_DATA_KEY_FILE"]:  # demo/dev: the key lives in instance/member.key
            Path(app.config["MEMBER_DATA_KEY_FILE"]).write_text(new_key)
            click.echo(f"{done} rows re-encrypted; {app.config['MEMBER_DATA_KEY_FILE']} now holds the new key")
        else:
            click.echo(f"{done} rows re-encrypted; set MEMBER_DATA_KEY to the new key before starting")

    @app.cli.command("backup")
    @click.argument("dest", type=click.Path(file_okay=False))
    def backup_command(dest):
        """Back up the database and the batch PDFs into DEST (a new folder); not the key."""
        from pathlib import Path

        from .services import backup

        manifest = backup.backup(dest=Path(dest))
        click.echo(f"backup in {dest} (revision {manifest['revision']}); keep MEMBER_DATA_KEY "
                   f"apart: fingerprint {manifest['member_key_fingerprint']}")

    @app.cli.command("restore")
    @click.argument("src", type=click.Path(exists=True, file_okay=False))
    @click.option("--yes", is_flag=True, help="replace the current database without asking")
    def restore_command(src, yes):
        """Replace the database and the batch PDFs by the backup in SRC (stop web and workers first)."""
        from pathlib import Path

        from .services import backup

        if not yes:
            click.confirm("This replaces the current database. Go on?", abort=True)
        manifest = backup.restore(src=Path(src))
        click.echo(f"restored the backup of {manifest['taken_at']}; run `flask db upgrade` if the "
                   "code is newer, then start the workers: the sweeper fires what fell due meanwhile")

    @app.cli.command("process-due")
    def process_due():
        """Fire every due reminder/escalation now (what the sweeper does)."""
        from .services.deadlines import process_due as run

        click.echo(run())


def _unsynced_sqlite() -> None:
    """For this process only: SQLite without an fsync per commit. The demo replays its stories
    through the services, each committing, and a disk sync per commit was half the load time;
    a demo interrupted half-way is deleted and loaded again anyway."""
    engine = db.engine
    if engine.dialect.name != "sqlite":
        return
    db.session.remove()
    engine.dispose()  # connections opened from now on get the pragma

    @event.listens_for(engine, "connect")
    def _no_sync(dbapi_connection, _record):
        dbapi_connection.execute("PRAGMA synchronous=OFF")
