"""The collector's settings for app server workers (scoproject/gc_tuning.py)."""

from __future__ import annotations

import gc
import runpy
import weakref
from pathlib import Path

import pytest
from django.conf import settings

from scoproject import gc_tuning


@pytest.fixture
def collector():
    """The test process's collector, given back as it was."""
    threshold = gc.get_threshold()
    gc.unfreeze()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


def test_settle_freezes_what_exists_and_spaces_out_young_collections(collector):
    survivor = [object() for _ in range(10)]
    gc_tuning.settle()
    assert gc.get_freeze_count() >= len(survivor)
    assert gc.get_threshold() == (gc_tuning.YOUNG_THRESHOLD, *gc_tuning.OLDER_THRESHOLDS)


def test_cycles_made_after_settling_are_still_collected(collector):
    gc_tuning.settle()
    first, second = Node(), Node()
    first.other, second.other = second, first
    gone = weakref.ref(first)
    del first, second
    gc.collect()
    assert gone() is None


def test_each_gunicorn_worker_settles_once_the_app_is_loaded(collector):
    conf = runpy.run_path(str(Path(settings.BASE_DIR) / "scoproject" / "gunicorn.conf.py"))
    gc.set_threshold(700, 10, 10)
    conf["post_worker_init"](worker=None)
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold()[0] == gc_tuning.YOUNG_THRESHOLD
