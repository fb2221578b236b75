"""Seeing deeper, through the real window after a short run on the bundled sample: what
filters want to see, where the test images land, filters switched off, which classes fail
and the hardest images."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QComboBox, QLabel, QListWidget, QProgressBar, QPushButton,
                               QSlider, QTableView, QWidget)

from gui.panels.deeper import EmbeddingPanel
from tests.gui.conftest import find, train

TEST_IMAGES = 1000  # the bundled sample's test set


@pytest.fixture
def trained(qtbot, window):
    """The window after a 1-epoch SimpleCNN run."""
    return train(qtbot, window, "simplecnn", epochs=1)


def show_tab(inside, title: str) -> None:
    """As a click on the tab does: a panel is built when its tab is first shown."""
    tabs = inside.tabs
    tabs.setCurrentIndex(next(i for i in range(tabs.count()) if tabs.tabText(i) == title))


def test_classes_embedding_and_hardest_images(qtbot, trained) -> None:
    inside = trained.inside
    inside.tabs.setCurrentWidget(inside.errors_panel)
    report = find(trained, QTableView, "classReportTable")
    assert report.model().rowCount() == 10 + 2  # the classes, macro and weighted averages
    hardest = find(trained, QListWidget, "topLossesList")
    losses = hardest.losses()
    assert len(losses) == 50 and losses == sorted(losses, reverse=True)
    inside.errors_panel.list_tabs.setCurrentWidget(hardest)
    qtbot.mouseClick(hardest.viewport(), Qt.MouseButton.LeftButton,
                     pos=hardest.visualItemRect(hardest.item(0)).center())
    qtbot.waitUntil(lambda: inside.errors_saliency.result is not None, timeout=30_000)
    hardest_index = hardest.item(0).data(Qt.ItemDataRole.UserRole)
    assert f"#{hardest_index} " in inside.errors_saliency.caption.text()

    show_tab(inside, "Embedding")
    panel = trained.findChild(EmbeddingPanel)
    assert inside.tabs.currentWidget() is panel
    plot = find(trained, QWidget, "embeddingPlot")
    qtbot.waitUntil(lambda: len(panel.scatter.data) == TEST_IMAGES, timeout=30_000)
    assert panel.scatter in plot.getPlotItem().items
    caption = find(trained, QLabel, "embeddingCaption")
    qtbot.waitUntil(lambda: "epoch 1:" in caption.text(), timeout=30_000)
    latest = np.column_stack(panel.scatter.getData())
    slider = find(trained, QSlider, "snapshotSlider")  # the time-lapse, back to the start
    slider.setValue(0)
    assert "epoch 0:" in caption.text()
    assert not np.array_equal(np.column_stack(panel.scatter.getData()), latest)
    slider.setValue(slider.maximum())
    assert "epoch 1:" in caption.text()
    panel.imageChosen.emit(7)  # what a click on a point does
    assert inside.tabs.currentWidget() is inside.feature_maps_panel
    assert inside.feature_maps_panel.current_index == 7


def test_preferred_inputs_and_filters_switched_off(qtbot, trained) -> None:
    inside, filters = trained.inside, trained.filters_panel
    inside.tabs.setCurrentWidget(filters)
    find(trained, QComboBox, "filterShowCombo").setCurrentIndex(1)
    combo = find(trained, QComboBox, "filterLayerCombo")
    for index, channels in ((0, 32), (1, 64)):  # SimpleCNN's conv1 and conv2
        combo.setCurrentIndex(index)
        qtbot.waitUntil(lambda: filters.preferred.grid is not None
                        and filters.preferred.grid.count == channels
                        and filters.preferred.shown_for[0] == combo.currentData(),
                        timeout=60_000)

    progress = find(trained, QProgressBar, "activationMaxProgress")
    combo.setCurrentIndex(0)  # conv1 again: a new search, which a person cancels
    assert progress.isVisible()
    qtbot.mouseClick(find(trained, QPushButton, "activationMaxCancel"), Qt.MouseButton.LeftButton)
    assert not progress.isVisible()
    # what every snapshot does; a search the person cancelled is not started again
    inside.state.choose_moment(inside.state.choice)
    assert not progress.isVisible() and filters.preferred.shown_for[0] == "conv2"

    show_tab(inside, "Ablation")
    ablation = inside.deeper.ablation
    assert inside.tabs.currentWidget() is ablation
    accuracy = find(trained, QLabel, "ablationAccuracy")
    qtbot.waitUntil(lambda: "every filter on" in accuracy.text(), timeout=30_000)
    before = accuracy.text()
    ablation.select(range(32))  # every filter of conv1
    qtbot.waitUntil(lambda: accuracy.text() != before, timeout=30_000)
    assert "→" in accuracy.text()
    ablation.select([])
    qtbot.waitUntil(lambda: accuracy.text() == before, timeout=30_000)
