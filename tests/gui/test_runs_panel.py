"""The runs panel and the settings diff, on real run folders recorded by a real Trainer."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (QDockWidget, QFileDialog, QInputDialog, QLabel, QMainWindow,
                               QMessageBox, QTableWidget, QTreeWidget)

from cnn_core.train.callbacks import Callback, SettingsChange
from cnn_core.train.config import TrainConfig
from cnn_core.data.datasets import DataBundle, Split, load_dataset
from cnn_core.runs.recorder import RunRecorder
from cnn_core.runs.store import read_summary, write_summary
from cnn_core.train.trainer import Trainer
from gui.session.describe import describe_change
from gui.widgets.config_diff import DIFFERENT_BACKGROUND, ConfigDiffDialog
from gui.session.runs_model import RunsModel
from gui.panels.runs import RunsPanel
from gui.panels.runs.runs_rows import ARCH, BEST, DATASET, EMPTY_TEXT, EPOCHS, NAME, STATUS

# name: (settings, created, stop after this many epochs)
RUNS = {
    "adam": ({"optimizer": "adam", "lr": 1e-3}, "2025-03-01T10:00:00", None),
    "sgd": ({"optimizer": "sgd", "lr": 3e-3}, "2025-03-02T10:00:00", None),
    "halted": ({"optimizer": "adam", "lr": 1e-3}, "2025-03-03T10:00:00", 1),
}


class StopAfter(Callback):
    def __init__(self, epochs: int) -> None:
        self.epochs = epochs

    def on_epoch_end(self, trainer, metrics) -> None:
        if metrics.epoch >= self.epochs:
            trainer.request_stop()


def record_run(run_dir: Path, data: DataBundle, created: str, stop_after: int | None = None,
               **settings) -> None:
    """Train a tiny LeNet-5 for real and keep its folder, with a known creation time."""
    callbacks = [RunRecorder(run_dir, name=run_dir.name)]
    if stop_after is not None:
        callbacks.append(StopAfter(stop_after))
    Trainer(TrainConfig(arch="lenet5", epochs=2, batch_size=64, device="cpu", **settings),
            callbacks, data=data).fit()
    summary = read_summary(run_dir)
    summary.created = created
    write_summary(summary)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sample = load_dataset("mnist-sample")
    # every 12th / 10th image: the sample is sorted by digit, and all ten should be there
    data = DataBundle(sample.info, Split(sample.train.images[::12], sample.train.labels[::12]),
                      Split(sample.test.images[::10], sample.test.labels[::10]))
    folder = tmp_path_factory.mktemp("recorded")
    for name, (settings, created, stop_after) in RUNS.items():
        record_run(folder / name, data, created, stop_after, **settings)
    return folder


@pytest.fixture
def runs_dir(recorded: Path, tmp_path: Path) -> Path:
    """A fresh copy of the recorded runs for each test (tests rename and delete them)."""
    target = tmp_path / "runs"
    shutil.copytree(recorded, target)
    return target


@pytest.fixture
def panel(qtbot, runs_dir: Path) -> RunsPanel:
    widget = RunsPanel(RunsModel(runs_dir))
    qtbot.addWidget(widget)
    widget.resize(720, 360)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def rows(panel: RunsPanel) -> list[list[str]]:
    tree = panel.findChild(QTreeWidget, "runsList")
    return [[tree.topLevelItem(i).text(c) for c in range(tree.columnCount())]
            for i in range(tree.topLevelItemCount())]


def item(panel: RunsPanel, name: str):
    tree = panel.findChild(QTreeWidget, "runsList")
    return next(tree.topLevelItem(i) for i in range(tree.topLevelItemCount())
                if tree.topLevelItem(i).text(NAME) == name)


def select(panel: RunsPanel, *names: str) -> None:
    panel.tree.clearSelection()
    for name in names:
        item(panel, name).setSelected(True)


def test_lists_every_run_newest_first_with_its_facts(panel: RunsPanel, runs_dir: Path) -> None:
    listed = rows(panel)
    assert [r[0] for r in listed] == ["halted", "sgd", "adam"]
    for row in listed:
        summary = read_summary(runs_dir / row[0])
        assert [row[c] for c in (BEST, ARCH, DATASET)] == [
            f"{summary.best_test_acc:.2%}", "lenet5", "mnist-sample"]
    assert listed[0][EPOCHS] == "1/2" and listed[0][STATUS] == "stopped"
    assert listed[2][EPOCHS] == "2/2" and listed[2][STATUS] == "completed"
    assert not panel.empty_label.isVisible()


def test_sorting_by_best_accuracy_is_numeric(panel: RunsPanel, runs_dir: Path) -> None:
    panel.tree.sortByColumn(BEST, Qt.SortOrder.AscendingOrder)
    accs = [read_summary(runs_dir / r[0]).best_test_acc for r in rows(panel)]
    assert accs == sorted(accs)


def test_ticking_two_runs_overlays_both_and_allows_comparing(qtbot, panel: RunsPanel) -> None:
    assert not panel.compare_action.isEnabled()
    with qtbot.waitSignal(panel.overlayChanged) as first:
        item(panel, "adam").setCheckState(NAME, Qt.CheckState.Checked)
    assert [r.name for r in first.args[0]] == ["adam"]
    with qtbot.waitSignal(panel.overlayChanged) as second:
        item(panel, "sgd").setCheckState(NAME, Qt.CheckState.Checked)
    assert [r.name for r in second.args[0]] == ["sgd", "adam"]
    assert [r.name for r in panel.checked_runs()] == ["sgd", "adam"]
    assert panel.compare_action.isEnabled()

    panel.compare_action.trigger()
    dialog = panel.diff_dialog
    assert dialog is not None and dialog.isVisible()
    table = dialog.findChild(QTableWidget, "configDiffTable")
    assert [table.horizontalHeaderItem(c).text() for c in (0, 1)] == ["sgd", "adam"]


def test_refresh_keeps_ticks_and_selection_and_finds_new_runs(qtbot, panel: RunsPanel,
                                                              runs_dir: Path) -> None:
    item(panel, "adam").setCheckState(NAME, Qt.CheckState.Checked)
    select(panel, "sgd")
    shutil.copytree(runs_dir / "adam", runs_dir / "copy")
    summary = read_summary(runs_dir / "copy")
    summary.name, summary.created = "copy", "2025-03-04T10:00:00"
    write_summary(summary)
    with qtbot.assertNotEmitted(panel.overlayChanged):
        panel.refresh()
    assert [r[0] for r in rows(panel)] == ["copy", "halted", "sgd", "adam"]
    assert [r.name for r in panel.checked_runs()] == ["adam"]
    assert panel.selected_run().name == "sgd"


def test_an_epoch_recorded_updates_its_row_now_when_shown_and_on_showing_when_hidden(
        panel: RunsPanel, runs_dir: Path) -> None:
    def record_epochs(done: int) -> None:
        summary = read_summary(runs_dir / "halted")
        summary.epochs_done = done
        write_summary(summary)
        panel.model.epoch_recorded(runs_dir / "halted")

    record_epochs(2)
    assert item(panel, "halted").text(EPOCHS).startswith("2")
    panel.hide()  # another tab of the dock in front: an epoch's end reads nothing
    record_epochs(3)
    assert item(panel, "halted").text(EPOCHS).startswith("2")
    panel.show()
    assert item(panel, "halted").text(EPOCHS).startswith("3")


def test_behind_another_docks_tab_an_epoch_updates_its_row_only_once_its_tab_is_raised(
        qtbot, runs_dir: Path) -> None:
    """As in the window: the Runs dock tabified behind Configuration is visible to Qt
    (``isVisible``) but covered, and is not read until its tab is raised."""
    window = QMainWindow()
    qtbot.addWidget(window)
    panel = RunsPanel(RunsModel(runs_dir))
    docks = [QDockWidget(title, window) for title in ("Configuration", "Runs")]
    docks[0].setWidget(QLabel("settings"))
    docks[1].setWidget(panel)
    for dock in docks:
        window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
    window.tabifyDockWidget(*docks)
    window.setCentralWidget(QLabel("centre"))
    window.resize(900, 500)
    window.show()
    qtbot.waitExposed(window)
    docks[0].raise_()
    qtbot.waitUntil(lambda: panel.visibleRegion().isEmpty())

    summary = read_summary(runs_dir / "halted")
    summary.epochs_done = 2
    write_summary(summary)
    panel.model.epoch_recorded(runs_dir / "halted")
    assert panel.isVisible() and item(panel, "halted").text(EPOCHS).startswith("1")
    docks[1].raise_()
    qtbot.waitUntil(lambda: item(panel, "halted").text(EPOCHS).startswith("2"))


def test_rename_writes_the_summary_and_updates_the_row(qtbot, panel: RunsPanel, runs_dir: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("Adam baseline", True))
    select(panel, "adam")
    panel.tree.setFocus()
    qtbot.keyClick(panel.tree, Qt.Key.Key_F2)
    assert read_summary(runs_dir / "adam").name == "Adam baseline"
    assert "Adam baseline" in [r[0] for r in rows(panel)]
    assert panel.selected_run().name == "Adam baseline"


def test_a_bad_name_is_refused_and_nothing_is_lost(panel: RunsPanel, runs_dir: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("   ", True))
    select(panel, "adam")
    panel.rename_action.trigger()
    assert read_summary(runs_dir / "adam").name == "adam"
    assert panel.message.isVisible() and "empty" in panel.message.text()


@pytest.mark.parametrize("answer", [QMessageBox.StandardButton.No,
                                    QMessageBox.StandardButton.Yes])
def test_delete_asks_first(qtbot, panel: RunsPanel, runs_dir: Path,
                           monkeypatch: pytest.MonkeyPatch, answer) -> None:
    asked = []
    monkeypatch.setattr(QMessageBox, "question",
                        lambda _parent, _title, text, *a: asked.append(text) or answer)
    item(panel, "sgd").setCheckState(NAME, Qt.CheckState.Checked)
    select(panel, "sgd")
    panel.tree.setFocus()
    if answer == QMessageBox.StandardButton.Yes:
        overlaid = []
        panel.overlayChanged.connect(overlaid.append)
        with qtbot.waitSignal(panel.model.runDeleted) as deleted:
            qtbot.keyClick(panel.tree, Qt.Key.Key_Delete)
        assert deleted.args == [runs_dir / "sgd"]
        assert overlaid == [[]]  # no longer overlaid
    else:
        qtbot.keyClick(panel.tree, Qt.Key.Key_Delete)
    assert len(asked) == 1 and "“sgd”" in asked[0]
    kept = answer == QMessageBox.StandardButton.No
    assert (runs_dir / "sgd").is_dir() == kept
    assert ("sgd" in [r[0] for r in rows(panel)]) == kept


def test_the_active_run_is_marked_and_cannot_be_deleted_or_renamed(
        panel: RunsPanel, runs_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    item(panel, "adam").setCheckState(NAME, Qt.CheckState.Checked)
    monkeypatch.setattr(QMessageBox, "question", lambda *a: pytest.fail("should not ask"))
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: pytest.fail("should not ask"))
    panel.model.set_active(runs_dir / "adam")
    row = item(panel, "adam")
    assert row.text(STATUS) == "training" and row.font(NAME).weight() == QFont.Weight.Bold
    assert panel.checked_runs() == []  # the live run is on the plots already
    assert not row.flags() & Qt.ItemFlag.ItemIsUserCheckable
    select(panel, "adam", "sgd")
    panel.delete_action.trigger()
    assert (runs_dir / "adam").is_dir() and (runs_dir / "sgd").is_dir()
    assert "cannot be deleted" in panel.message.text()
    select(panel, "adam")
    assert not panel.rename_action.isEnabled()
    panel.model.set_active(None)
    assert item(panel, "adam").text(STATUS) == "completed"
    assert panel.rename_action.isEnabled()


def test_resume_branch_and_open_ask_for_the_right_files(qtbot, panel: RunsPanel,
                                                        runs_dir: Path) -> None:
    select(panel, "adam")  # completed: nothing to resume
    assert not panel.resume_action.isEnabled()
    select(panel, "halted")  # stopped after 1 of 2 epochs
    assert panel.resume_action.isEnabled()
    with qtbot.waitSignal(panel.resumeRequested) as resumed:
        panel.resume_action.trigger()
    assert resumed.args == [runs_dir / "halted" / "checkpoints" / "last.pt"]
    with qtbot.waitSignal(panel.branchRequested) as best:
        panel.branch_best_action.trigger()
    assert best.args == [runs_dir / "halted" / "checkpoints" / "best.pt"]
    with qtbot.waitSignal(panel.branchRequested) as last:
        panel.branch_last_action.trigger()
    assert last.args == [runs_dir / "halted" / "checkpoints" / "last.pt"]
    with qtbot.waitSignal(panel.openRequested) as opened:
        panel.open_action.trigger()
    assert opened.args == [runs_dir / "halted" / "checkpoints" / "best.pt"]

    panel.model.set_active(runs_dir / "adam")  # one run at a time
    select(panel, "halted")
    assert not any(a.isEnabled() for a in (panel.resume_action, panel.branch_best_action,
                                           panel.open_action))


def test_a_branch_names_its_parent(panel: RunsPanel, runs_dir: Path) -> None:
    summary = read_summary(runs_dir / "halted")
    summary.parent = {"run": "adam", "epoch": 1}
    write_summary(summary)
    panel.refresh()
    row = item(panel, "↳ halted")
    assert "from adam @ epoch 1" in row.toolTip(NAME)


def test_an_empty_folder_says_what_to_do(qtbot, tmp_path: Path, runs_dir: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    widget = RunsPanel(RunsModel(tmp_path / "nothing here"))
    qtbot.addWidget(widget)
    widget.show()
    assert widget.empty_label.isVisible() and widget.empty_label.text() == EMPTY_TEXT
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(runs_dir))
    with qtbot.waitSignal(widget.runsDirChangeRequested) as change:
        qtbot.mouseClick(widget.change_folder_button, Qt.MouseButton.LeftButton)
    assert change.args == [runs_dir]
    widget.model.set_folder(runs_dir)
    assert not widget.empty_label.isVisible() and len(rows(widget)) == 3


def test_the_diff_highlights_exactly_what_differs(qtbot, runs_dir: Path) -> None:
    dialog = ConfigDiffDialog(read_summary(runs_dir / "adam"), read_summary(runs_dir / "sgd"))
    qtbot.addWidget(dialog)
    dialog.show()
    config_keys = set(TrainConfig.__dataclass_fields__)
    assert {k for k in dialog.differences() if k in config_keys} == {"lr", "optimizer"}
    table = dialog.findChild(QTableWidget, "configDiffTable")
    highlighted = {table.verticalHeaderItem(r).toolTip() for r in range(table.rowCount())
                   if table.item(r, 0).background().color() == DIFFERENT_BACKGROUND
                   and table.item(r, 1).font().bold()}
    assert highlighted == set(dialog.differences())
    lr_row = next(r for r in range(table.rowCount())
                  if table.verticalHeaderItem(r).toolTip() == "lr")
    assert [table.item(lr_row, c).text() for c in (0, 1)] == ["1e-3", "3e-3"]

    dialog.only_differences.setChecked(True)
    shown = {table.verticalHeaderItem(r).toolTip() for r in range(table.rowCount())
             if not table.isRowHidden(r)}
    assert shown == set(dialog.differences())
    dialog.only_differences.setChecked(False)
    assert not any(table.isRowHidden(r) for r in range(table.rowCount()))


def test_a_change_made_while_paused_reads_as_text() -> None:
    change = SettingsChange(40, 1.5, {"lr": (1e-3, 3e-4), "batch_size": (64, 128)})
    assert describe_change(change) == "lr 1e-3 → 3e-4, batch size 64 → 128"
