"""One's own network, through the real window: opened from a file, edited in the
architecture editor, remembered, saved, trained and compared."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QAction, QDropEvent
from PySide6.QtWidgets import (QComboBox, QDialog, QFileDialog, QLabel, QLineEdit, QMessageBox,
                               QPushButton, QSpinBox, QTableWidget)

from cnn_core.nn.spec import load_spec, parse_spec
from cnn_core.runs.store import read_summary
from gui.panels.editor.layer_table import NAME, OUTPUT, SETTINGS, TYPE
from gui.panels.config import BAD_ROW
from gui.window.main_window import MainWindow
from tests.core.test_spec import EXAMPLE as TINY
from tests.gui.conftest import find

TINY_SHAPES = ["8x28x28", "8x28x28", "8x14x14", "16x12x12", "16x12x12", "16x12x12", "16x6x6",
               "576", "576", "64", "64", "10"]


@pytest.fixture
def spec_file(tmp_path: Path) -> Path:
    path = tmp_path / "specs" / "tiny.json"
    path.parent.mkdir()
    path.write_text(json.dumps(TINY), encoding="utf-8")
    return path


def open_architecture(window: MainWindow, monkeypatch, path: Path) -> None:
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    action = window.findChild(QAction, "openArchitectureAction")
    assert action is not None and action.isEnabled()
    action.trigger()


def editor_of(window: MainWindow) -> QDialog:
    return find(window, QDialog, "architectureEditor")


def layer_table(window: MainWindow) -> QTableWidget:
    return editor_of(window).findChild(QTableWidget, "layerTable")


def column(table: QTableWidget, col: int) -> list[str]:
    return [table.item(r, col).text() for r in range(table.rowCount())]


def type_into_cell(qtbot, table: QTableWidget, row: int, col: int, text: str) -> None:
    """Open the cell's editor as a person does (select it, F2), and type over it."""
    table.setCurrentCell(row, col)
    qtbot.keyClick(table, Qt.Key.Key_F2)
    editor = table.indexWidget(table.currentIndex())
    assert isinstance(editor, QLineEdit)
    editor.selectAll()
    qtbot.keyClicks(editor, text)


def test_opening_a_spec_shows_its_layers_and_their_shapes(qtbot, window, monkeypatch,
                                                          spec_file: Path) -> None:
    open_architecture(window, monkeypatch, spec_file)
    editor = editor_of(window)
    assert editor.isVisible()
    table = layer_table(window)
    assert table.rowCount() == len(TINY["layers"])
    assert column(table, TYPE) == [layer["type"] for layer in TINY["layers"]]
    assert column(table, OUTPUT) == TINY_SHAPES
    assert column(table, NAME)[:3] == ["conv1", "relu1", "pool1"]
    assert column(table, SETTINGS)[0] == "out_channels=8, kernel_size=5, stride=1, padding=2"
    assert column(table, SETTINGS)[2] == "kernel_size=2"  # as written
    combo = find(window, QComboBox, "architectureCombo")
    assert combo.currentText() == "tiny"
    config = window.config_panel.config()
    assert config.arch == "tiny" and parse_spec(config.network) == parse_spec(TINY)
    assert find(window, QPushButton, "startButton").isEnabled()
    summary = find(window, QTableWidget, "layerSummary")
    assert summary.item(0, 1).text() == "8x28x28"

    # the same file again: chosen, not listed twice
    count = combo.count()
    open_architecture(window, monkeypatch, spec_file)
    assert combo.count() == count and combo.currentText() == "tiny"


def test_dropping_a_spec_file_opens_it(qtbot, window, spec_file: Path) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(spec_file))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)
    assert event.isAccepted() and editor_of(window).isVisible()
    assert find(window, QComboBox, "architectureCombo").currentText() == "tiny"


@pytest.mark.parametrize("content,reason", [
    ("{not json", "not valid JSON"),
    (json.dumps({"name": "x", "layers": [{"type": "softmax"}]}), "layer 1: unknown type"),
])
def test_a_bad_spec_file_is_refused_in_one_message(window, monkeypatch, tmp_path: Path,
                                                   content: str, reason: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    combo = find(window, QComboBox, "architectureCombo")
    before = (combo.count(), combo.currentText())
    open_architecture(window, monkeypatch, path)
    banner = find(window, QLabel, "errorBanner")
    assert banner.isVisible() and reason in banner.text() and "bad.json" in banner.text()
    assert (combo.count(), combo.currentText()) == before
    assert not editor_of(window).isVisible()


def test_an_impossible_layer_stops_start_until_it_is_fixed(qtbot, window, monkeypatch,
                                                           spec_file: Path) -> None:
    open_architecture(window, monkeypatch, spec_file)
    table = layer_table(window)
    start = find(window, QPushButton, "startButton")

    type_into_cell(qtbot, table, 3, SETTINGS, "out_channels=16, kernel_size=15")
    reason = "layer 4 (conv2d): a 15x15 kernel is larger than its 14x14 input"
    assert not start.isEnabled()
    assert reason in start.toolTip()
    error = find(window, QLabel, "archError")
    assert error.text() == reason and not error.isHidden()
    assert reason in find(window, QLabel, "networkMessage").text()
    assert table.item(3, SETTINGS).background().color() == BAD_ROW
    assert table.item(3, TYPE).toolTip() == reason
    assert column(table, OUTPUT)[:3] == TINY_SHAPES[:3]  # the good layers keep their shapes
    assert column(table, OUTPUT)[3:] == ["⚠"] + [""] * 8
    assert table.verticalHeaderItem(3).text() == "⚠ 4"

    # each keystroke counts: the shapes follow the typing
    editor = table.indexWidget(table.currentIndex())
    qtbot.keyClick(editor, Qt.Key.Key_Backspace)
    assert start.isEnabled() and error.isHidden()
    assert column(table, OUTPUT)[3] == "16x14x14"  # kernel_size=1
    assert editor.text() == "out_channels=16, kernel_size=1"  # the cursor was not disturbed
    qtbot.keyClicks(editor, "x3")
    assert column(table, OUTPUT)[3] == "16x14x12"
    assert table.item(3, SETTINGS).background().color() != BAD_ROW

    # a wrong value is named by the network, like a file's
    type_into_cell(qtbot, table, 0, SETTINGS, "out_channels=eight, kernel_size=5")
    assert not start.isEnabled()
    assert "layer 1: out_channels must be a whole number" in error.text()
    type_into_cell(qtbot, table, 0, SETTINGS, "out_channels=8, kernel_size=5, padding=2")
    assert start.isEnabled()


def test_layers_are_added_removed_duplicated_and_moved_from_the_keyboard(
        qtbot, window, monkeypatch, spec_file: Path) -> None:
    open_architecture(window, monkeypatch, spec_file)
    editor = editor_of(window)
    table = layer_table(window)
    editor.activateWindow()
    qtbot.waitUntil(editor.isActiveWindow)

    table.selectRow(0)
    table.setFocus()
    qtbot.keyClick(table, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    assert column(table, TYPE)[:3] == ["conv2d", "conv2d", "relu"]
    assert column(table, NAME)[:2] == ["conv1", "conv2"]  # the copy gets its own name
    assert column(table, OUTPUT)[1] == "8x28x28"
    assert table.selectionModel().selectedRows()[0].row() == 1

    qtbot.keyClick(table, Qt.Key.Key_Down, Qt.KeyboardModifier.AltModifier)
    assert column(table, TYPE)[:3] == ["conv2d", "relu", "conv2d"]
    qtbot.keyClick(table, Qt.Key.Key_Delete)
    assert column(table, TYPE) == [layer["type"] for layer in TINY["layers"]]
    assert column(table, OUTPUT) == TINY_SHAPES

    find(window, QComboBox, "addLayerType").setCurrentText("dropout")
    table.selectRow(1)
    qtbot.keyClick(table, Qt.Key.Key_Insert)
    assert column(table, TYPE)[2] == "dropout" and column(table, SETTINGS)[2] == "p=0.5"

    # a layer's type is a list to choose from; what it can keep, it keeps
    table.setCurrentCell(3, TYPE)
    qtbot.keyClick(table, Qt.Key.Key_F2)
    chooser = table.indexWidget(table.currentIndex())
    assert isinstance(chooser, QComboBox)
    chooser.activated.emit(chooser.findText("avgpool2d"))
    assert column(table, TYPE)[3] == "avgpool2d"
    assert column(table, SETTINGS)[3] == "kernel_size=2"
    assert find(window, QComboBox, "architectureCombo").currentText() == "tiny"


def test_a_builtin_is_copied_on_the_first_change(qtbot, window) -> None:
    combo = find(window, QComboBox, "architectureCombo")
    combo.setCurrentIndex(combo.findData("lenet5"))
    qtbot.mouseClick(find(window, QPushButton, "editArchitectureButton"),
                     Qt.MouseButton.LeftButton)
    table = layer_table(window)
    assert editor_of(window).isVisible() and table.rowCount() == 12
    type_into_cell(qtbot, table, 0, SETTINGS, "out_channels=12, kernel_size=5, padding=2")
    assert combo.currentText() == "my lenet5"
    assert combo.itemText(combo.findData("lenet5")) == "LeNet-5"  # the built-in stays
    config = window.config_panel.config()
    assert config.arch == "my lenet5" and config.network["layers"][0]["out_channels"] == 12
    name = find(window, QLineEdit, "networkNameEdit")
    name.selectAll()
    qtbot.keyClicks(name, "wide lenet")
    assert combo.currentText() == "wide lenet"
    assert window.config_panel.config().arch == "wide lenet"
    qtbot.keyClick(name, Qt.Key.Key_Return)  # presses no button
    assert combo.currentText() == "wide lenet" and editor_of(window).isVisible()
    name.clear()
    qtbot.keyClicks(name, " ")
    assert not find(window, QPushButton, "startButton").isEnabled()
    assert "name" in find(window, QLabel, "archError").text()


def test_own_networks_are_remembered_even_when_the_file_is_gone(qtbot, window, monkeypatch,
                                                                spec_file: Path) -> None:
    open_architecture(window, monkeypatch, spec_file)
    editor = editor_of(window)
    editor.findChild(QComboBox, "startFromCombo").setCurrentIndex(1)  # LeNet-5
    assert find(window, QComboBox, "architectureCombo").currentText() == "my lenet5"
    window.close()
    spec_file.unlink()

    again = MainWindow()
    qtbot.addWidget(again)
    combo = find(again, QComboBox, "architectureCombo")
    names = [combo.itemText(i) for i in range(combo.count())]
    assert names[-2:] == ["tiny", "my lenet5"]
    assert combo.currentText() == "my lenet5"  # the last one chosen, as the settings are
    combo.setCurrentIndex(names.index("tiny"))
    assert parse_spec(again.config_panel.config().network) == parse_spec(TINY)
    again.close()


def test_save_as_writes_a_spec_that_reads_back_the_same(qtbot, window, monkeypatch,
                                                        tmp_path: Path) -> None:
    qtbot.mouseClick(find(window, QPushButton, "editArchitectureButton"),
                     Qt.MouseButton.LeftButton)
    editor = editor_of(window)
    editor.findChild(QComboBox, "startFromCombo").setCurrentIndex(3)  # DeepCNN
    table = layer_table(window)
    table.selectRow(2)
    qtbot.mouseClick(editor.findChild(QPushButton, "duplicateLayerButton"),
                     Qt.MouseButton.LeftButton)
    target = tmp_path / "saved" / "deep.json"
    asked = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda _parent, _title, name, _filter: asked.append(name)
                        or (str(target), ""))
    qtbot.mouseClick(editor.findChild(QPushButton, "saveArchitectureButton"),
                     Qt.MouseButton.LeftButton)
    assert asked == ["my-deepcnn.json"]
    assert load_spec(target) == parse_spec(window.config_panel.config().network)
    assert len(load_spec(target).layers) == table.rowCount() == 22
    message = editor.findChild(QLabel, "networkMessage")
    assert f"Saved to {target}" in message.text()

    # a network that cannot be read is not written
    type_into_cell(qtbot, table, 0, SETTINGS, "out_channels=32, kernel_size=3, dilation=2")
    asked.clear()
    qtbot.mouseClick(editor.findChild(QPushButton, "saveArchitectureButton"),
                     Qt.MouseButton.LeftButton)
    assert asked == [] and message.text().startswith("Cannot save: layer 1: conv2d has no "
                                                     "field 'dilation'")
    assert len(load_spec(target).layers) == 22  # the file keeps what was saved


def test_a_network_can_be_taken_off_the_list(qtbot, window, monkeypatch,
                                             spec_file: Path) -> None:
    open_architecture(window, monkeypatch, spec_file)
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a, **k: QMessageBox.StandardButton.Yes)
    qtbot.mouseClick(editor_of(window).findChild(QPushButton, "forgetNetworkButton"),
                     Qt.MouseButton.LeftButton)
    combo = find(window, QComboBox, "architectureCombo")
    assert combo.findText("tiny") < 0 and combo.currentData() == "simplecnn"
    assert window.settings.networks() == []


def test_start_trains_the_network_being_edited(qtbot, window, monkeypatch,
                                               spec_file: Path) -> None:
    open_architecture(window, monkeypatch, spec_file)
    type_into_cell(qtbot, layer_table(window), 9, SETTINGS, "out_features=32")
    device = find(window, QComboBox, "deviceCombo")
    device.setCurrentIndex(device.findData("cpu"))
    epochs = find(window, QSpinBox, "epochsSpin")
    epochs.setValue(1)
    find(window, QSpinBox, "batchSizeSpin").setValue(128)
    add = editor_of(window).findChild(QPushButton, "addLayerButton")
    with qtbot.waitSignal(window.session.runFinished, timeout=120_000) as finished:
        qtbot.mouseClick(find(window, QPushButton, "startButton"), Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: not add.isEnabled(), timeout=10_000)  # no edits mid-run
    assert finished.args == ["completed"]
    assert add.isEnabled()
    run = window.session.last_run
    saved = json.loads((run / "config.json").read_text(encoding="utf-8"))
    assert saved["arch"] == "tiny"
    assert saved["network"]["layers"][9] == {"type": "linear", "out_features": 32}
    assert saved["network"] == window.config_panel.config().network
    assert read_summary(run).epochs_done == 1

    # resuming it chooses its network again, and keeps it as it was
    combo = find(window, QComboBox, "architectureCombo")
    combo.setCurrentIndex(combo.findData("lenet5"))
    with qtbot.waitSignal(window.session.continuationChanged, timeout=30_000):
        window.prepare_continuation("resume", run)
    assert combo.currentText() == "tiny" and not combo.isEnabled() and not add.isEnabled()
    epochs.setValue(2)
    with qtbot.waitSignal(window.session.runFinished, timeout=120_000) as finished:
        qtbot.mouseClick(find(window, QPushButton, "startButton"), Qt.MouseButton.LeftButton)
    assert finished.args == ["completed"] and read_summary(run).epochs_done == 2
