"""Garbage-collector settings for a long-lived app server process.

A worker holds a few hundred thousand objects that live as long as it does (modules, models,
URL patterns, compiled templates). CPython's collector walks all of them again at every
full collection, which a request that builds many objects triggers every few requests: that
walk, not the request's own work, is the slowest request's extra cost. Once the app is
loaded, :func:`settle` moves what exists to a permanent generation the collector skips
(``gc.freeze``, the standard advice for pre-fork servers) and collects the youngest
generation less often. Called by gunicorn in each worker (``post_worker_init`` in
``gunicorn.conf.py``) and by ``manage.py benchmark`` before it measures, so the benchmark's
process behaves as a worker does. Reference cycles are still collected.
"""

from __future__ import annotations

import gc

# Allocations net of deallocations before a young collection (CPython's default is 700),
# and young collections per older one (default 10).
YOUNG_THRESHOLD = 7000
OLDER_THRESHOLDS = (20, 20)


def settle() -> None:
    """Collect once, freeze what survives, and space out the young collections."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, *OLDER_THRESHOLDS)
