"""Python's cycle collector runs in whichever thread happens to be allocating. When it
frees Qt objects there (a closed window or dialog caught in a reference cycle), they are
destroyed off the GUI thread: a deadlock was seen when the ONNX export's thread collected
an old window while the GUI thread was deleting another. So automatic collection is
switched off and the GUI thread collects, once a second, whatever generations the usual
thresholds say are due (the approach of pyqtgraph's GarbageCollector).

A full collection walks every object of the process: about 400,000 once torch and the
window are loaded, 150 ms on a 2-core machine, all of it holding the GIL. So once the
start-up is over (torch's warm-up import done, no run under way) what exists then is
collected one last time and frozen (``gc.freeze``): modules, classes and the window live
as long as the process, and later full collections walk only what came after, in a few
milliseconds. They are still kept out of training runs. At exit the frozen objects are
handed back so that the interpreter's final collection frees them as usual (native
extensions such as triton's otherwise report them as leaked).
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
        if not _frozen and not _runs and warmup.wait(0):
            gc.collect()
            gc.freeze()
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
