"""Settings module for `rq worker -c jobs.worker_settings`: build the app once in the worker parent.

`rq worker` forks a work horse per job; without this every horse imports webapp and runs
create_app() again (~0.7 s) before the job starts. Importing here lets the horses inherit the
built app. No database or Redis connection is opened here, so nothing shared crosses the fork.
"""
import os

import jobs
import jobs.deadlines  # noqa: F401
import jobs.imports  # noqa: F401
import jobs.monthly_pack  # noqa: F401
import jobs.printing  # noqa: F401

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")

jobs.app()
