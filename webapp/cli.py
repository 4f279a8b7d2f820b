"""Flask CLI commands: demo data, deadline processing."""
import click
from sqlalchemy import func, select

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

        load()
        click.echo(f"demo data loaded (users: {', '.join(u[0] for u in DEMO_USERS)}; "
                   "password: demo)")

    @app.cli.command("process-due")
    def process_due():
        """Fire every due reminder/escalation now (what the sweeper does)."""
        from .services.deadlines import process_due as run

        click.echo(run())
