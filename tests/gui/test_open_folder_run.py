"""A run trained on a folder of one's own pictures opens in a fresh window: whole while
the folder is where it was, without its pictures (and saying what needs them) once the
folder has moved, and whole again once the person points at its new place."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QComboBox, QFileDialog, QLabel, QPushButton, QSlider, QTableWidget,
                               QTabWidget, QWidget)

from cnn_core.runs.store import read_summary
from cnn_core.train.config import TrainConfig
from cnn_core.train.launch import launch
from tests.gui.conftest import find
from tests.pictures import SHAPES, make_folder


@pytest.fixture
def folder_run(tmp_path) -> tuple[Path, Path]:
    """(the pictures, a 2-epoch LeNet-5 run trained on them)."""
    pictures = make_folder(tmp_path / "shapes", per_class=20)  # epoch 2 is the best
    config = TrainConfig(arch="lenet5", dataset=str(pictures), epochs=2, batch_size=16,
                         image_size=28, device="cpu", data_dir=str(tmp_path / "cache"))
    launched = launch(config, runs_dir=tmp_path / "runs")
    assert launched.trainer.fit().status == "completed"
    assert read_summary(launched.run_dir).best_epoch == 2  # the run opens at its best epoch
    return pictures, launched.run_dir


def open_run(qtbot, window, run: Path) -> None:
    with qtbot.waitSignal(window.session.runFinished, timeout=60_000) as finished:
        window.open_path(run)
    assert finished.args == ["inspected"]


def show_tab(window, title: str) -> None:
    tabs = find(window, QTabWidget, "panelTabs")
    tabs.setCurrentIndex(next(i for i in range(tabs.count()) if tabs.tabText(i) == title))


def matrix_classes(window) -> list[str]:
    """The true classes the confusion matrix names (its rows)."""
    matrix = find(window, QTableWidget, "confusionMatrixView")
    return [matrix.verticalHeaderItem(i).text().split(maxsplit=1)[-1]
            for i in range(matrix.rowCount()) if matrix.verticalHeaderItem(i) is not None]


def shows_the_run(window) -> None:
    """Curves, filters and the time-lapse of both epochs, which need no pictures."""
    assert window.curves.test_acc.getData()[0].tolist() == [1.0, 2.0]
    layers = find(window, QComboBox, "filterLayerCombo")
    assert layers.isEnabled() and layers.itemData(0) == "conv1"
    assert find(window, QSlider, "snapshotSlider").maximum() == 2  # initial, epoch 1, epoch 2
    assert "Opened" in find(window, QLabel, "statusMessage").text()


def test_a_run_on_a_picture_folder_opens_whole(qtbot, window, folder_run) -> None:
    pictures, run = folder_run
    open_run(qtbot, window, run)
    shows_the_run(window)
    assert not find(window, QLabel, "errorBanner").isVisible()
    assert not find(window, QLabel, "picturesBanner").isVisible()
    show_tab(window, "Errors")
    qtbot.waitUntil(lambda: matrix_classes(window) == list(SHAPES), timeout=10_000)
    assert window.session.run_info.config.dataset == str(pictures)
    show_tab(window, "Layer health")  # every epoch the run saved, not only the one opened
    health = window.inside.health_panel
    qtbot.waitUntil(lambda: [epoch for epoch, _ in health.history] == [0, 1, 2],
                    timeout=30_000)


def pictures_gone(pictures: Path) -> str:
    return f"the folder {pictures} is not there any more"


@pytest.mark.filterwarnings("error::RuntimeWarning")  # no statistics of an empty set
def test_a_run_whose_pictures_moved_opens_without_them_and_finds_them(
        qtbot, window, folder_run, tmp_path, monkeypatch) -> None:
    pictures, run = folder_run
    moved = Path(shutil.move(pictures, tmp_path / "moved"))
    open_run(qtbot, window, run)

    shows_the_run(window)
    assert window.session.run_info.config.dataset == str(pictures)  # its settings, as run
    assert not find(window, QLabel, "errorBanner").isVisible()
    banner = find(window, QLabel, "picturesBanner")
    assert banner.isVisible()
    assert pictures_gone(pictures) in banner.text()
    for view in ("Feature maps", "Errors", "Embedding", "Ablation", "Saliency", "Layer health"):
        assert view in banner.text()
    show_tab(window, "Draw")
    assert find(window, QWidget, "drawingCanvas").isVisible()
    note = f"This run's pictures are not here ({pictures_gone(pictures)})"
    for view in ("Errors", "Embedding", "Feature maps"):
        show_tab(window, view)
        shown = find(window, QTabWidget, "panelTabs").currentWidget()
        assert isinstance(shown, QLabel) and shown.text().startswith(note)
        assert "Locate the folder" in shown.text()
    assert matrix_classes(window) == []  # nothing made up

    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(moved))
    with qtbot.waitSignal(window.session.runFinished, timeout=60_000):
        qtbot.mouseClick(find(window, QPushButton, "locatePicturesButton"),
                         Qt.MouseButton.LeftButton)
    maps = find(window, QTabWidget, "panelTabs").currentWidget()  # built once they are here
    assert maps is window.inside.feature_maps_panel and maps.isVisible()
    show_tab(window, "Errors")
    qtbot.waitUntil(lambda: matrix_classes(window) == list(SHAPES), timeout=10_000)
    assert not banner.isVisible()
    shows_the_run(window)


def test_pointing_at_a_folder_of_other_classes_is_refused(
        qtbot, window, folder_run, tmp_path, monkeypatch) -> None:
    pictures, run = folder_run
    shutil.rmtree(pictures)
    open_run(qtbot, window, run)
    others = make_folder(tmp_path / "others", per_class=4, classes=("cat", "dog"))
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(others))
    with qtbot.waitSignal(window.session.error, timeout=60_000) as refused:
        qtbot.mouseClick(find(window, QPushButton, "locatePicturesButton"),
                         Qt.MouseButton.LeftButton)
    assert "classes changed" in refused.args[0]
    assert find(window, QLabel, "errorBanner").isVisible()
