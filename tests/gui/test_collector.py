"""The cycle collector runs in the GUI thread only, and cheaply once start-up is over."""

from __future__ import annotations

import gc
import threading
import time

from gui.runtime import warmup


class _Cycle:
    """A reference cycle that notes which thread finally freed it."""

    freed_in: list[str] = []

    def __init__(self) -> None:
        self.me = self

    def __del__(self) -> None:
        _Cycle.freed_in.append(threading.current_thread().name)


def test_garbage_made_in_a_worker_thread_is_freed_in_the_gui_thread(qtbot, app_process) -> None:
    assert not gc.isenabled()
    _Cycle.freed_in.clear()
    kept: list[list[int]] = []

    def churn() -> None:
        _Cycle()
        kept.extend([i] for i in range(50_000))  # would trigger automatic collections here

    worker = threading.Thread(target=churn, name="churn")
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: bool(_Cycle.freed_in), timeout=5_000)
    assert _Cycle.freed_in == [threading.main_thread().name]


def test_start_up_objects_are_frozen_so_full_collections_are_short(qtbot, app_process,
                                                                   window) -> None:
    assert warmup.wait(60)
    qtbot.waitUntil(lambda: gc.get_freeze_count() > 0, timeout=5_000)
    # torch, Qt and the window: several hundred thousand objects no collection walks again
    assert gc.get_freeze_count() > 5 * len(gc.get_objects())
    started = time.perf_counter()
    gc.collect()
    assert time.perf_counter() - started < 0.100

