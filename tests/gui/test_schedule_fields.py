"""The schedule and early stopping in the window, by objectName: the fields make the
settings a run starts with, a one-cycle run's learning-rate curve follows its batches, and
a run on a plateau stops early and says so."""

from __future__ import annotations

import math

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QLabel, QPushButton,
                               QSpinBox, QTreeWidget)

from cnn_core.runs.store import read_summary
from cnn_core.train.config import TrainConfig
from gui.widgets.spinboxes import ScientificSpinBox
from tests.gui.conftest import find


def choose(window, name: str, value: str) -> None:
    combo = find(window, QComboBox, name)
    combo.setCurrentIndex(combo.findData(value))


def set_up(window, *, epochs: int, lr: str = "0.002") -> None:
    choose(window, "architectureCombo", "lenet5")
    choose(window, "deviceCombo", "cpu")
    find(window, QSpinBox, "epochsSpin").setValue(epochs)
    find(window, QSpinBox, "batchSizeSpin").setValue(128)
    find(window, ScientificSpinBox, "learningRateSpin").lineEdit().setText(lr)


def test_the_fields_make_the_settings_and_grey_what_the_schedule_ignores(window) -> None:
    panel = window.config_panel
    step = find(window, QSpinBox, "stepSizeSpin")
    gamma = find(window, ScientificSpinBox, "gammaSpin")
    warmup = find(window, QDoubleSpinBox, "warmupEpochsSpin")
    patience = find(window, QSpinBox, "earlyStopPatienceSpin")
    assert step.isEnabled() and not warmup.isEnabled() and not patience.isEnabled()

    choose(window, "scheduleCombo", "cosine")
    find(window, QSpinBox, "epochsSpin").setValue(10)
    warmup.setValue(6)  # fine with 10 epochs, though not with the default 5
    find(window, QCheckBox, "earlyStopCheck").setChecked(True)
    patience.setValue(4)
    choose(window, "earlyStopMonitorCombo", "test_loss")
    assert warmup.isEnabled() and patience.isEnabled()
    assert not step.isEnabled() and not gamma.isEnabled()
    config = panel.config()
    assert (config.schedule, config.warmup_epochs, config.early_stop, config.monitor) == (
        "cosine", 6, 4, "test_loss")

    find(window, QSpinBox, "epochsSpin").setValue(5)
    assert "warmup_epochs" in panel.errors()
    assert not find(window, QPushButton, "startButton").isEnabled()

    panel.set_config(TrainConfig(schedule="onecycle"))
    config = panel.config()
    assert (config.schedule, config.early_stop) == ("onecycle", 0)
    assert not find(window, QCheckBox, "earlyStopCheck").isChecked()


def test_a_onecycle_runs_learning_rate_curve_rises_and_falls_with_its_batches(
        qtbot, window) -> None:
    set_up(window, epochs=2)
    choose(window, "scheduleCombo", "onecycle")
    with qtbot.waitSignal(window.session.runFinished, timeout=180_000):
        window.start_training()
    xs, logs = window.curves.lr_curve.getData()
    rates = [10 ** y for y in logs]
    top = max(range(len(rates)), key=rates.__getitem__)
    assert len(rates) > 20
    assert rates[top] == max(rates) and math.isclose(max(rates), 2e-3, rel_tol=0.02)
    assert 0.45 < xs[top] < 0.75  # 30% of two epochs
    assert rates[0] < 2e-3 / 20 and rates[-1] < 2e-3 / 100


def test_a_run_on_a_plateau_stops_early_and_the_window_says_why(qtbot, window) -> None:
    set_up(window, epochs=8, lr="1e-9")
    choose(window, "scheduleCombo", "constant")
    qtbot.mouseClick(find(window, QCheckBox, "earlyStopCheck"), Qt.MouseButton.LeftButton)
    find(window, QSpinBox, "earlyStopPatienceSpin").setValue(2)
    with qtbot.waitSignal(window.session.runFinished, timeout=180_000) as finished:
        window.start_training()
    assert finished.args == ["stopped_early"]
    assert len(window.session.history) == 3
    message = find(window, QLabel, "statusMessage").text()
    assert message.startswith("Stopped early at epoch 3: no better test accuracy for 2 "
                              "epochs; best epoch 1 kept as best.pt")
    assert read_summary(window.session.last_run).epochs_done == 3
    runs = find(window, QTreeWidget, "runsList")
    qtbot.waitUntil(lambda: any(runs.topLevelItem(i).text(6) == "stopped early"
                                for i in range(runs.topLevelItemCount())))
