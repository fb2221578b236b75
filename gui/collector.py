"""Python's cycle collector runs in whichever thread happens to be allocating. When it
frees Qt objects there (a closed window or dialog caught in a reference cycle), they are
destroyed off the GUI thread: a deadlock was seen when the ONNX export's thread collected
an old window while the GUI thread was deleting another. So automatic collection is
switched off and the GUI thread collects, once a second, whatever generations the usual
thresholds say are due (the approach of pyqtgraph's GarbageCollector)."""

from __future__ import annotations

import gc

from PySide6.QtCore import QCoreApplication, QTimer

INTERVAL_MS = 1000
_timer: QTimer | None = None


def collect_in_gui_thread() -> None:
    """Call in the GUI thread once a QApplication exists (idempotent)."""
    global _timer
    if _timer is not None:
        return
    first, second, third = gc.get_threshold()

    def collect_due() -> None:
        young, middle, old = gc.get_count()
        if young > first:
            gc.collect(2 if middle > second and old > third else 1 if middle > second else 0)

    gc.disable()
    _timer = QTimer(QCoreApplication.instance())
    _timer.timeout.connect(collect_due)
    _timer.start(INTERVAL_MS)
