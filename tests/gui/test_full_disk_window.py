"""A full disk during a run in the window: the run stops with the reason in the banner,
the last complete epoch stays, and the window is ready for the next run."""

from __future__ import annotations

import errno
import os
import threading
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPushButton

from cnn_core.runs.checkpoint import load_checkpoint
from cnn_core.runs.lock import is_being_written
from cnn_core.runs.store import list_runs
from tests.gui.conftest import find
from tests.gui.test_training_window import configure


def test_a_full_disk_stops_the_run_and_says_why(qtbot, window, monkeypatch) -> None:
    real_fsync, real_replace = os.fsync, os.replace
    epoch_one_saved = threading.Event()

    def replace(source, target) -> None:
        real_replace(source, target)
        if str(target).endswith("summary.json") and (Path(target).parent / "checkpoints"
                                                     / "last.pt").is_file():
            epoch_one_saved.set()  # epoch 1 is complete on disk: from now on, it is full

    def fsync(fd: int) -> None:
        if epoch_one_saved.is_set():
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_fsync(fd)

    monkeypatch.setattr(os, "replace", replace)
    monkeypatch.setattr(os, "fsync", fsync)
    configure(window, "lenet5", epochs=3, batch_size=64)
    start = find(window, QPushButton, "startButton")
    with qtbot.waitSignal(window.session.runFinished, timeout=120_000):
        qtbot.mouseClick(start, Qt.MouseButton.LeftButton)

    banner = find(window, QLabel, "errorBanner")
    qtbot.waitUntil(banner.isVisible)
    assert "no space left on the device" in banner.text()
    assert "epoch 1" in banner.text() and "\n" not in banner.text()
    (run,) = list_runs(window.runs.folder)
    # the summary of epoch 1 is true; with the disk still full, its status cannot be
    # rewritten, and the unlocked "running" run is listed as interrupted
    assert run.epochs_done == 1 and run.status in ("failed", "running")
    assert load_checkpoint(run.last_checkpoint)["epoch"] == 1
    assert not is_being_written(run.path)
    assert start.isEnabled()
