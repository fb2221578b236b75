"""Downloads a dataset in a QThread, with progress and cancellation."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from cnn_core.data.datasets import DatasetError, DownloadCancelled, download_dataset


class DownloadWorker(QObject):
    progress = Signal(int, int, str)  # done bytes, total bytes (0 = unknown), what
    finished = Signal(bool, str)  # ok, message; always the last signal

    def __init__(self, name: str, root: Path) -> None:
        super().__init__()
        self.name, self.root = name, root
        self.cancel = threading.Event()
        self._last = 0.0

    def _report(self, done: int, total: int | None, what: str) -> None:
        # Chunks arrive thousands of times a second on a fast line: tell the GUI ~10x/s.
        now = time.monotonic()
        if now - self._last >= 0.1 or (total and done >= total) or not done:
            self._last = now
            self.progress.emit(done, total or 0, what)

    @Slot()
    def run(self) -> None:
        try:
            folder = download_dataset(self.name, self.root, cancel=self.cancel,
                                      progress=self._report)
        except DownloadCancelled:
            self.finished.emit(False, "Download cancelled.")
        except DatasetError as exc:
            self.finished.emit(False, str(exc))
        except Exception as exc:  # noqa: BLE001 - reported, never a crash
            self.finished.emit(False, f"Download failed: {type(exc).__name__}: {exc}")
        else:
            self.finished.emit(True, f"Ready in {folder}")
