"""Python's cycle collector runs in whichever thread happens to be allocating. When it
frees Qt objects there (a closed window or dialog caught in a reference cycle), they are
destroyed off the GUI thread: a deadlock was seen when the ONNX export's thread collected
an old window while the GUI thread was deleting another. So automatic collection is
switched off and the GUI thread collects, once a second, whatever generations the usual
thresholds say are due (the approach of pyqtgraph's GarbageCollector).

A full collection walks every object of the process (hundreds of milliseconds once torch
and a few windows are loaded) and holds the GIL meanwhile, so while a run trains only the
young generations are collected; the full collection waits for the run to end.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QCoreApplication, QTimer

INTERVAL_MS = 1000
_timer: QTimer | None = None
_runs = 0  # training runs under way: no full collection meanwhile


def hold_full_collections() -> None:
    """A run starts: collect only the young generations until it ends."""
    global _runs
    _runs += 1


def release_full_collections() -> None:
    global _runs
    _runs = max(_runs - 1, 0)


def collect_in_gui_thread() -> None:
    """Call in the GUI thread once a QApplication exists (idempotent)."""
    global _timer
    if _timer is not None:
        return
    first, second, third = gc.get_threshold()

    def collect_due() -> None:
        young, middle, old = gc.get_count()
        if young > first:
            full = middle > second and old > third and not _runs
            gc.collect(2 if full else 1 if middle > second else 0)

    gc.disable()
    _timer = QTimer(QCoreApplication.instance())
    _timer.timeout.connect(collect_due)
    _timer.start(INTERVAL_MS)
