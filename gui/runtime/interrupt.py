"""Ctrl+C in the terminal that started the window closes it as its close button does
(the run stopped and saved), where it printed a KeyboardInterrupt traceback and the window
kept running: Qt's event loop runs no Python code for Python's own handler to run in.

The signal wakes the event loop through a socket (``signal.set_wakeup_fd``), not a timer:
a periodic wake-up would take the GUI thread, and so a core, from training.
"""

from __future__ import annotations

import signal
import socket

from PySide6.QtCore import QObject, QSocketNotifier
from PySide6.QtWidgets import QWidget

EXIT_STATUS = 130  # 128 + SIGINT, as a shell reports a program Ctrl+C ended


class CloseOnInterrupt(QObject):
    """While it lives, SIGINT closes ``window``; :attr:`interrupted` says whether it did."""

    def __init__(self, window: QWidget) -> None:
        super().__init__()  # not the window's: it is read after the window is gone
        self.window = window
        self.interrupted = False
        self._read, self._write = socket.socketpair()
        for end in (self._read, self._write):
            end.setblocking(False)
        signal.set_wakeup_fd(self._write.fileno())
        signal.signal(signal.SIGINT, self._on_interrupt)
        self._notifier = QSocketNotifier(self._read.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._drain)  # Python runs, and so the handler

    def _drain(self) -> None:
        try:
            self._read.recv(64)
        except BlockingIOError:
            pass

    def _on_interrupt(self, signum: int, frame: object) -> None:
        self.interrupted = True
        self.window.close()
