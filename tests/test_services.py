"""Process-wide set-up done once a process has started."""

from __future__ import annotations

import gc

from hookline.services import freeze_startup_heap


def test_start_up_objects_leave_the_collectors_sight() -> None:
    before = gc.get_freeze_count()
    try:
        freeze_startup_heap()
        assert gc.get_freeze_count() > before
        # What start-up left behind is no longer walked by a full collection.
        assert len(gc.get_objects(generation=2)) < gc.get_freeze_count()
    finally:
        gc.unfreeze()
