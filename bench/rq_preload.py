"""Kept for the bench's command lines: the worker settings now live in jobs/worker_settings.py."""
from jobs.worker_settings import *  # noqa: F401,F403
