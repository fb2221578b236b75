"""File > Watch run folder…: the window follows a run that another process writes, in
every panel, while it trains, and stops watching by itself when the run ends."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QLabel

from cnn_core.runs.atomic import atomic_write_text
from cnn_core.runs.recorder import RunRecorder
from cnn_core.runs.store import read_metrics
from cnn_core.train.callbacks import RunStatus
from cnn_core.train.config import TrainConfig
from cnn_core.train.trainer import Trainer
from gui.session.folder_watch import FolderWatch
from gui.window.main_window import MainWindow

from .conftest import find
from .test_app import run_python

ROOT = Path(__file__).resolve().parents[2]
FINISH = 240_000  # ms: a CLI run of six short epochs, on two cores shared with the window


def watch(window: MainWindow, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(folder))
    find(window, QAction, "watchRunAction").trigger()


def status_text(window: MainWindow) -> str:
    return find(window, QLabel, "statusMessage").text()


def accuracy_points(window: MainWindow) -> list[float]:
    """The test accuracy the accuracy plot shows, one point per epoch."""
    _x, y = window.curves.test_acc.getData()
    return [] if y is None else y.tolist()


@pytest.fixture
def finished_run(tmp_path: Path, small) -> Path:
    run = tmp_path / "finished"
    config = TrainConfig(arch="lenet5", epochs=2, batch_size=64, device="cpu")
    Trainer(config, [RunRecorder(run)], data=small).fit()
    return run


@pytest.mark.slow  # a second process trains six epochs
def test_a_command_line_run_is_followed_while_it_trains(qtbot, window, tmp_path,
                                                        monkeypatch) -> None:
    out = tmp_path / "cli-run"
    own = window.config_panel.config()
    assert own.arch != "lenet5"
    watch(window, out, monkeypatch)  # before the run exists: the window waits for it
    qtbot.waitUntil(lambda: "Waiting for a run to start" in status_text(window))
    assert window.session.busy and window.session.watching == out.absolute()
    finished = qtbot.waitSignal(window.session.watchFinished, timeout=FINISH)
    proc = subprocess.Popen(
        [sys.executable, "-m", "cnn_core", "train", "--arch", "lenet5", "--dataset",
         "mnist-sample", "--epochs", "6", "--batch-size", "64", "--device", "cpu",
         "--out", str(out), "--quiet"], cwd=ROOT, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE)
    try:
        qtbot.waitUntil(lambda: len(accuracy_points(window)) > 0, timeout=FINISH)
        assert proc.poll() is None  # the curves grow while the other process trains
        assert window.config_panel.config().arch == "lenet5"  # the settings it runs with
        text = status_text(window)
        assert text.startswith("Watching lenet5 adam lr 0.001 · epoch ") and " s ago" in text
        finished.wait()
        assert proc.wait(timeout=60) == 0, proc.stderr.read().decode()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert finished.args == [out.absolute(), RunStatus.COMPLETED]
    assert not window.session.busy and window.session.watching is None
    assert window.config_panel.config() == own  # the person's own settings are back
    history = read_metrics(out)
    qtbot.waitUntil(lambda: len(accuracy_points(window)) == 6)
    assert accuracy_points(window) == pytest.approx([100 * m.test_acc for m in history])
    assert window.curves.batch_points == 6 * 63  # 4,000 images in batches of 64
    assert [m.progress for m in window.inside.timelapse] == [0, 1, 2, 3, 4, 5, 6]
    assert window.inside.details.epoch == 6  # the analysis panels have the last checkpoint
    assert window.inside.info.run_dir == out.absolute()
    assert window.runs.active is None  # written elsewhere, not trained here
    assert status_text(window).startswith("The run lenet5 adam lr 0.001 finished: 6 epochs")
    assert window.status.progress.value() == 1000


def test_a_finished_run_is_shown_whole_and_watching_ends_at_once(qtbot, window,
                                                                  finished_run,
                                                                  monkeypatch) -> None:
    with qtbot.waitSignal(window.session.watchFinished, timeout=30_000) as finished:
        watch(window, finished_run, monkeypatch)
    assert finished.args[1] == RunStatus.COMPLETED
    qtbot.waitUntil(lambda: len(accuracy_points(window)) == 2)
    assert [m.progress for m in window.inside.timelapse] == [0, 1, 2]
    assert window.inside.details.epoch == 2


def test_without_the_dataset_only_the_curves_follow(qtbot, window, finished_run,
                                                    monkeypatch) -> None:
    config = json.loads((finished_run / "config.json").read_text())
    (finished_run / "config.json").write_text(json.dumps({**config, "dataset": "mnist"}))
    progress = []
    window.session.watchProgress.connect(progress.append)
    with qtbot.waitSignal(window.session.watchFinished, timeout=30_000):
        watch(window, finished_run, monkeypatch)
    qtbot.waitUntil(lambda: len(accuracy_points(window)) == 2)
    assert progress[-1].note.startswith("curves only: MNIST is not in")
    assert window.inside.info is None and len(window.inside.timelapse) == 0


def test_a_folder_of_other_things_is_refused(qtbot, window, tmp_path, monkeypatch) -> None:
    (tmp_path / "holiday").mkdir()
    (tmp_path / "holiday" / "beach.jpg").write_bytes(b"not a run")
    with qtbot.waitSignal(window.session.watchFinished) as finished:
        watch(window, tmp_path / "holiday", monkeypatch)
    assert finished.args[1] is None
    banner = find(window, QLabel, "errorBanner")
    assert banner.isVisible() and "holds files that are not a run's" in banner.text()
    assert not window.session.busy


def test_stop_ends_the_wait_and_a_second_watch_is_refused(qtbot, window, tmp_path,
                                                          monkeypatch) -> None:
    watch(window, tmp_path / "later", monkeypatch)
    qtbot.waitUntil(lambda: "Waiting for a run to start" in status_text(window))
    assert not find(window, QAction, "watchRunAction").isEnabled()
    assert not window.menus.start_action.isEnabled()
    window.session.watch(tmp_path / "other", window.config_panel.data_dir)
    assert "Stop the current run first." in find(window, QLabel, "errorBanner").text()
    with qtbot.waitSignal(window.session.watchFinished) as finished:
        window.menus.stop_action.trigger()
    assert finished.args[1] == RunStatus.RUNNING
    assert status_text(window) == f"Stopped waiting for a run in {(tmp_path / 'later')}."
    assert find(window, QAction, "watchRunAction").isEnabled()


def test_watch_option_follows_a_folder_and_closing_mid_watch_exits_cleanly(
        tmp_path: Path) -> None:
    proc = run_python(f"""
        import sys
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication, QLabel
        import gui.app

        app = QApplication(sys.argv[:1])

        def close_while_waiting():
            window = next(w for w in app.topLevelWidgets() if w.objectName() == "mainWindow")
            text = window.findChild(QLabel, "statusMessage").text()
            if not text.startswith("Waiting for a run to start"):
                QTimer.singleShot(50, close_while_waiting)
                return
            print("closing while watching", window.session.watching, flush=True)
            window.close()

        QTimer.singleShot(0, close_while_waiting)
        sys.exit(gui.app.main(["--watch", {str(tmp_path / "run")!r}]))
    """)
    assert proc.returncode == 0, proc.stderr
    assert f"closing while watching {tmp_path / 'run'}" in proc.stdout
    assert "QThread" not in proc.stderr and "Traceback" not in proc.stderr


def test_file_events_in_the_run_folder_wake_the_watch(qtbot, tmp_path: Path) -> None:
    run, wake = tmp_path / "run", threading.Event()
    watch = FolderWatch(run, wake)
    run.mkdir()  # not there yet: its parent's events say when it is made
    qtbot.waitUntil(wake.is_set)
    assert watch.watched == [str(run)]
    wake.clear()
    atomic_write_text(run / "metrics.csv", "epoch\n")  # a replacement, as the writer makes
    qtbot.waitUntil(wake.is_set)
    wake.clear()
    (run / "snapshots").mkdir()
    qtbot.waitUntil(wake.is_set)
    assert sorted(watch.watched) == [str(run), str(run / "snapshots")]
    watch.stop()
    assert watch.watched == []


def test_a_file_is_refused_as_a_file(qtbot, window, tmp_path, monkeypatch) -> None:
    picture = tmp_path / "beach.jpg"
    picture.write_bytes(b"not a run")
    with qtbot.waitSignal(window.session.watchFinished) as finished:
        watch(window, picture, monkeypatch)
    assert finished.args[1] is None
    banner = find(window, QLabel, "errorBanner")
    assert banner.isVisible() and "it is a file, not a run's folder" in banner.text()
