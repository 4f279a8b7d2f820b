"""Gunicorn settings: `gunicorn -c gunicorn.conf.py wsgi:app` (used by `make run` and production).

Every value can be overridden from the environment; the defaults suit one small machine.
"""
import os

# 127.0.0.1 by default: in production a reverse proxy (nginx…) faces the network.
bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}"

# Two processes, a few threads each. PDF rendering (WeasyPrint) is serialised per process by a lock
# in webapp/pdf.py, so threads are safe; batches of PDFs render in RQ jobs, not in requests.
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 10

accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-")
# Path without the query string and no referer: a member search (/members?q=138…) must not write
# a mobile number to the log (tests/routes/test_no_plaintext_logs.py holds the app to the same rule).
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms'
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")

# Behind a proxy on the same machine; set FORWARDED_ALLOW_IPS to the proxy's address otherwise.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
