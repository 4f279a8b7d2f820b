"""gunicorn entry point of bench/bench_load.py: the real app (wsgi.py) plus one bare route, the
"floor" a request costs in this stack (gunicorn, Flask, the session cookie) doing nothing."""
from wsgi import app


@app.get("/_bench/bare")
def bench_bare():
    return "ok", 200, {"Content-Type": "text/plain"}
