"""Drive the real window by objectName, as automation and people do."""

from __future__ import annotations

import time

import pyqtgraph as pg
import pytest
from PySide6.QtCore import Qt, QThread
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QLabel, QProgressBar, QPushButton,
                               QSpinBox, QTableWidget)

from benchmarks.stall_probe import StallProbe
from cnn_core.train.callbacks import BatchProgress, EpochMetrics, RunStatus
from gui.training.controller import RunState
from gui.training.messages import EpochDetails, RunInfo, Snapshot
from tests.gui.conftest import ARTICLE_NETWORKS, find


def curve_points(plot: pg.PlotWidget) -> list[int]:
    return [0 if item.getData()[0] is None else len(item.getData()[0])
            for item in plot.getPlotItem().listDataItems()]


def configure(window, arch: str, epochs: int, batch_size: int = 16) -> None:
    combo = find(window, QComboBox, "architectureCombo")
    combo.setCurrentIndex(combo.findData(arch))
    find(window, QSpinBox, "epochsSpin").setValue(epochs)
    find(window, QSpinBox, "batchSizeSpin").setValue(batch_size)
    device = find(window, QComboBox, "deviceCombo")
    device.setCurrentIndex(device.findData("cpu"))


@pytest.mark.parametrize("arch", ARTICLE_NETWORKS)  # the backbones: test_backbone_window
def test_each_architecture_trains_live_to_the_end(qtbot, window, arch: str) -> None:
    configure(window, arch, epochs=2, batch_size=32 if arch == "deepcnn" else 16)
    loss_plot = find(window, pg.PlotWidget, "lossPlot")
    acc_plot = find(window, pg.PlotWidget, "accuracyPlot")
    progress = find(window, QProgressBar, "trainingProgress")
    start = find(window, QPushButton, "startButton")
    assert start.isEnabled()

    qtbot.mouseClick(start, Qt.MouseButton.LeftButton)
    # the loss curve gains points while the first epoch is still running
    qtbot.waitUntil(lambda: max(curve_points(loss_plot)) > 0, timeout=60_000)
    assert window.session.history == [], "points should appear during epoch 1, not after it"
    assert not find(window, QComboBox, "architectureCombo").isEnabled()  # locked while running

    with qtbot.waitSignal(window.session.runFinished, timeout=180_000) as finished:
        pass
    assert finished.args == ["completed"]
    assert progress.value() == progress.maximum()
    assert window.curves.test_acc.getData()[0].tolist() == [1.0, 2.0]
    assert sorted(curve_points(acc_plot))[-2:] == [2, 2]
    grid = window.filters_panel.grid
    assert grid is not None and grid.rgba.size > 0
    first_conv = window.filters_panel.filters[window.filters_panel.current_layer()]
    assert grid.count == first_conv.shape[0]
    assert "Finished 2 epochs" in find(window, QLabel, "statusMessage").text()
    assert start.isEnabled()


def test_the_sessions_signals_arrive_in_the_gui_thread_with_their_classes(qtbot, window) -> None:
    """The run reports from its own thread; the session re-emits in the GUI thread, each
    signal with the one class it declares."""
    declared = {"stateChanged": RunState, "runStarted": RunInfo, "batchProgress": BatchProgress,
                "epochEnded": EpochMetrics, "snapshotTaken": Snapshot,
                "epochDetails": EpochDetails, "runFinished": RunStatus}
    gui_thread = QThread.currentThread()
    seen: dict[str, set] = {}
    for name in declared:
        getattr(window.session, name).connect(
            lambda payload, name=name: seen.setdefault(name, set()).add(
                (type(payload), QThread.currentThread() is gui_thread)))
    configure(window, "lenet5", epochs=1, batch_size=64)
    with qtbot.waitSignal(window.session.runFinished, timeout=120_000):
        window.start_training()
    assert seen == {name: {(cls, True)} for name, cls in declared.items()}


def test_stop_ends_the_run_within_3_seconds(qtbot, window) -> None:
    configure(window, "simplecnn", epochs=50, batch_size=16)
    qtbot.mouseClick(find(window, QPushButton, "startButton"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.curves.batch_points > 5, timeout=60_000)
    began = time.monotonic()
    with qtbot.waitSignal(window.session.runFinished, timeout=3_000) as finished:
        qtbot.mouseClick(find(window, QPushButton, "stopButton"), Qt.MouseButton.LeftButton)
    assert time.monotonic() - began < 3.0
    assert finished.args == ["stopped"]
    assert "Stopped" in find(window, QLabel, "statusMessage").text()
    assert find(window, QPushButton, "startButton").isEnabled()


def test_escape_stops_and_starting_again_is_a_clean_run(qtbot, window) -> None:
    configure(window, "lenet5", epochs=30, batch_size=16)
    window.start_training()
    qtbot.waitUntil(lambda: window.curves.batch_points > 5, timeout=60_000)
    with qtbot.waitSignal(window.session.runFinished, timeout=3_000):
        qtbot.keyClick(window, Qt.Key.Key_Escape)
    configure(window, "lenet5", epochs=1, batch_size=64)
    with qtbot.waitSignal(window.session.runFinished, timeout=60_000) as finished:
        window.start_training()
    assert finished.args == ["completed"]
    assert [m.epoch for m in window.session.history] == [1]
    assert window.curves.batch_points == 63  # only the new run's batches


def test_pause_holds_training_and_resume_continues(qtbot, window) -> None:
    configure(window, "lenet5", epochs=20, batch_size=16)
    window.start_training()
    qtbot.waitUntil(lambda: window.curves.batch_points > 3, timeout=60_000)
    pause = find(window, QPushButton, "pauseButton")
    qtbot.mouseClick(pause, Qt.MouseButton.LeftButton)
    assert "Resume" in pause.text()
    # reports come five times a second while training; half a second without one: held
    seen = {"points": -1, "since": time.monotonic()}

    def settled() -> bool:
        if window.curves.batch_points != seen["points"]:
            seen.update(points=window.curves.batch_points, since=time.monotonic())
        return time.monotonic() - seen["since"] > 0.5

    qtbot.waitUntil(settled, timeout=10_000)
    with qtbot.assertNotEmitted(window.session.batchProgress, wait=600):
        pass
    points = window.curves.batch_points
    qtbot.mouseClick(pause, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.curves.batch_points > points, timeout=10_000)
    with qtbot.waitSignal(window.session.runFinished, timeout=5_000):
        window.stop_training()


@pytest.mark.parametrize("text,reason", [("0", "greater than 0"), ("abc", "not a number"),
                                         ("50", "at most 10")])
def test_invalid_learning_rate_blocks_start_and_says_why(qtbot, window, text, reason) -> None:
    lr = find(window, QDoubleSpinBox, "learningRateSpin")
    lr.lineEdit().selectAll()
    qtbot.keyClicks(lr.lineEdit(), text)
    start = find(window, QPushButton, "startButton")
    error = find(window, QLabel, "lrError")
    assert not start.isEnabled()
    assert error.isVisible() and reason in error.text()
    window.start_training()  # the shortcut path refuses too, with the reason
    assert not window.session.busy
    status = find(window, QLabel, "statusMessage").text()
    assert "Cannot start" in status and reason in status
    lr.lineEdit().selectAll()
    qtbot.keyClicks(lr.lineEdit(), "0.002")
    assert start.isEnabled() and not error.isVisible()


def test_a_failing_run_is_reported_and_the_window_stays_usable(qtbot, window, monkeypatch) -> None:
    from cnn_core.data import BuiltinSource

    real = BuiltinSource.load

    def poisoned(*args, **kwargs):
        bundle = real(*args, **kwargs)
        bundle.train.images[64:] = float("nan")
        return bundle

    monkeypatch.setattr(BuiltinSource, "load", poisoned)
    configure(window, "lenet5", epochs=2, batch_size=64)
    with qtbot.waitSignal(window.session.runFinished, timeout=60_000) as finished:
        window.start_training()
    assert finished.args == ["failed"]
    banner = find(window, QLabel, "errorBanner")
    assert banner.isVisible() and "loss became nan" in banner.text()
    assert find(window, QPushButton, "startButton").isEnabled()


def test_layer_summary_follows_architecture_and_dataset(window) -> None:
    table = find(window, QTableWidget, "layerSummary")
    arch = find(window, QComboBox, "architectureCombo")
    arch.setCurrentIndex(arch.findData("lenet5"))
    rows = [table.item(r, 0).text() for r in range(table.rowCount())]
    assert rows[0].startswith("conv1") and table.item(0, 1).text() == "6x28x28"
    assert table.item(table.rowCount() - 1, 2).text() == "61,706"
    dataset = find(window, QComboBox, "datasetCombo")
    dataset.setCurrentIndex(dataset.findData("cifar10"))
    assert table.item(0, 1).text() == "6x32x32"
    # CIFAR-10 is not downloaded in this test's data folder: Start says so
    assert not find(window, QPushButton, "startButton").isEnabled()
    assert "not downloaded" in find(window, QLabel, "datasetError").text()


def test_download_shows_progress_and_makes_the_dataset_usable(qtbot, window, monkeypatch) -> None:
    from tests.idx import install_fake_mirror

    requests = install_fake_mirror(monkeypatch)
    dataset = find(window, QComboBox, "datasetCombo")
    dataset.setCurrentIndex(dataset.findData("mnist"))
    download = find(window, QPushButton, "downloadButton")
    assert download.isVisible() and not find(window, QPushButton, "startButton").isEnabled()
    seen = []
    bar = find(window, QProgressBar, "downloadProgress")
    window.config_panel.download_progress.valueChanged.connect(seen.append)
    with qtbot.waitSignal(window.config_panel.configChanged, timeout=30_000):
        qtbot.mouseClick(download, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not bar.isVisible(), timeout=30_000)
    assert seen and any(u.startswith("https://b.invalid/") for u in requests)
    assert not download.isVisible()
    assert find(window, QPushButton, "startButton").isEnabled()
    assert "not downloaded" not in dataset.currentText()


def test_failed_download_says_what_to_do(qtbot, window, monkeypatch) -> None:
    import urllib.error

    from cnn_core.data import builtin as data_mod

    def offline(request, timeout=None):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(data_mod.urllib.request, "urlopen", offline)
    dataset = find(window, QComboBox, "datasetCombo")
    dataset.setCurrentIndex(dataset.findData("kmnist"))
    qtbot.mouseClick(find(window, QPushButton, "downloadButton"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "could not download" in window.config_panel.dataset_status.text(),
                    timeout=30_000)
    assert "put the files by hand" in window.config_panel.dataset_status.text()
    assert dataset.isEnabled()


def test_devices_and_defaults(window) -> None:
    device = find(window, QComboBox, "deviceCombo")
    assert device.findData("cpu") >= 0
    assert find(window, QComboBox, "datasetCombo").currentData() == "mnist-sample"
    assert find(window, QComboBox, "optimizerCombo").count() == 2
    assert find(window, QSpinBox, "seedSpin").value() == 0
    assert find(window, QPushButton, "startButton").isEnabled()
    assert not find(window, QPushButton, "stopButton").isEnabled()


def test_event_loop_never_stalls_while_training(qtbot, app_process, window) -> None:
    """A 10 ms timer in the GUI thread: the longest gap between ticks while training, less
    the time the thread waited for a core (the machine's stall, not the app's)."""
    from gui.runtime import warmup

    assert warmup.wait(60)  # as when a person presses Start a moment after launch
    configure(window, "simplecnn", epochs=2, batch_size=64)
    probe = StallProbe()
    probe.start()
    with qtbot.waitSignal(window.session.runFinished, timeout=120_000):
        window.start_training()
    probe.stop()
    print(f"\nworst event-loop stall while training: {probe.worst_own * 1000:.1f} ms of the "
          f"app's own ({probe.worst * 1000:.1f} ms wall) over {len(probe.gaps)} ticks")
    assert probe.worst_own < 0.100
