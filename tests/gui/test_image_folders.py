"""A folder of one's own pictures in the window: opened from the menu or dropped, shown
with its classes and pictures, trained on, and remembered."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QAction, QDropEvent
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFileDialog, QLabel, QProgressBar,
                               QPushButton, QSpinBox, QTableWidget)

from cnn_core.train.config import TrainConfig
from gui.panels.config.config_panel import ConfigPanel
from gui.session.datasets import DatasetService
from gui.window.main_window import MainWindow
from tests.gui.conftest import find, slow_to_end
from tests.gui.test_training_window import configure
from tests.pictures import SHAPES, make_folder


@pytest.fixture(scope="module")
def shapes(tmp_path_factory) -> Path:
    root = make_folder(tmp_path_factory.mktemp("pictures") / "shapes", per_class=24)
    (root / "square" / "notes.txt").write_text("not a picture")
    return root


def open_folder(window: MainWindow, folder: Path, monkeypatch) -> None:
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(folder))
    find(window, QAction, "openImageFolderAction").trigger()


def wait_until_read(qtbot, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: window.config_panel.data.preview_data is not None, timeout=30_000)


def test_an_opened_folder_is_chosen_and_shown(qtbot, window, shapes, monkeypatch) -> None:
    open_folder(window, shapes, monkeypatch)
    combo = find(window, QComboBox, "datasetCombo")
    assert combo.currentData() == str(shapes)
    wait_until_read(qtbot, window)
    preview = find(window, QLabel, "datasetPreview")
    assert preview.count == 12 and not preview.pixmap().isNull()
    classes = find(window, QLabel, "datasetClasses").text()
    assert "circle (24), square (24), triangle (24)" in classes
    status = find(window, QLabel, "datasetStatus").text()
    assert "Skipped 1 file that is not a readable picture: square/notes.txt" in status
    assert window.config_panel.valid
    assert window.config_panel.dataset_info.input_shape == (3, 32, 32)
    assert find(window, QLabel, "statusMessage").text() == f"Read the pictures in {shapes}."


def test_training_on_a_folder_names_its_classes(qtbot, window, shapes, monkeypatch) -> None:
    open_folder(window, shapes, monkeypatch)
    wait_until_read(qtbot, window)
    configure(window, "lenet5", epochs=1)
    find(window, QCheckBox, "augmentFlipCheck").setChecked(True)
    find(window, QSpinBox, "augmentShiftSpin").setValue(2)
    with qtbot.waitSignal(window.session.runFinished, timeout=120_000) as finished:
        window.start_training()
    assert finished.args == ["completed"]
    recorded = json.loads((window.session.last_run / "config.json").read_text())
    assert recorded["augment"] == "shift=2,flip" and recorded["class_names"] == list(SHAPES)
    window.tabs.setCurrentWidget(window.inside.errors_panel)  # panels draw when shown
    table = find(window, QTableWidget, "confusionMatrixView")
    qtbot.waitUntil(lambda: table.rowCount() == 3)
    rows = [table.verticalHeaderItem(i).text() for i in range(3)]
    assert rows == [f"{i} {name}" for i, name in enumerate(SHAPES)]
    assert [table.horizontalHeaderItem(i).toolTip() for i in range(3)] == \
        [f"predicted {name}" for name in SHAPES]
    assert window.session.run_info.dataset.class_names == SHAPES


def test_a_dropped_folder_is_added_and_remembered(qtbot, window, shapes) -> None:
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(shapes))])
    drop = QDropEvent(QPointF(20, 20), Qt.DropAction.CopyAction, data,
                      Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    window.dropEvent(drop)
    assert find(window, QComboBox, "datasetCombo").currentData() == str(shapes)
    wait_until_read(qtbot, window)
    later = MainWindow()  # the next launch
    qtbot.addWidget(later)
    combo = find(later, QComboBox, "datasetCombo")
    assert combo.findData(str(shapes)) >= 0


def test_reading_a_big_folder_shows_progress_and_can_be_cancelled(qtbot, window, tmp_path,
                                                                  monkeypatch) -> None:
    big = make_folder(tmp_path / "big", per_class=1500, sizes=(64,), classes=("a", "b"))
    open_folder(window, big, monkeypatch)
    cancel = find(window, QPushButton, "folderCancelButton")
    qtbot.waitUntil(cancel.isVisible, timeout=30_000)
    qtbot.mouseClick(cancel, Qt.MouseButton.LeftButton)
    error = find(window, QLabel, "datasetError")
    qtbot.waitUntil(lambda: "cancelled" in error.text(), timeout=30_000)
    assert not cancel.isVisible()
    assert not window.config_panel.valid
    assert window.config_panel.data.preview_data is None


def test_a_folder_with_one_class_is_refused_with_its_reason(qtbot, window, tmp_path,
                                                            monkeypatch) -> None:
    one = make_folder(tmp_path / "one", per_class=3, classes=("cat",))
    open_folder(window, one, monkeypatch)
    error = find(window, QLabel, "datasetError")
    qtbot.waitUntil(lambda: "needs at least two" in error.text(), timeout=30_000)
    assert not window.config_panel.valid


def test_a_folder_that_fails_to_read_says_so_in_the_status_bar(qtbot, window, tmp_path,
                                                               monkeypatch) -> None:
    """Where it stayed on "Reading the pictures…" for good."""
    empty_class = make_folder(tmp_path / "odd", per_class=3, classes=("cat", "dog"))
    for picture in (empty_class / "dog").iterdir():
        picture.write_bytes(b"not a picture")
    open_folder(window, empty_class, monkeypatch)
    status = find(window, QLabel, "statusMessage")
    qtbot.waitUntil(lambda: status.text().startswith("Could not read the pictures in "),
                    timeout=30_000)
    assert "the class 'dog'" in status.text() and "no readable image" in status.text()


def test_a_folder_can_be_trained_on_once_read_before_its_thread_has_ended(qtbot, shapes,
                                                                          tmp_path) -> None:
    datasets = slow_to_end(DatasetService)()
    panel = ConfigPanel(datasets, data_dir=tmp_path)
    qtbot.addWidget(panel)
    read: list[tuple[str, str]] = []
    panel.picturesRead.connect(lambda path, why: read.append((path, why)))
    try:
        datasets.holding = True  # not the read of the default dataset
        panel.set_config(TrainConfig(dataset=str(shapes), epochs=1, device="cpu"))
        qtbot.waitUntil(lambda: panel.data.preview_data is not None, timeout=30_000)
        assert panel.valid and read == [(str(shapes), "")]
        assert find(panel, QProgressBar, "folderProgress").isHidden()
    finally:
        datasets.release.set()
        datasets.shutdown()
