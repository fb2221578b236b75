"""The learning-rate finder in the window, driven by objectName: the curve, the suggestion
going into the learning-rate field (and into the run Start makes), Cancel, Esc, and what
it says when it cannot run."""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QComboBox, QDialog, QDoubleSpinBox, QLabel, QProgressBar,
                               QPushButton, QSpinBox)

from cnn_core.train.config import TrainConfig
from gui.panels.config.lr_finder_dialog import LrFinderDialog
from gui.session.lr_finder import LrFinderService
from tests.gui.conftest import find, slow_to_end

LONG = 10_000  # steps: LeNet-5's loss diverges only after about 8,700 of them, a minute on


def open_finder(qtbot, window, arch: str = "lenet5") -> QDialog:
    window.config_panel.set_config(TrainConfig(arch=arch, device="cpu", lr=0.05))
    qtbot.mouseClick(find(window, QPushButton, "lrFindButton"), Qt.MouseButton.LeftButton)
    dialog = find(window, QDialog, "lrFinderDialog")
    assert dialog.isVisible()
    return dialog


def finding(dialog: QDialog) -> bool:
    return not find(dialog, QPushButton, "lrFindRunButton").isEnabled()


def start_long_find(qtbot, dialog: QDialog) -> None:
    """Stop the find the view opened with, and start one of LONG steps."""
    qtbot.mouseClick(find(dialog, QPushButton, "lrFindCancelButton"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not finding(dialog), timeout=30_000)
    find(dialog, QSpinBox, "lrFindStepsSpin").setValue(LONG)
    qtbot.mouseClick(find(dialog, QPushButton, "lrFindRunButton"), Qt.MouseButton.LeftButton)
    progress = find(dialog, QProgressBar, "lrFindProgress")
    qtbot.waitUntil(lambda: progress.maximum() == LONG and progress.value() >= 5,
                    timeout=30_000)


def test_the_curve_is_drawn_and_the_suggestion_is_what_start_uses(qtbot, window) -> None:
    dialog = open_finder(qtbot, window)
    use = find(dialog, QPushButton, "useSuggestedLrButton")
    qtbot.waitUntil(use.isEnabled, timeout=60_000)

    plot = find(dialog, pg.PlotWidget, "lrFinderPlot")
    assert plot.getPlotItem().getAxis("bottom").logMode
    points = [len(item.getData()[0]) for item in plot.getPlotItem().listDataItems()]
    assert max(points) > 10
    marker, = [item for item in plot.getPlotItem().items if isinstance(item, pg.InfiniteLine)]
    suggestion = 10 ** marker.value()  # the axis is log10 of the rate
    assert marker.isVisible() and 1e-5 <= suggestion <= 1
    assert f"{suggestion:.2g}" in marker.label.toPlainText()
    assert f"{suggestion:.2g}" in find(dialog, QLabel, "lrFindStatus").text()

    qtbot.mouseClick(use, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    lr = find(window, QDoubleSpinBox, "learningRateSpin")
    assert float(lr.lineEdit().text()) == float(f"{suggestion:.2g}")

    start = find(window, QPushButton, "startButton")
    with qtbot.waitSignal(window.session.runStarted, timeout=60_000) as started:
        qtbot.mouseClick(start, Qt.MouseButton.LeftButton)
    assert started.args[0].config.lr == float(f"{suggestion:.2g}")
    finder = find(window, QPushButton, "lrFindButton")
    assert not finder.isEnabled() and "Not while a run trains" in finder.toolTip()
    with qtbot.waitSignal(window.session.runFinished, timeout=30_000):
        window.stop_training()
    assert finder.isEnabled()


def test_cancel_stops_a_long_find_and_leaves_the_field_unchanged(qtbot, window) -> None:
    dialog = open_finder(qtbot, window)
    start_long_find(qtbot, dialog)
    qtbot.mouseClick(find(dialog, QPushButton, "lrFindCancelButton"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not finding(dialog), timeout=5_000)
    assert find(dialog, QProgressBar, "lrFindProgress").value() < LONG / 2
    assert "Cancelled" in find(dialog, QLabel, "lrFindStatus").text()
    assert not find(dialog, QPushButton, "useSuggestedLrButton").isEnabled()
    assert dialog.isVisible()
    assert find(window, QDoubleSpinBox, "learningRateSpin").lineEdit().text() == "0.05"


def test_escape_closes_the_view_mid_find_once_the_find_has_stopped(qtbot, window) -> None:
    dialog = open_finder(qtbot, window)
    start_long_find(qtbot, dialog)
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5_000)
    assert not finding(dialog)
    assert find(window, QDoubleSpinBox, "learningRateSpin").lineEdit().text() == "0.05"
    # opened again, it finds afresh
    qtbot.mouseClick(find(window, QPushButton, "lrFindButton"), Qt.MouseButton.LeftButton)
    assert dialog.isVisible() and finding(dialog)
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5_000)


def test_a_bad_learning_rate_does_not_matter_but_a_missing_dataset_is_said(qtbot,
                                                                           window) -> None:
    dialog = open_finder(qtbot, window)
    use = find(dialog, QPushButton, "useSuggestedLrButton")
    qtbot.waitUntil(use.isEnabled, timeout=60_000)
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    lr = find(window, QDoubleSpinBox, "learningRateSpin")
    lr.lineEdit().selectAll()
    qtbot.keyClicks(lr.lineEdit(), "abc")  # the finder sweeps the rate: it needs none
    qtbot.mouseClick(find(window, QPushButton, "lrFindButton"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(use.isEnabled, timeout=60_000)
    qtbot.mouseClick(use, Qt.MouseButton.LeftButton)
    assert math.isfinite(float(lr.lineEdit().text()))

    dataset = find(window, QComboBox, "datasetCombo")  # the window's data folder is empty
    dataset.setCurrentIndex(dataset.findData("mnist"))
    qtbot.mouseClick(find(window, QPushButton, "lrFindButton"), Qt.MouseButton.LeftButton)
    status = find(dialog, QLabel, "lrFindStatus").text()
    assert "Cannot find a learning rate: dataset" in status and "download" in status.lower()
    assert not finding(dialog) and not use.isEnabled()
    plot = find(dialog, pg.PlotWidget, "lrFinderPlot")
    assert all(len(item.getData()[0] if item.getData()[0] is not None else []) == 0
               for item in plot.getPlotItem().listDataItems())


def test_the_suggestion_is_used_and_a_find_starts_again_before_the_thread_has_ended(
        qtbot, tmp_path) -> None:
    finder = slow_to_end(LrFinderService)()
    used: list[float] = []
    dialog = LrFinderDialog(finder, lambda: TrainConfig(arch="lenet5", device="cpu",
                                                        data_dir=str(tmp_path)), used.append)
    qtbot.addWidget(dialog)
    find(dialog, QSpinBox, "lrFindStepsSpin").setValue(20)
    finder.holding = True
    dialog.show()
    dialog.start()
    use = find(dialog, QPushButton, "useSuggestedLrButton")
    try:
        qtbot.waitUntil(use.isEnabled, timeout=60_000)
        qtbot.mouseClick(use, Qt.MouseButton.LeftButton)
        assert used == [dialog.suggestion] and not dialog.isVisible()

        dialog.show()
        dialog.start()
        assert finding(dialog) and find(dialog, QLabel, "lrFindStatus").text() == "Finding…"
        finder.release.set()
        qtbot.waitUntil(use.isEnabled, timeout=60_000)
        assert dialog.isVisible() and not finding(dialog)
    finally:
        finder.release.set()
        finder.shutdown()
