"""RQ job entry points. Thin: build the app once per process, run a service in its context."""
from functools import lru_cache


@lru_cache(maxsize=1)
def app():
    from webapp import create_app

    return create_app()


def run(fn, *args, **kwargs):
    """Call a service function inside an app context, releasing the session afterwards."""
    from webapp.extensions import db

    with app().app_context():
        try:
            return fn(*args, **kwargs)
        finally:
            db.session.remove()
