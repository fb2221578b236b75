"""An opt-in report of how long the window takes to start, for ``make bench``'s cold start.

With ``CNN_STUDIO_STARTUP_TIMES=FILE`` set, the app appends ``NAME SECONDS CPU`` lines to
FILE, SECONDS on ``time.monotonic()`` (CLOCK_MONOTONIC, one clock for every process on Linux,
so a launcher can subtract the moment it started the process) and CPU the process's CPU
seconds so far (what a busy machine does not inflate much): ``shown`` when the window is
first shown, ``exposed`` when it is first exposed on the screen, ``start enabled`` when Start
can first be pressed. Unset, nothing is watched and nothing is written.
"""

from __future__ import annotations

import os
import time

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QPushButton, QWidget

VARIABLE = "CNN_STUDIO_STARTUP_TIMES"


def record(name: str) -> None:
    """Append ``name`` and the time now to the report, if one was asked for."""
    path = os.environ.get(VARIABLE)
    if path:
        with open(path, "a", encoding="utf-8") as report:
            report.write(f"{name} {time.monotonic():.6f} {time.process_time():.3f}\n")


class _FirstTimes(QObject):
    """Records each moment once, then stops watching."""

    def __init__(self, window: QWidget, start: QPushButton) -> None:
        super().__init__(window)
        self.window, self.start = window, start
        self.pending = {"shown", "exposed", "start enabled"}
        window.installEventFilter(self)
        if start.isEnabled():
            self._once("start enabled")
        else:
            start.installEventFilter(self)

    def _once(self, name: str) -> None:
        if name in self.pending:
            self.pending.discard(name)
            record(name)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt naming
        kind = event.type()
        if watched is self.start and kind == QEvent.Type.EnabledChange and self.start.isEnabled():
            self._once("start enabled")
            self.start.removeEventFilter(self)
        elif watched is self.window and kind == QEvent.Type.Show:
            self._once("shown")
            self.window.removeEventFilter(self)
            self.window.windowHandle().installEventFilter(self)  # a QWindow is what is exposed
        elif kind == QEvent.Type.Expose and watched is self.window.windowHandle():
            if watched.isExposed():
                self._once("exposed")
                watched.removeEventFilter(self)
        return False


def watch(window: QWidget) -> None:
    """Report ``window``'s first show and exposure and its Start button's first enabling."""
    if os.environ.get(VARIABLE):
        _FirstTimes(window, window.findChild(QPushButton, "startButton"))
