"""Responsiveness as a number: the longest the GUI thread's event loop went without
running a 10 ms timer (used by `make bench` and by the GUI tests)."""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, Qt, QTimer


class StallProbe(QObject):
    """``start()``, do the work, ``stop()``; then ``worst`` is the longest gap in seconds.

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
        self._last = 0.0

    def start(self) -> None:
        self.gaps.clear()
        self._last = time.perf_counter()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.gaps.append(now - self._last)
        self._last = now

    @property
    def worst(self) -> float:
        return max(self.gaps[1:], default=0.0)
