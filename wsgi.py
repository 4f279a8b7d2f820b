"""WSGI entry point: gunicorn wsgi:app"""
import gc

from webapp import create_app

app = create_app()
# Everything built at start-up lives as long as the process: moving it out of the collector's
# generations keeps garbage-collection pauses out of request tails (bench/bench_inbox.py --gc-freeze).
gc.freeze()
