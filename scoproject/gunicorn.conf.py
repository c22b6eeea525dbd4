"""gunicorn settings for production: ``gunicorn -c scoproject/gunicorn.conf.py scoproject.wsgi``.

Every value can be overridden from the environment (``GUNICORN_BIND``, ``WEB_CONCURRENCY``,
``GUNICORN_TIMEOUT``, ``GUNICORN_ACCESS_LOG``) or on the command line. The app servers keep
no state of their own: with ``REDIS_URL`` set, sessions, the cache and the throttles are shared,
so any number of them can run behind one load balancer.
"""

from __future__ import annotations

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Sync workers: each request holds one worker while it waits for PostgreSQL, so a few more
# workers than cores keep the cores busy (gunicorn's own rule of thumb).
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
# "-" logs each request to stdout; unset keeps load runs from measuring the log instead.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
# Workers load the app after forking, so each opens its own database connections.
preload_app = False


def post_worker_init(worker) -> None:
    """The app is loaded: leave its long-lived objects out of the collector's walks."""
    from scoproject.gc_tuning import settle

    settle()
