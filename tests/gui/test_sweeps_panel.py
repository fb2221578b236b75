"""The Sweeps view, driven by objectName: a sweep of three trials in the window (its table,
its parallel-coordinates lines, the running trial's curves, Open best and Train longer),
Stop in the middle of a trial (the trial watched in every panel meanwhile), a bad range
refused in one line, and a sweep of the command line opened in the view."""

from __future__ import annotations

from pathlib import Path

import optuna
import pyqtgraph as pg
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDockWidget, QLabel, QPushButton,
                               QSpinBox, QTableWidget, QWidget)

from cnn_core.data.datasets import DataBundle, Split
from cnn_core.paths import default_runs_dir
from cnn_core.nn.models import network_spec
from cnn_core.runs.store import read_config, read_summary
from cnn_core.sweep import (SweepRequest, SweepRunner, TrialEpoch, prepare_sweep, read_sweep,
                            storage_url)
from cnn_core.train.callbacks import RunStatus
from cnn_core.train.config import TrainConfig
from tests.gui.conftest import find

SWEEP_TIMEOUT = 120_000


@pytest.fixture
def window(window):
    """The window, its sweep's threads ended afterwards (as closing it ends them)."""
    yield window
    assert window.sweeps.shutdown(30_000)


def set_up_sweep(qtbot, window, name: str, trials: int, epochs: int,
                 low: str = "1e-3", high: str = "1e-2") -> QWidget:
    """The Sweeps view with a sweep of LeNet-5 over the learning rate (log range), the
    rest the Configuration's (the bundled sample, batch 128)."""
    window.config_panel.set_config(TrainConfig(arch="lenet5", device="cpu", batch_size=128))
    window.sweeps.show()
    panel = find(window, QWidget, "sweepPanel")
    assert panel.isVisible()
    find(panel, QCheckBox, "sweepLrCheck").setChecked(True)
    for spin, text in (("sweepLrLowSpin", low), ("sweepLrHighSpin", high)):
        field = find(panel, QWidget, spin).lineEdit()
        field.selectAll()
        qtbot.keyClicks(field, text)
    for size in (32, 64, 128, 256):
        find(panel, QCheckBox, f"sweepBatchSize{size}Check").setChecked(False)
    panel.form.tick_networks("LeNet-5")
    pruner = find(panel, QComboBox, "sweepPrunerCombo")
    pruner.setCurrentIndex(pruner.findData("none"))
    find(panel, QSpinBox, "sweepTrialsSpin").setValue(trials)
    find(panel, QSpinBox, "sweepJobsSpin").setValue(1)
    find(panel, QSpinBox, "sweepEpochsSpin").setValue(epochs)
    name_edit = panel.form.name_edit
    name_edit.setText(name)
    return panel


def click(qtbot, widget: QWidget, name: str) -> None:
    button = find(widget, QPushButton, name)
    assert button.isEnabled(), name
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def column(table: QTableWidget, title: str) -> list[str]:
    index = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())].index(
        title)
    return [table.item(row, index).text() for row in range(table.rowCount())]


def test_a_three_trial_sweep_fills_the_table_draws_its_lines_and_opens_the_best(
        qtbot, window) -> None:
    panel = set_up_sweep(qtbot, window, "three", trials=3, epochs=1)
    assert not find(panel, QCheckBox, "sweepWatchCheck").isChecked()  # the curves only
    with qtbot.waitSignal(window.sweeps.service.ended, timeout=SWEEP_TIMEOUT) as ended:
        click(qtbot, panel, "sweepStartButton")
        assert find(panel, QPushButton, "sweepStopButton").isEnabled()
        assert not find(window, QPushButton, "sweepStartButton").isEnabled()
    assert ended.args[0].finished == 3 and not ended.args[0].stopped

    table = find(panel, QTableWidget, "sweepTrialsTable")
    plot = find(panel, pg.PlotWidget, "sweepParallelPlot")
    qtbot.waitUntil(lambda: table.rowCount() == 3 and plot.trial_lines() == 3, timeout=10_000)
    report = read_sweep("three")
    assert [t.state for t in report.trials] == ["complete"] * 3
    assert column(table, "State") == ["complete"] * 3
    # best first, then any column sorts by its numbers
    assert [int(n) for n in column(table, "Trial")] == [t.number for t in report.trials]
    table.horizontalHeader().sectionClicked.emit(2)  # lr
    lrs = [float(x) for x in column(table, "lr")]
    assert lrs in (sorted(lrs), sorted(lrs, reverse=True))
    assert sorted(plot.drawn_trials()) == [0, 1, 2]
    colours = {t.number: plot.line_colour(t.number).name() for t in report.trials}
    assert len(set(colours.values())) == 3  # each coloured by its own objective
    assert "3 of 3 trials finished" in find(panel, QLabel, "sweepProgressLabel").text()
    assert find(window, QLabel, "statusMessage").text().startswith("Sweep three: Done")
    importance = find(panel, pg.PlotWidget, "sweepImportancePlot")
    note = find(panel, QLabel, "sweepImportanceNote")
    assert importance.isVisible() and (panel.importance.importances or note.text())

    # each trial's curves were drawn as it trained: the last one's are there
    epochs = window.curves.test_acc.getData
    qtbot.waitUntil(lambda: epochs()[0] is not None and epochs()[0].tolist() == [1.0],
                    timeout=5_000)
    assert window.curves.batch_points > 0 and not window.session.busy

    best = report.best
    with qtbot.waitSignal(window.session.runFinished, timeout=30_000) as opened:
        click(qtbot, panel, "openBestTrialButton")
    assert opened.args[0] == RunStatus.INSPECTED
    assert window.session.last_run.resolve() == best.run_dir

    click(qtbot, panel, "trainLongerButton")
    config = window.config_panel.config()
    assert config.lr == pytest.approx(best.params["lr"], rel=1e-5)  # as the field shows it
    assert config.epochs == 3 and config.sweep is None and config.arch == "lenet5"


def test_a_sweep_trains_the_persons_own_network(qtbot, window) -> None:
    spec = {**network_spec("lenet5").to_json(), "name": "my net"}
    window.networks.add(spec)
    panel = set_up_sweep(qtbot, window, "own", trials=1, epochs=1)
    panel.form.tick_networks("my net")
    with qtbot.waitSignal(window.sweeps.service.ended, timeout=SWEEP_TIMEOUT) as ended:
        click(qtbot, panel, "sweepStartButton")
    assert ended.args[0].finished == 1
    [trial] = read_sweep("own").trials
    config = read_config(trial.run_dir)
    assert config.arch == "my net" and config.network["layers"] == spec["layers"]
    assert trial.run_dir.name.startswith("trial-0000-")


def test_stop_in_the_middle_of_a_trial_leaves_no_trial_running(qtbot, window) -> None:
    panel = set_up_sweep(qtbot, window, "stopped", trials=3, epochs=3)
    find(panel, QCheckBox, "sweepWatchCheck").setChecked(True)  # in every panel
    watched = []
    window.session.watchingChanged.connect(lambda run: run and watched.append(run))
    service = window.sweeps.service
    with qtbot.waitSignal(service.event, timeout=SWEEP_TIMEOUT,
                          check_params_cb=lambda e: isinstance(e, TrialEpoch)):
        click(qtbot, panel, "sweepStartButton")
    progress = find(panel, QLabel, "sweepProgressLabel").text()
    assert progress.startswith("Trial 1 of 3 (#0) · epoch 1/3"), progress
    assert find(window, QDockWidget, "sweepDock").windowTitle() == "Sweeps · 0/3"
    with qtbot.waitSignal(service.ended, timeout=30_000) as ended:
        click(qtbot, panel, "sweepStopButton")
    assert ended.args[0].stopped
    study = optuna.load_study(study_name="stopped", storage=storage_url("stopped"))
    [trial] = study.trials
    assert trial.state == optuna.trial.TrialState.FAIL  # not RUNNING
    assert read_summary(trial.user_attrs["run_dir"]).status == RunStatus.STOPPED
    # the trial was followed in every panel, as a run another process writes, until it ended
    assert [w.resolve() for w in watched] == [Path(trial.user_attrs["run_dir"])]
    qtbot.waitUntil(lambda: not window.session.busy, timeout=10_000)
    assert "Stopped" in find(panel, QLabel, "sweepMessage").text()
    table = find(panel, QTableWidget, "sweepTrialsTable")
    qtbot.waitUntil(lambda: column(table, "State") == ["failed"], timeout=10_000)
    assert find(panel, QPushButton, "sweepStartButton").isEnabled()
    assert find(window, QPushButton, "lrFindButton").isEnabled()


def test_no_run_starts_beside_a_sweep_and_closing_the_window_stops_it(qtbot, window) -> None:
    panel = set_up_sweep(qtbot, window, "closed", trials=3, epochs=3)
    with qtbot.waitSignal(window.sweeps.service.event, timeout=SWEEP_TIMEOUT,
                          check_params_cb=lambda e: isinstance(e, TrialEpoch)):
        click(qtbot, panel, "sweepStartButton")
    window.start_training()  # a run would share the cores and the random draws
    assert "A sweep is training" in find(window, QLabel, "statusMessage").text()
    assert not find(window, QPushButton, "lrFindButton").isEnabled()  # so would the finder
    assert not window.session.busy
    assert window.close()
    assert not window.sweeps.service.running
    study = optuna.load_study(study_name="closed", storage=storage_url("closed"))
    assert [t.state for t in study.trials] == [optuna.trial.TrialState.FAIL]
    assert read_summary(study.trials[0].user_attrs["run_dir"]).status == RunStatus.STOPPED


def test_the_view_is_a_key_away_and_a_bad_range_is_one_line_that_starts_nothing(
        qtbot, window) -> None:
    window.config_dock.raise_()
    panel = find(window, QWidget, "sweepPanel")
    qtbot.waitUntil(lambda: panel.visibleRegion().isEmpty())
    qtbot.keyClick(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier
                   | Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: not panel.visibleRegion().isEmpty())
    assert window.sweeps.action in window.menus.view_menu.actions()

    set_up_sweep(qtbot, window, "backwards", trials=2, epochs=1, low="0.1", high="0.001")
    click(qtbot, panel, "sweepStartButton")
    message = find(panel, QLabel, "sweepMessage").text()
    assert "lr: low must be below high" in message and "\n" not in message
    assert not window.sweeps.service.running
    assert find(panel, QPushButton, "sweepStartButton").isEnabled()
    assert not (default_runs_dir() / "backwards").exists()

    find(panel, QWidget, "sweepLrHighSpin").lineEdit().setText("abc")
    click(qtbot, panel, "sweepStartButton")
    assert find(panel, QLabel, "sweepMessage").text() == (
        "Cannot start the sweep: lr: its high end is not a number")


def test_a_sweep_of_the_command_line_is_listed_and_its_trials_show(qtbot, window,
                                                                  sample: DataBundle) -> None:
    tiny = DataBundle(sample.info, Split(sample.train.images[::12], sample.train.labels[::12]),
                      Split(sample.test.images[::10], sample.test.labels[::10]))
    url = storage_url("from-cli")
    settings = prepare_sweep(SweepRequest("from-cli", 2, {"lr": {"log": [1e-3, 1e-2]},
                                                          "optimizer": {"choice": ["adam",
                                                                                   "sgd"]},
                                                          "epochs": 1},
                                          {"device": "cpu", "arch": "lenet5"}, pruner="none"),
                             url)
    SweepRunner(settings, url, data=tiny).run()

    window.sweeps.show()
    panel = find(window, QWidget, "sweepPanel")
    click(qtbot, panel, "sweepRefreshButton")
    combo = find(panel, QComboBox, "sweepCombo")
    assert combo.findText("from-cli") >= 0
    combo.setCurrentIndex(combo.findText("from-cli"))
    table = find(panel, QTableWidget, "sweepTrialsTable")
    plot = find(panel, pg.PlotWidget, "sweepParallelPlot")
    qtbot.waitUntil(lambda: table.rowCount() == 2 and plot.trial_lines() == 2, timeout=10_000)
    assert set(column(table, "optimizer")) <= {"adam", "sgd"}
    assert find(panel, QPushButton, "openBestTrialButton").isEnabled()


def test_a_sweep_of_another_process_is_followed_while_its_trials_run(qtbot, window) -> None:
    url = storage_url("elsewhere")
    prepare_sweep(SweepRequest("elsewhere", 2, {"lr": {"log": [1e-3, 1e-2]}, "epochs": 1},
                               {"device": "cpu", "arch": "lenet5"}, pruner="none"), url)
    study = optuna.load_study(study_name="elsewhere", storage=url)
    trial = study.ask()  # as another process's worker takes one
    trial.suggest_float("lr", 1e-3, 1e-2, log=True)
    window.sweeps.show()
    panel = find(window, QWidget, "sweepPanel")
    assert find(panel, QCheckBox, "sweepFollowCheck").isChecked()
    click(qtbot, panel, "sweepRefreshButton")
    combo = find(panel, QComboBox, "sweepCombo")
    combo.setCurrentIndex(combo.findText("elsewhere"))
    table = find(panel, QTableWidget, "sweepTrialsTable")
    qtbot.waitUntil(lambda: table.rowCount() == 1 and column(table, "State") == ["running"],
                    timeout=10_000)
    study.tell(trial, 0.9)  # it ends there: the view reads the study again by itself
    qtbot.waitUntil(lambda: column(table, "State") == ["complete"], timeout=10_000)
    assert column(table, "Test acc.") == ["90.00%"]
    assert find(panel, pg.PlotWidget, "sweepParallelPlot").trial_lines() == 1
