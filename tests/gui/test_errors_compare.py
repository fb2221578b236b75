"""Two runs' mistakes compared: both confusion matrices and B − A, the classes by the
largest change, and the images only one run gets right, each way; on a laptop's screen."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLabel, QListWidget, QTableWidget

from gui.panels.deeper.compare_matrix import CountMatrix
from gui.panels.deeper.errors_compare import ErrorsCompareView

NAMES = ("cat", "dog", "owl")
LABELS = np.array([0, 0, 0, 0, 1, 1, 1, 1, 2, 2])
PRED_A = np.array([0, 0, 0, 1, 1, 1, 0, 0, 2, 2])  # cat 3/4, dog 2/4, owl 2/2
PRED_B = np.array([0, 1, 1, 1, 1, 1, 1, 1, 2, 1])  # cat 1/4, dog 4/4, owl 1/2
# only A right: images 1, 2 (cats B calls dogs) and 9 (an owl B calls a dog)
# only B right: images 6, 7 (dogs A calls cats)


@pytest.fixture
def view(qtbot) -> ErrorsCompareView:
    view = ErrorsCompareView()
    qtbot.addWidget(view)
    view.resize(900, 550)
    images = np.arange(10 * 4 * 4, dtype=np.uint8).reshape(10, 4, 4, 1)
    view.show_runs("run-5x5", "run-3x3", NAMES, LABELS, PRED_A, PRED_B, images)
    return view


def child(view: ErrorsCompareView, cls: type, name: str):
    widget = view.findChild(cls, name)
    assert widget is not None, f"no {cls.__name__} named {name}"
    return widget


def listed(view: ErrorsCompareView) -> list[tuple[int, str]]:
    items = child(view, QListWidget, "compareDisagreementsList")
    return [(items.item(r).data(Qt.ItemDataRole.UserRole), items.item(r).toolTip())
            for r in range(items.count())]


def test_both_matrices_and_their_difference(view) -> None:
    a = child(view, CountMatrix, "compareConfusionA")
    b = child(view, CountMatrix, "compareConfusionB")
    diff = child(view, CountMatrix, "compareConfusionDiff")
    np.testing.assert_array_equal(a.values, [[3, 1, 0], [2, 2, 0], [0, 0, 2]])
    np.testing.assert_array_equal(b.values, [[1, 3, 0], [0, 4, 0], [0, 1, 1]])
    np.testing.assert_array_equal(diff.values, [[-2, 2, 0], [-2, 2, 0], [0, 1, -1]])
    assert diff.texts()[0] == ["\u22122", "+2", ""]  # signed, a blank for no change
    assert a.texts()[2] == ["", "", "2"]
    caption = child(view, QLabel, "compareMatrixCaption").text()
    assert "green where B does better (more right on the diagonal" in caption


def test_the_change_colours_say_better_or_worse(view) -> None:
    diff = child(view, CountMatrix, "compareConfusionDiff")
    text = diff.describe_cell(1, 1)
    assert text.endswith("A 2, B 4, B − A +2 (better)")
    assert diff.describe_cell(0, 1).endswith("(worse)")  # more cats called dogs
    assert diff.describe_cell(1, 0).endswith("(better)")  # fewer dogs called cats
    assert diff.describe_cell(0, 2).endswith("(no change)")


def test_the_class_table_by_largest_change(view) -> None:
    table = child(view, QTableWidget, "compareClassTable")
    headers = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    assert headers == ["class", "A", "B", "change", "images"]
    assert "run-5x5" in table.horizontalHeaderItem(1).toolTip()
    assert view.rows() == [["0 cat", "75.0%", "25.0%", "\u221250.0", "4"],
                           ["1 dog", "50.0%", "100.0%", "+50.0", "4"],
                           ["2 owl", "100.0%", "50.0%", "\u221250.0", "2"]]


def test_a_class_without_images_shows_dashes_and_comes_last(qtbot) -> None:
    view = ErrorsCompareView()
    qtbot.addWidget(view)
    labels, pred = np.array([0, 0, 1]), np.array([0, 1, 1])
    view.show_runs("a", "b", ("x", "y", "z"), labels, pred, labels,
                   np.zeros((3, 2, 2, 1), np.uint8))
    assert view.rows()[0][:4] == ["0 x", "50.0%", "100.0%", "+50.0"]
    assert view.rows()[1][3] == "0.0"
    assert view.rows()[2] == ["2 z", "—", "—", "—", "0"]


def test_the_disagreements_both_ways(view) -> None:
    which = child(view, QComboBox, "compareDisagreementsWhich")
    assert [which.itemText(i) for i in range(which.count())] == [
        "A right, B wrong (3)", "B right, A wrong (2)"]
    assert listed(view) == [(1, "#1: a cat — A says cat, B says dog"),
                            (2, "#2: a cat — A says cat, B says dog"),
                            (9, "#9: a owl — A says owl, B says dog")]
    items = child(view, QListWidget, "compareDisagreementsList")
    assert items.item(0).text() == "B: dog"  # the wrong answer under the picture
    which.setCurrentIndex(1)
    assert listed(view) == [(6, "#6: a dog — A says cat, B says dog"),
                            (7, "#7: a dog — A says cat, B says dog")]
    assert items.item(0).text() == "A: cat"


def test_a_class_clicked_narrows_the_list_to_it(qtbot, view) -> None:
    view.show()
    qtbot.waitExposed(view)
    table = child(view, QTableWidget, "compareClassTable")

    def click(row: int) -> None:
        where = table.visualItemRect(table.item(row, 0)).center()
        qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=where)

    click(0)  # cat
    assert [i for i, _ in listed(view)] == [1, 2]
    child(view, QComboBox, "compareDisagreementsWhich").setCurrentIndex(1)
    assert listed(view) == []  # B gets no cat right that A gets wrong
    click(1)  # dog
    assert [i for i, _ in listed(view)] == [6, 7]
    click(1)  # dog again: every class
    assert [i for i, _ in listed(view)] == [6, 7] and view.only_class is None
    child(view, QComboBox, "compareDisagreementsWhich").setCurrentIndex(0)
    assert [i for i, _ in listed(view)] == [1, 2, 9]


def test_the_headline_counts_both_runs(view) -> None:
    headline = child(view, QLabel, "compareErrorsHeadline")
    assert headline.text() == ("<b>A</b>: 70.0% · <b>B</b>: 60.0% · 3 images only A gets "
                               "right, 2 only B")
    assert "run-3x3" in headline.toolTip()


def test_a_click_on_an_image_selects_it(qtbot, view) -> None:
    view.show()
    qtbot.waitExposed(view)
    which = child(view, QComboBox, "compareDisagreementsWhich")
    which.setCurrentIndex(1)
    items = child(view, QListWidget, "compareDisagreementsList")
    where = items.visualItemRect(items.item(1)).center()
    with qtbot.waitSignal(view.imageSelected) as chosen:
        qtbot.mouseClick(items.viewport(), Qt.MouseButton.LeftButton, pos=where)
    assert chosen.args == [7]


def test_clear_and_runs_tested_on_different_images_say_why(qtbot, view) -> None:
    view.show()
    note = child(view, QLabel, "compareErrorsEmpty")
    view.clear("the two runs were tested on different images")
    assert note.isVisible() and note.text() == "the two runs were tested on different images"
    assert not child(view, QTableWidget, "compareClassTable").isVisible()
    assert child(view, QListWidget, "compareDisagreementsList").count() == 0
    view.show_runs("a", "b", NAMES, LABELS, PRED_A, PRED_B[:5],
                   np.zeros((10, 2, 2, 1), np.uint8))
    assert note.isVisible() and "not tested on the same images" in note.text()
    view.show_runs("a", "b", NAMES, LABELS, PRED_A, PRED_B, np.zeros((10, 2, 2, 1), np.uint8))
    assert not note.isVisible() and child(view, QTableWidget, "compareClassTable").isVisible()


def test_ten_classes_fit_a_laptop_window_and_stay_readable(qtbot) -> None:
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(10), 100)
    pred_a = np.where(rng.random(1000) < 0.9, labels, rng.integers(0, 10, 1000))
    pred_b = np.where(rng.random(1000) < 0.95, labels, rng.integers(0, 10, 1000))
    view = ErrorsCompareView()
    qtbot.addWidget(view)
    view.show_runs("lenet5-with-a-long-name-" * 3, "another-long-run-name-" * 3,
                   [f"class number {i}" for i in range(10)], labels, pred_a, pred_b,
                   np.zeros((1000, 28, 28, 1), np.uint8))
    assert view.minimumSizeHint().width() <= 850
    assert view.minimumSizeHint().height() <= 550
    view.resize(900, 550)  # the tab's inside in a 1280x800 window
    view.show()
    qtbot.waitExposed(view)
    for name in ("compareConfusionA", "compareConfusionB", "compareConfusionDiff"):
        matrix = child(view, CountMatrix, name)
        assert matrix.side() >= 22, name  # room for "100" in a legible font
    assert view.width() == 900
