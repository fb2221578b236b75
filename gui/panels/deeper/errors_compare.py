"""Two runs' mistakes side by side: both confusion matrices and what changed between them,
the classes ordered by how much their accuracy moved, and the test images that one run
gets right and the other wrong. A click on such an image inspects it."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QHeaderView, QLabel, QListWidget,
                               QListWidgetItem, QSizePolicy, QSplitter, QStackedWidget,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from cnn_core.inspect.analysis import confusion_from_predictions
from cnn_core.inspect.compare import PredictionComparison, compare_predictions

from ...widgets.panel_parts import empty_note
from ...widgets.thumbnails import ICON, thumbnail
from .class_report import row_label
from .compare_matrix import LabelledMatrix, change_colours, count_colours

COLUMNS = ("class", "A", "B", "change", "images")
TABLE_WIDTH = 320  # pixels the class table keeps at most when squeezed (it scrolls then)
LIST_WIDTH = 200  # the disagreements: three columns of thumbnails at least
DIFF_TIP = ("B − A: how many more (+) or fewer (−) images B puts in each cell than A. "
            "Green where B does better: more images right on the diagonal, fewer mistakes "
            "off it. Red where B does worse. A blank cell: no change.")
GOOD, BAD = QColor("#2e7d32"), QColor("#c62828")


def _cell(text: str, tip: str = "", align_right: bool = True) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setToolTip(tip)
    if align_right:
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return item


def _percent(fraction: float) -> str:
    return "—" if np.isnan(fraction) else f"{fraction:.1%}"


class ErrorsCompareView(QWidget):
    """Runs A and B on the same test images. ``imageSelected(index)`` when a listed test
    image is clicked."""

    imageSelected = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.headline = QLabel(objectName="compareErrorsHeadline", wordWrap=True)
        self.matrix_a = LabelledMatrix("compareConfusionA")
        self.matrix_b = LabelledMatrix("compareConfusionB")
        self.matrix_diff = LabelledMatrix("compareConfusionDiff")
        self.matrix_diff.set_title("B − A", DIFF_TIP)
        matrices = QWidget()
        row = QHBoxLayout(matrices)
        row.setContentsMargins(0, 0, 0, 0)
        for matrix in (self.matrix_a, self.matrix_b, self.matrix_diff):
            row.addWidget(matrix, 1)
        self.matrix_caption = QLabel(
            "Rows: true class; columns: predicted. B − A: green where B does better (more "
            "right on the diagonal, fewer mistakes off it), red where it does worse.",
            wordWrap=True, objectName="compareMatrixCaption")
        self.matrix_caption.setToolTip(DIFF_TIP)
        small = self.matrix_caption.font()
        small.setPointSizeF(small.pointSizeF() - 1)
        self.matrix_caption.setFont(small)
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(matrices, 1)
        top_layout.addWidget(self.matrix_caption)

        self.table = QTableWidget(0, len(COLUMNS), objectName="compareClassTable")
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents)
        self.table.setToolTip("Each class's accuracy in both runs, the largest change first. "
                              "Click a class to list only its images; again for all.")

        self.which = QComboBox(objectName="compareDisagreementsWhich")
        self.which.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.which.setMinimumContentsLength(18)
        self.which.setToolTip("The test images one run gets right and the other wrong.")
        self.list = QListWidget(objectName="compareDisagreementsList")
        self.list.setViewMode(QListWidget.ViewMode.IconMode)
        self.list.setIconSize(QSize(ICON, ICON))
        self.list.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.list.setMovement(QListWidget.Movement.Static)
        self.list.setMinimumWidth(LIST_WIDTH)
        self.list_title = QLabel(wordWrap=True)
        self.list_title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        listed = QWidget()
        listed_layout = QVBoxLayout(listed)
        listed_layout.setContentsMargins(0, 0, 0, 0)
        listed_layout.addWidget(self.which)
        listed_layout.addWidget(self.list_title)
        listed_layout.addWidget(self.list, 1)

        self.bottom = bottom = QSplitter(Qt.Orientation.Horizontal)
        bottom.addWidget(self.table)
        bottom.addWidget(listed)
        bottom.setChildrenCollapsible(False)
        bottom.setStretchFactor(1, 1)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(top)
        self.splitter.addWidget(bottom)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setSizes([600, 400])  # the matrices 3/5 of the height: readable
        content = QWidget()
        content_layout = QVBoxLayout(content)
        content_layout.setContentsMargins(4, 4, 4, 4)
        content_layout.addWidget(self.headline)
        content_layout.addWidget(self.splitter, 1)
        self.note = empty_note("compareErrorsEmpty")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.note)
        self.stack.addWidget(content)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)

        self.comparison: PredictionComparison | None = None
        self.listed: list[int] = []  # test indices in the list, in order
        self.only_class: int | None = None  # the class the list is narrowed to
        self._names = ("A", "B")
        self._class_names: tuple[str, ...] = ()
        self._labels = self._pred_a = self._pred_b = np.zeros(0, np.int64)
        self._images = np.zeros((0, 1, 1, 1), np.uint8)
        self.which.currentIndexChanged.connect(lambda _i: self._fill_list())
        self.table.cellClicked.connect(lambda row, _col: self.narrow_to(
            self.table.item(row, 0).data(Qt.ItemDataRole.UserRole)))
        self.list.itemClicked.connect(
            lambda item: self.imageSelected.emit(int(item.data(Qt.ItemDataRole.UserRole))))
        self.clear("Choose two runs to compare.")

    def clear(self, text: str) -> None:
        """Nothing compared; ``text`` says why."""
        self.comparison, self.listed, self.only_class = None, [], None
        self.list.clear()
        self.table.setRowCount(0)
        for matrix in (self.matrix_a, self.matrix_b, self.matrix_diff):
            matrix.matrix.clear()
        self.note.setText(text)
        self.stack.setCurrentWidget(self.note)

    def show_runs(self, name_a: str, name_b: str, class_names: Sequence[str],
                  labels: np.ndarray, pred_a: np.ndarray, pred_b: np.ndarray,
                  images: np.ndarray) -> None:
        """Compare A's and B's predictions (``pred_a``, ``pred_b``) of the test images
        ``images`` (N, H, W, C) uint8 whose classes are ``labels``."""
        k = len(class_names)
        try:
            comparison = compare_predictions(labels, pred_a, pred_b, k)
        except ValueError as refused:
            self.clear(str(refused))
            return
        self.comparison, self._names = comparison, (name_a, name_b)
        if tuple(class_names) != self._class_names:
            self.only_class = None  # another dataset: its classes are not these
        self._class_names = tuple(class_names)
        self._labels, self._pred_a, self._pred_b = (np.asarray(x, np.int64)
                                                    for x in (labels, pred_a, pred_b))
        self._images = images
        total = max(len(self._labels), 1)
        right_a = int(np.sum(self._pred_a == self._labels))
        right_b = int(np.sum(self._pred_b == self._labels))
        only_a, only_b = len(comparison.only_a_right), len(comparison.only_b_right)
        self.headline.setText(
            f"<b>A</b>: {right_a / total:.1%} · <b>B</b>: {right_b / total:.1%} · "
            f"{only_a:,} image{'' if only_a == 1 else 's'} only A gets right, {only_b:,} only B")
        self.headline.setToolTip(f"A: {name_a}\nB: {name_b}\n"
                                 f"accuracy on the {len(self._labels):,} test images both saw")
        self._fill_matrices()
        self._fill_table()
        self.which.blockSignals(True)
        current = max(self.which.currentIndex(), 0)
        self.which.clear()
        self.which.addItem(f"A right, B wrong ({only_a:,})")
        self.which.addItem(f"B right, A wrong ({only_b:,})")
        self.which.setCurrentIndex(current)
        self.which.blockSignals(False)
        self._fill_list()
        self.stack.setCurrentIndex(1)

    def _fill_matrices(self) -> None:
        k, names = len(self._class_names), self._class_names
        confusion_a = confusion_from_predictions(self._labels, self._pred_a, k)
        confusion_b = confusion_from_predictions(self._labels, self._pred_b, k)
        change = confusion_b.astype(np.int64) - confusion_a.astype(np.int64)

        def describe(run: str, m: np.ndarray):
            return lambda t, p: (f"{run}: true {names[t]}, predicted {names[p]}: "
                                 f"{int(m[t, p]):,} images")

        def describe_change(t: int, p: int) -> str:
            d = int(change[t, p])
            where = "right" if t == p else "wrong"
            verdict = ("no change" if d == 0 else
                       "better" if (d > 0) == (t == p) else "worse")
            return (f"true {names[t]}, predicted {names[p]} ({where}): A {int(confusion_a[t, p])},"
                    f" B {int(confusion_b[t, p])}, B − A {d:+d} ({verdict})")

        for view, run, m in ((self.matrix_a, "A", confusion_a), (self.matrix_b, "B", confusion_b)):
            name = self._names[0 if run == "A" else 1]
            view.set_title(f"{run}: {name}", f"run {run}: {name}")
            view.matrix.set_counts(m, count_colours(m), False, describe(run, m))
        self.matrix_diff.matrix.set_counts(change, change_colours(change), True,
                                           describe_change)
        for view in (self.matrix_a, self.matrix_b, self.matrix_diff):
            view.update()

    def _fill_table(self) -> None:
        c = self.comparison
        order = c.by_change()
        self.table.setRowCount(len(order))
        name_a, name_b = self._names
        tips = ("The true class", f"A's accuracy on the class ({name_a})",
                f"B's accuracy on the class ({name_b})",
                "B's accuracy minus A's, in percentage points", "Test images of the class")
        for column, tip in enumerate(tips):
            self.table.horizontalHeaderItem(column).setToolTip(tip)
        for row, cls in enumerate(order):
            change = float(c.change[cls]) * 100
            label = _cell(row_label(int(cls), self._class_names[cls]), align_right=False)
            label.setData(Qt.ItemDataRole.UserRole, int(cls))
            self.table.setItem(row, 0, label)
            self.table.setItem(row, 1, _cell(_percent(c.accuracy_a[cls])))
            self.table.setItem(row, 2, _cell(_percent(c.accuracy_b[cls])))
            text = ("—" if np.isnan(change) else "0.0" if round(change, 1) == 0 else
                    f"{change:+.1f}".replace("-", "\u2212"))
            item = _cell(text, "percentage points: B's accuracy minus A's")
            if not np.isnan(change) and round(change, 1) != 0:
                item.setForeground(QBrush(GOOD if change > 0 else BAD))
            self.table.setItem(row, 3, item)
            self.table.setItem(row, 4, _cell(f"{int(c.counts[cls]):,}"))
        # the table as wide as its columns (squeezed, it scrolls), the thumbnails the rest
        self.table.resizeColumnsToContents()
        wanted = (self.table.horizontalHeader().length() + 2 * self.table.frameWidth()
                  + self.table.verticalScrollBar().sizeHint().width())
        self.table.setMinimumWidth(min(wanted, TABLE_WIDTH))
        self.table.setMaximumWidth(wanted)

    def rows(self) -> list[list[str]]:
        """The class table as shown, row by row."""
        return [[self.table.item(r, col).text() for col in range(self.table.columnCount())]
                for r in range(self.table.rowCount())]

    def narrow_to(self, cls: int | None) -> None:
        """List only the disagreements on true class ``cls``; the same class again, or
        None, lists every class."""
        self.only_class = None if cls is None or cls == self.only_class else int(cls)
        if self.only_class is None:
            self.table.clearSelection()
        self._fill_list()

    def _fill_list(self) -> None:
        """The chosen disagreements, grouped by class (then in test-set order)."""
        c = self.comparison
        if c is None:
            return
        b_wrong = self.which.currentIndex() != 1
        idx = c.only_a_right if b_wrong else c.only_b_right
        if self.only_class is not None:
            idx = idx[self._labels[idx] == self.only_class]
        idx = idx[np.argsort(self._labels[idx], kind="stable")]
        self.listed = [int(i) for i in idx]
        self.list.clear()
        names = self._class_names
        metrics = self.list.fontMetrics()
        for i in self.listed:
            said_a, said_b = names[self._pred_a[i]], names[self._pred_b[i]]
            wrong = f"B: {said_b}" if b_wrong else f"A: {said_a}"
            item = QListWidgetItem(thumbnail(self._images[i]), metrics.elidedText(
                wrong, Qt.TextElideMode.ElideRight, ICON + 8))
            item.setData(Qt.ItemDataRole.UserRole, i)
            item.setToolTip(f"#{i}: a {names[self._labels[i]]} — A says {said_a}, "
                            f"B says {said_b}")
            self.list.addItem(item)
        which = ("By class" if self.only_class is None else
                 f"Only {names[self.only_class]} ({len(idx):,}; click it again for all)")
        self.list_title.setText(f"Under each, {'B' if b_wrong else 'A'}'s wrong answer. {which}; "
                                "click one to inspect it.")
