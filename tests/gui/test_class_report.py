"""Which classes fail: the per-class report beside the confusion matrix, and the hardest
images, on predictions made up for the test."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from PySide6.QtCore import Qt

from gui.panels.deeper import ClassReportTable, ErrorsPanel

NAMES = ("cat", "dog", "bird")


RNG = np.random.default_rng(0)
LABELS = RNG.integers(0, 3, 60)
PREDICTIONS = np.where(RNG.random(60) < 0.7, LABELS, (LABELS + 1) % 3)


@pytest.fixture
def panel(qtbot) -> ErrorsPanel:
    rng = np.random.default_rng(1)
    labels, predictions = LABELS, PREDICTIONS
    confidence = rng.uniform(0.4, 1.0, 60).astype(np.float32)
    losses = rng.exponential(1.0, 60).astype(np.float32)
    panel = ErrorsPanel()
    qtbot.addWidget(panel)
    panel.set_test_set(rng.integers(0, 255, (60, 4, 4, 1), dtype=np.uint8), labels, NAMES)
    panel.set_predictions(1, predictions, confidence, losses)
    return panel


def column(table: ClassReportTable, index: int) -> list[float]:
    return [table.proxy.index(r, index).data(Qt.ItemDataRole.UserRole)
            for r in range(table.proxy.rowCount())]


def test_one_row_per_class_and_the_averages_stay_last_when_sorted(panel) -> None:
    table = panel.report
    assert table.rows() == ["0 cat", "1 dog", "2 bird", "macro avg", "weighted avg"]
    for order in (Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder):
        table.sortByColumn(3, order)  # F1
        f1 = column(table, 3)[:3]
        assert f1 == sorted(f1, reverse=order == Qt.SortOrder.DescendingOrder)
        assert table.rows()[3:] == ["macro avg", "weighted avg"]
    assert sum(column(table, 4)[:3]) == 60


def test_clicking_a_class_lists_its_mistakes(panel) -> None:
    table = panel.report
    table.sortByColumn(1, Qt.SortOrder.DescendingOrder)
    row = table.rows().index("1 dog")
    table.clicked.emit(table.proxy.index(row, 2))
    expected = set(np.flatnonzero((LABELS == 1) & (PREDICTIONS != 1)))
    assert set(panel.listed) == expected and expected
    assert panel.list.count() == len(expected)
    assert "dog predicted as another class" in panel.list_title.text()
    table.clicked.emit(table.proxy.index(table.rows().index("macro avg"), 0))
    assert set(panel.listed) == expected  # an average is not a class


def test_the_report_saves_as_csv(panel, tmp_path) -> None:
    path = panel.report.save_csv(tmp_path / "report.csv")
    rows = list(csv.reader(path.open(encoding="utf-8")))
    assert rows[0][:5] == ["class", "precision", "recall", "f1", "support"]
    assert [r[0] for r in rows[1:4]] == list(NAMES)


def test_the_hardest_images_are_listed_by_loss_and_open_on_click(qtbot, panel) -> None:
    hardest = panel.hardest
    losses = hardest.losses()
    assert losses == sorted(losses, reverse=True) and len(losses) == 50
    first = hardest.item(0).data(Qt.ItemDataRole.UserRole)
    with qtbot.waitSignal(panel.imageSelected) as chosen:
        hardest.itemClicked.emit(hardest.item(0))
    assert chosen.args == [first]
