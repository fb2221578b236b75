"""Responsiveness as a number: the longest the GUI thread's event loop went without
running a 10 ms timer (used by `make bench` and by the GUI tests).

Part of a gap can be the machine's, not the app's: the GUI thread ready to run but
waiting for a core that other processes hold. Linux counts that wait per thread
(``/proc/self/task/TID/schedstat``), so ``worst_own`` leaves it out; what remains is the
app's own stall: work in the GUI thread, or waiting for the GIL or a lock of ours.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer


def _runqueue_wait(stat: Path | None) -> float:
    """Seconds this thread has spent ready to run but not running (0 where the kernel
    does not say)."""
    if stat is None:
        return 0.0
    try:
        return int(stat.read_text().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


class StallProbe(QObject):
    """``start()``, do the work, ``stop()``; then ``worst`` is the longest gap in seconds
    and ``worst_own`` the longest once the wait for a core is taken out.

    The probe wakes the GUI thread 100 times a second, which itself slows training on a
    2-core machine: measure stalls and epoch times in separate runs.
    """

    def __init__(self, interval_ms: int = 10) -> None:
        super().__init__()
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)
        self.gaps: list[float] = []
        self.own: list[float] = []  # each gap less the time spent waiting for a core
        self._last = self._waited = 0.0
        self._stat: Path | None = None

    def start(self) -> None:
        stat = Path(f"/proc/self/task/{threading.get_native_id()}/schedstat")
        self._stat = stat if stat.exists() else None
        self.gaps.clear()
        self.own.clear()
        self._last, self._waited = time.perf_counter(), _runqueue_wait(self._stat)
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def _tick(self) -> None:
        now, waited = time.perf_counter(), _runqueue_wait(self._stat)
        gap = now - self._last
        self.gaps.append(gap)
        self.own.append(max(gap - (waited - self._waited), 0.0))
        self._last, self._waited = now, waited

    @property
    def worst(self) -> float:
        return max(self.gaps[1:], default=0.0)

    @property
    def worst_own(self) -> float:
        return max(self.own[1:], default=0.0)
