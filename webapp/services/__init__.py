from contextlib import contextmanager


@contextmanager
def transaction():
    """Commit what the block wrote, or roll all of it back and re-raise: a service that refuses
    leaves nothing behind, so no view ever needs to commit or roll back."""
    from ..extensions import db

    try:
        yield
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
