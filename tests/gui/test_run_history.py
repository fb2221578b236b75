"""Runs that last, through the real window: recorded runs, exact resume, edits while
paused, branches, opening checkpoints, exports and settings that survive a restart."""

from __future__ import annotations

import csv
import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QFileDialog, QLabel, QProgressBar,
                               QPushButton, QSpinBox, QTreeWidget)

from cnn_core.runs.checkpoint import load_checkpoint
from cnn_core.runs.store import list_runs, read_batches, read_metrics, read_snapshots, read_summary
from gui.window.main_window import MainWindow
from tests.gui.conftest import find
from tests.gui.test_training_window import configure
from tests.exploit import Exploit


def runs_dir() -> Path:
    return Path(os.environ["CNN_STUDIO_RUNS"])


def train(qtbot, window, timeout: int = 120_000) -> str:
    with qtbot.waitSignal(window.session.runFinished, timeout=timeout) as finished:
        window.start_training()
    return finished.args[0]


def prepare(qtbot, window, kind: str, checkpoint: Path) -> None:
    """Resume or branch from ``checkpoint`` on the next Start (it loads off the GUI thread)."""
    with qtbot.waitSignal(window.session.continuationChanged, timeout=30_000):
        window.prepare_continuation(kind, checkpoint)


def numbers(run: Path) -> list[tuple[float, float, float, float]]:
    return [(m.train_loss, m.train_acc, m.test_loss, m.test_acc) for m in read_metrics(run)]


def weights(run: Path) -> dict[str, torch.Tensor]:
    return load_checkpoint(run / "checkpoints" / "last.pt")["model"]


def test_a_window_run_is_recorded_and_listed(qtbot, window) -> None:
    configure(window, "lenet5", epochs=1, batch_size=64)
    assert train(qtbot, window) == "completed"
    [run] = list_runs(runs_dir())
    assert run.status == "completed" and run.epochs_done == 1 and run.arch == "lenet5"
    for name in ("config.json", "metrics.csv", "batches.csv", "summary.json",
                 "checkpoints/last.pt", "checkpoints/best.pt", "snapshots/epoch-0001.npz"):
        assert (run.path / name).is_file(), name
    runs_list = find(window, QTreeWidget, "runsList")
    assert runs_list.topLevelItemCount() == 1


def test_resume_in_the_window_equals_an_unbroken_run(qtbot, window) -> None:
    configure(window, "lenet5", epochs=3, batch_size=64)
    find(window, QSpinBox, "seedSpin").setValue(7)
    assert train(qtbot, window) == "completed"
    [unbroken] = list_runs(runs_dir())

    find(window, QSpinBox, "epochsSpin").setValue(2)
    assert train(qtbot, window) == "completed"
    first = next(r for r in list_runs(runs_dir()) if r.path != unbroken.path)
    with qtbot.waitSignal(window.session.continuationChanged, timeout=30_000):
        window.runs_panel.resumeRequested.emit(first.last_checkpoint)
    assert find(window, QLabel, "continuationBanner").isVisible()
    assert not find(window, QComboBox, "architectureCombo").isEnabled()  # fixed by the run
    find(window, QSpinBox, "epochsSpin").setValue(3)
    assert train(qtbot, window) == "completed"

    assert len(list_runs(runs_dir())) == 2  # resumed in its own folder
    assert numbers(first.path) == numbers(unbroken.path)
    a, b = weights(first.path), weights(unbroken.path)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert window.curves.test_acc.getData()[0].tolist() == [1.0, 2.0, 3.0]


def test_an_edit_while_paused_applies_from_the_next_batch(qtbot, window) -> None:
    configure(window, "lenet5", epochs=3, batch_size=16)
    window.start_training()
    qtbot.waitUntil(lambda: window.curves.batch_points > 5, timeout=60_000)
    pause = find(window, QPushButton, "pauseButton")
    qtbot.mouseClick(pause, Qt.MouseButton.LeftButton)
    lr = window.config_panel.lr_spin
    assert lr.isEnabled() and not find(window, QComboBox, "architectureCombo").isEnabled()
    changes = []
    window.session.settingsChanged.connect(changes.append)
    lr.lineEdit().setText("0.02")
    find(window, QSpinBox, "epochsSpin").setValue(2)
    qtbot.mouseClick(pause, Qt.MouseButton.LeftButton)  # resume
    qtbot.waitUntil(lambda: bool(changes), timeout=10_000)
    assert not lr.isEnabled()  # locked again while training
    with qtbot.waitSignal(window.session.runFinished, timeout=120_000):
        pass

    [change] = changes
    assert change.changes["lr"][1] == 0.02 and tuple(change.changes["epochs"]) == (3, 2)
    [run] = list_runs(runs_dir())
    log = read_batches(run.path)
    before, after = log.lr[log.step <= change.step], log.lr[log.step > change.step]
    assert len(before) == change.step and (before == 1e-3).all()
    assert len(after) > 0 and (after == 0.02).all()
    assert run.epochs_done == 2 and run.changes == [change]
    assert any("lr 1e-3 → 0.02" in text for text in window.curves.marker_texts())


def test_a_branch_starts_from_its_parents_checkpoint(qtbot, window) -> None:
    configure(window, "lenet5", epochs=2, batch_size=64)
    assert train(qtbot, window) == "completed"
    [parent] = list_runs(runs_dir())
    with qtbot.waitSignal(window.session.continuationChanged, timeout=30_000):
        window.runs_panel.branchRequested.emit(parent.last_checkpoint)
    window.config_panel.lr_spin.setValue(3e-4)
    find(window, QSpinBox, "epochsSpin").setValue(3)
    assert train(qtbot, window) == "completed"

    branch = next(r for r in list_runs(runs_dir()) if r.path != parent.path)
    assert branch.parent == {"run": parent.path.name, "epoch": 2, "step": 126}
    assert numbers(branch.path)[:2] == numbers(parent.path)
    assert read_metrics(branch.path)[2].lr == pytest.approx(3e-4)
    start = {s.epoch: s for s in read_snapshots(branch.path)}[2]
    at_branch = {s.epoch: s for s in read_snapshots(parent.path)}[2]
    assert all((start.state[k] == v).all() for k, v in at_branch.state.items())
    assert read_summary(parent.path).epochs_done == 2  # the parent is untouched
    texts = window.curves.marker_texts()
    [mark] = [t for t in texts if t.startswith("branched from")]
    assert mark.endswith("\nlr 1e-3 → 3e-4")  # with the edit it started with
    assert window.curves.test_acc.getData()[0].tolist() == [1.0, 2.0, 3.0]

    # Resuming the branch later marks its branch point the same way
    prepare(qtbot, window, "resume", branch.last_checkpoint)
    find(window, QSpinBox, "epochsSpin").setValue(4)
    assert train(qtbot, window) == "completed"
    assert [t for t in window.curves.marker_texts() if t.startswith("branched")] == [mark]


def test_opening_a_checkpoint_shows_it_without_training(qtbot, window) -> None:
    configure(window, "lenet5", epochs=1, batch_size=64)
    assert train(qtbot, window) == "completed"
    [run] = list_runs(runs_dir())
    with qtbot.waitSignal(window.session.runFinished, timeout=60_000) as finished:
        window.open_path(run.path)
    assert finished.args == ["inspected"]
    assert len(list_runs(runs_dir())) == 1  # nothing new was recorded
    assert read_summary(run.path).epochs_done == 1
    assert window.session.run_info is not None and window.session.run_info.run_dir is None
    assert window.filters_panel.grid is not None
    assert window.curves.test_acc.getData()[0].tolist() == [1.0]
    assert "Opened" in find(window, QLabel, "statusMessage").text()
    qtbot.waitUntil(lambda: window.inside.details is not None, timeout=10_000)
    # the time-lapse replays the run from its saved snapshots: initial weights, epoch 1
    moments = window.inside.timelapse
    assert [m.progress for m in moments] == [0.0, 1.0]
    assert not np.array_equal(moments[0].filters["conv1"], moments[1].filters["conv1"])
    saved = {s.epoch: s for s in read_snapshots(run.path)}
    np.testing.assert_allclose(moments[0].filters["conv1"], saved[0].filters["conv1"], atol=1e-3)
    assert moments[0].probabilities.shape == (10,)


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_bad_checkpoints_are_refused_and_nothing_changes(qtbot, window, tmp_path) -> None:
    configure(window, "lenet5", epochs=1, batch_size=64)
    assert train(qtbot, window) == "completed"
    info, history = window.session.run_info, list(window.session.history)
    good = list_runs(runs_dir())[0].last_checkpoint
    marker = tmp_path / "pwned"
    state = load_checkpoint(good)
    state["config"] = {**state["config"], "arch": 3, "colour": "blue"}
    torch.save(state, tmp_path / "odd-settings.pt")
    files = {"malicious.pt": (pickle.dumps(Exploit(marker)), "refused"),
             "truncated.pt": (good.read_bytes()[: good.stat().st_size // 2], "truncated"),
             "empty.pt": (b"", "empty"), "odd-settings.pt": (None, "are unusable")}
    banner = find(window, QLabel, "errorBanner")
    for name, (data, reason) in files.items():
        path = tmp_path / name
        if data is not None:
            path.write_bytes(data)
        with qtbot.waitSignal(window.session.error, timeout=30_000):
            window.open_path(path)
        assert banner.isVisible() and reason in banner.text()
        with qtbot.waitSignal(window.session.error, timeout=30_000):
            window.prepare_continuation("branch", path)
        assert reason in banner.text()
        assert window.session.state == "idle" and window.session.continuation is None
    assert not marker.exists()
    assert window.session.run_info is info and window.session.history == history


def test_dropping_a_checkpoint_opens_it(qtbot, window) -> None:
    configure(window, "lenet5", epochs=1, batch_size=64)
    assert train(qtbot, window) == "completed"
    checkpoint = list_runs(runs_dir())[0].best_checkpoint
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(checkpoint))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(window.session.runFinished, timeout=60_000) as finished:
        window.dropEvent(event)
    assert finished.args == ["inspected"] and event.isAccepted()


def test_overlaying_two_runs_draws_both_with_a_legend(qtbot, window) -> None:
    configure(window, "lenet5", epochs=1, batch_size=64)
    assert train(qtbot, window) == "completed"
    window.config_panel.lr_spin.setValue(3e-3)
    assert train(qtbot, window) == "completed"
    runs_list = find(window, QTreeWidget, "runsList")
    for i in range(2):
        runs_list.topLevelItem(i).setCheckState(0, Qt.CheckState.Checked)
    names = {r.name for r in list_runs(runs_dir())}
    assert names <= set(window.curves.legend_labels())
    assert len(window.curves.overlay_items()) == 2


def test_csv_export_from_the_menu_has_a_row_per_epoch_per_run(qtbot, window, tmp_path,
                                                               monkeypatch) -> None:
    configure(window, "lenet5", epochs=2, batch_size=64)
    assert train(qtbot, window) == "completed"
    find(window, QSpinBox, "epochsSpin").setValue(1)
    assert train(qtbot, window) == "completed"
    runs_list = find(window, QTreeWidget, "runsList")
    for i in range(2):
        runs_list.topLevelItem(i).setCheckState(0, Qt.CheckState.Checked)
    out = tmp_path / "metrics.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), ""))
    window.exports.csv_action.trigger()
    status = find(window, QLabel, "statusMessage")  # what the person sees when it is done
    qtbot.waitUntil(lambda: "Saved 3 rows" in status.text(), timeout=30_000)
    with out.open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 3 and {int(r["epoch"]) for r in rows} == {1, 2}


def test_settings_survive_a_restart(qtbot, tmp_path) -> None:
    first = MainWindow()
    qtbot.addWidget(first)
    first.show()
    qtbot.waitExposed(first)
    configure(first, "lenet5", epochs=7, batch_size=32)
    first.config_panel.lr_spin.setValue(5e-3)
    first.set_runs_dir(tmp_path / "my-runs")
    first.resize(first.minimumSizeHint().width(), 700)  # fits the offscreen 800x800 screen
    first.runs_dock.close()  # the person closed the Runs dock
    qtbot.wait(50)
    size = first.size()
    first.close()

    second = MainWindow()
    qtbot.addWidget(second)
    second.show()
    qtbot.waitExposed(second)
    config = second.config_panel.config()
    assert (config.arch, config.epochs, config.batch_size, config.lr, config.device) == (
        "lenet5", 7, 32, 5e-3, "cpu")
    assert second.runs.folder == tmp_path / "my-runs"
    assert second.runs_panel.folder_label.text() == str(tmp_path / "my-runs")
    # (the offscreen platform may round the frame by a few pixels)
    assert abs(second.width() - size.width()) <= 8 and abs(second.height() - size.height()) <= 8
    assert not second.runs_dock.isVisible() and second.config_dock.isVisible()
    second.close()


def test_looking_inside_during_a_run_does_not_change_its_numbers(qtbot, window) -> None:
    """The panels' inference model is built while the run trains; the run's dropout draws
    from the same global generator, so building it must draw nothing."""
    configure(window, "simplecnn", epochs=1, batch_size=64)  # has dropout
    assert train(qtbot, window) == "completed"
    quiet = list(window.session.history)

    panel = window.inside.drawing_panel
    window.tabs.setCurrentWidget(panel)
    with qtbot.waitSignal(window.session.runFinished, timeout=120_000):
        window.start_training()
        qtbot.waitUntil(lambda: window.inside.inference.ready, timeout=60_000)
        canvas = panel.canvas
        qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=QPoint(60, 60))
        for step in range(1, 10):
            qtbot.mouseMove(canvas, QPoint(60 + 8 * step, 60 + 16 * step))
        qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=QPoint(140, 220))
        qtbot.waitUntil(lambda: panel.probabilities is not None, timeout=30_000)
    assert not window.session.history[-1] is quiet[-1]
    key = lambda ms: [(m.train_loss, m.test_loss, m.test_acc) for m in ms]  # noqa: E731
    assert key(window.session.history) == key(quiet)


def test_onnx_export_from_the_menu_is_checked_against_pytorch(qtbot, window, tmp_path,
                                                               monkeypatch) -> None:
    pytest.importorskip("onnxruntime")
    configure(window, "lenet5", epochs=1, batch_size=64)
    assert train(qtbot, window) == "completed"
    out = tmp_path / "model.onnx"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), ""))
    window.exports.onnx_action.trigger()
    # what a person sees: the export's message (the job's flag fell before it, once, under load)
    message = find(window, QLabel, "statusMessage")
    qtbot.waitUntil(lambda: "Exporting" not in message.text(), timeout=60_000)
    assert out.stat().st_size > 0 and "onnxruntime agrees with PyTorch" in message.text(), (
        message.text())


def test_exports_say_what_to_install_when_packages_are_missing(qtbot, monkeypatch) -> None:
    import cnn_core.export.exporters
    monkeypatch.setattr(cnn_core.export.exporters, "missing_dependencies",
                        lambda kind: ["onnxruntime"] if kind == "onnx" else [])
    window = MainWindow()
    qtbot.addWidget(window)
    shown = []
    monkeypatch.setattr("gui.window.export_menu.QMessageBox.information",
                        lambda _parent, _title, text: shown.append(text))
    assert "needs onnxruntime" in window.exports.onnx_action.text()
    assert "needs" not in window.exports.tensorboard_action.text()
    window.exports.onnx_action.trigger()
    assert shown and cnn_core.export.exporters.INSTALL_HINT in shown[0]


@pytest.mark.parametrize("name,text", [("learningRateSpin", "0"), ("momentumSpin", "abc"),
                                       ("gammaSpin", "5"), ("weightDecaySpin", "-1")])
def test_closing_with_an_invalid_field_remembers_the_valid_ones(qtbot, name, text) -> None:
    first = MainWindow()
    qtbot.addWidget(first)
    first.show()
    configure(first, "lenet5", epochs=7, batch_size=32)
    optimizer = find(first, QComboBox, "optimizerCombo")
    optimizer.setCurrentIndex(optimizer.findData("sgd"))  # momentum is SGD's
    field = find(first, QDoubleSpinBox, name)
    field.lineEdit().selectAll()
    qtbot.keyClicks(field.lineEdit(), text)
    assert not first.config_panel.valid
    first.close()  # pytest-qt fails the test if closeEvent raises

    second = MainWindow()
    qtbot.addWidget(second)
    config = second.config_panel.config()
    assert (config.arch, config.epochs, config.batch_size, config.optimizer) == (
        "lenet5", 7, 32, "sgd")


def test_overlaying_runs_leaves_the_finished_runs_progress(qtbot, window) -> None:
    configure(window, "lenet5", epochs=1, batch_size=64)
    assert train(qtbot, window) == "completed"
    progress = find(window, QProgressBar, "trainingProgress")
    assert progress.value() == progress.maximum()
    (run,) = list_runs(runs_dir())
    window.session.show_overlays([run.path])  # as ticking it in the Runs panel does
    window.session.show_overlays([])
    assert progress.value() == progress.maximum()


def test_start_while_a_checkpoint_is_loading_waits_for_it(qtbot, window) -> None:
    configure(window, "lenet5", epochs=1, batch_size=64)
    assert train(qtbot, window) == "completed"
    (run,) = list_runs(runs_dir())
    window.prepare_continuation("branch", run.last_checkpoint)
    # read off the GUI thread, so not yet there: Start must not run a fresh run instead
    assert window.session.continuation is None
    assert not window.session.start(window.config_panel.config())
    assert window.session.state == "idle"
    qtbot.waitUntil(lambda: window.session.continuation is not None, timeout=30_000)
    find(window, QSpinBox, "epochsSpin").setValue(2)
    assert train(qtbot, window) == "completed"
    branch = next(r for r in list_runs(runs_dir()) if r.path != run.path)
    assert branch.parent is not None and branch.parent["epoch"] == 1
