"""Python's cycle collector, run by the GUI thread only, and cheaply.

Why: a collection frees Qt objects in whichever thread happens to trigger it, and Qt
objects destroyed off the GUI thread can deadlock it; so automatic collection is off and
a timer in the GUI thread collects what the usual thresholds say is due (as pyqtgraph's
GarbageCollector does). Once start-up is over its objects are frozen (``gc.freeze``), so
collections walk only what came later (a run started early freezes them uncollected);
no full collection runs while a run trains.
"""

from __future__ import annotations

import atexit
import gc

from PySide6.QtCore import QCoreApplication, QTimer

from . import warmup

INTERVAL_MS = 1000
_timer: QTimer | None = None
_runs = 0  # training runs under way: no full collection meanwhile
_frozen = False


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
        global _frozen
        if not _frozen and warmup.done():
            if not _runs:  # start-up's garbage, once; during a run that walk would stall
                gc.collect()
            gc.freeze()  # cheap: what start-up made leaves the young generation unwalked
            # The interpreter's final collection frees frozen objects only once handed back.
            atexit.register(gc.unfreeze)
            _frozen = True
            return
        young, middle, old = gc.get_count()
        if young > first:
            full = middle > second and old > third and not _runs
            gc.collect(2 if full else 1 if middle > second else 0)

    gc.disable()
    _timer = QTimer(QCoreApplication.instance())
    _timer.timeout.connect(collect_due)
    _timer.start(INTERVAL_MS)


def collect_automatically() -> None:
    """Undo :func:`collect_in_gui_thread`: Python collects by itself, nothing frozen."""
    global _timer, _frozen
    if _timer is None:
        return
    _timer.stop()
    _timer.deleteLater()
    _timer = None
    if _frozen:
        atexit.unregister(gc.unfreeze)
        gc.unfreeze()
        _frozen = False
    gc.enable()
