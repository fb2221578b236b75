"""The confusion matrix shows every count in full, without scrolling sideways."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtWidgets import QTableWidget

from gui.panels.deeper import ErrorsPanel

FASHION = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
           "Sneaker", "Bag", "Ankle boot")


@pytest.mark.parametrize("per_class", [100, 1000])
def test_every_count_fits_its_column_in_a_1280x800_window(qtbot, per_class: int) -> None:
    labels = np.repeat(np.arange(10), per_class)
    predictions = labels.copy()
    predictions[:7] = 3  # a few mistakes, so that counts of every width appear
    panel = ErrorsPanel()
    qtbot.addWidget(panel)
    panel.resize(872, 352)  # the tab's size in a 1280x800 window
    panel.show()
    qtbot.waitExposed(panel)
    panel.set_test_set(np.zeros((len(labels), 2, 2, 1), np.uint8), labels, FASHION)
    panel.set_predictions(1, predictions, np.ones(len(labels), np.float32),
                          np.zeros(len(labels), np.float32))
    table = panel.findChild(QTableWidget, "confusionMatrixView")
    qtbot.waitUntil(lambda: table.viewport().width() >= table.horizontalHeader().length())
    assert table.horizontalScrollBar().maximum() == 0
    metrics = table.fontMetrics()
    for c in range(table.columnCount()):
        widest = max(metrics.horizontalAdvance(table.item(r, c).text())
                     for r in range(table.rowCount()))
        assert table.columnWidth(c) > widest, c
    assert table.item(1, 1).text() == str(per_class)
    assert table.verticalHeaderItem(0).text() == "0 T-shirt/top"
    assert table.horizontalHeaderItem(0).toolTip() == "predicted T-shirt/top"


def test_a_cell_lists_its_images_most_confident_first(qtbot) -> None:
    labels = np.array([0, 0, 1, 1, 1])
    predictions = np.array([0, 1, 1, 0, 0])
    confidence = np.array([0.9, 0.6, 0.8, 0.7, 0.95], np.float32)
    panel = ErrorsPanel()
    qtbot.addWidget(panel)
    panel.set_test_set(np.zeros((5, 2, 2, 1), np.uint8), labels, ("0", "1"))
    panel.set_predictions(1, predictions, confidence, -np.log(confidence))
    with qtbot.waitSignal(panel.imageSelected) as chosen:
        panel.show_cell(1, 0)
        panel.list.itemClicked.emit(panel.list.item(0))
    assert panel.listed == [4, 3] and chosen.args == [4]
    assert panel.table.verticalHeaderItem(1).text() == "1"  # digits: the name is the number
