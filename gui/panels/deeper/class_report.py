"""Which classes fail: precision, recall, F1 and support of every class, sortable, with the
macro and weighted averages kept below the classes whatever the order."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import (QModelIndex, QPersistentModelIndex, QSize, QSortFilterProxyModel, Qt,
                            Signal)
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

from cnn_core.inspect.class_report import ClassReport, report_csv
from cnn_core.runs.atomic import atomic_write_text

COLUMNS = ("class", "precision", "recall", "F1", "support")
TIPS = ("The true class",
        "Of the images predicted as this class, the share that are this class",
        "Of the images of this class, the share predicted right",
        "The harmonic mean of precision and recall",
        "How many test images are of this class")
CLASS_ROLE = Qt.ItemDataRole.UserRole + 1  # the class index; -1 for an average row


def row_label(index: int, name: str) -> str:
    """A true class as a row says it: its name, after its number when the name is not one."""
    return name if name == str(index) else f"{index} {name}"


class _AveragesLast(QSortFilterProxyModel):
    """Sorts the classes by the clicked column; the average rows stay at the bottom."""

    def lessThan(self, left: QModelIndex | QPersistentModelIndex,  # noqa: N802 - Qt naming
                 right: QModelIndex | QPersistentModelIndex) -> bool:
        source = self.sourceModel()
        left_average = source.index(left.row(), 0).data(CLASS_ROLE) < 0
        right_average = source.index(right.row(), 0).data(CLASS_ROLE) < 0
        if left_average != right_average:
            return right_average == (self.sortOrder() == Qt.SortOrder.AscendingOrder)
        if left_average:  # the two averages keep their order
            return (left.row() < right.row()) == (self.sortOrder() ==
                                                  Qt.SortOrder.AscendingOrder)
        return super().lessThan(left, right)


def _number(value: float, decimals: int = 3) -> QStandardItem:
    item = QStandardItem(f"{value:.{decimals}f}" if decimals else f"{int(value):,}")
    item.setData(float(value), Qt.ItemDataRole.UserRole)  # sorted by value, not text
    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    item.setEditable(False)
    return item


SQUEEZED_WIDTH = 240  # pixels a table keeps when the window is as narrow as a laptop's


class ClassReportTable(QTableView):
    """``classClicked(index)`` when a class's row is clicked (not an average's)."""

    classClicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("classReportTable")
        self._wanted = 0  # the width every column needs
        self.source = QStandardItemModel(0, len(COLUMNS), self)
        self.source.setHorizontalHeaderLabels(list(COLUMNS))
        for column, tip in enumerate(TIPS):
            self.source.horizontalHeaderItem(column).setToolTip(tip)
        self.proxy = _AveragesLast(self)
        self.proxy.setSourceModel(self.source)
        self.proxy.setSortRole(Qt.ItemDataRole.UserRole)
        self.setModel(self.proxy)
        self.setSortingEnabled(True)
        self.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # class order until a click
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.verticalHeader().hide()
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.setToolTip("Click a class to list its mistakes; click a heading to sort.")
        self.report: ClassReport | None = None
        self.class_names: tuple[str, ...] = ()
        self.clicked.connect(self._on_clicked)

    def set_report(self, report: ClassReport, class_names: Sequence[str]) -> None:
        """Show ``report``; the sort order a person chose stays."""
        self.report, self.class_names = report, tuple(class_names)
        self.source.setRowCount(0)
        for index, name in enumerate(class_names):
            self._add_row(name, index, report.precision[index], report.recall[index],
                          report.f1[index], report.support[index])
        total = int(report.support.sum())
        for name, (precision, recall, f1) in (("macro avg", report.macro),
                                              ("weighted avg", report.weighted)):
            self._add_row(name, -1, precision, recall, f1, total)
        # as wide as every column needs, but on a laptop's screen it may be squeezed (and
        # scrolls) rather than push the window past the screen
        self.resizeColumnsToContents()
        self._wanted = (self.horizontalHeader().length() + 2 * self.frameWidth()
                        + self.verticalScrollBar().sizeHint().width())
        self.setMinimumWidth(min(self._wanted, SQUEEZED_WIDTH))
        self.updateGeometry()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt naming
        hint = super().sizeHint()
        return QSize(max(hint.width(), self._wanted), hint.height())

    def _add_row(self, name: str, index: int, precision: float, recall: float, f1: float,
                 support: int) -> None:
        label = QStandardItem(name if index < 0 else row_label(index, name))
        label.setData(index, CLASS_ROLE)
        label.setData(index, Qt.ItemDataRole.UserRole)
        label.setEditable(False)
        if index < 0:
            font = label.font()
            font.setItalic(True)
            label.setFont(font)
        self.source.appendRow([label, _number(precision), _number(recall), _number(f1),
                               _number(support, 0)])

    def rows(self) -> list[str]:
        """The first column as shown, top to bottom."""
        return [self.proxy.index(r, 0).data() for r in range(self.proxy.rowCount())]

    def _on_clicked(self, index: QModelIndex) -> None:
        cls = self.proxy.index(index.row(), 0).data(CLASS_ROLE)
        if cls is not None and cls >= 0:
            self.classClicked.emit(int(cls))

    def save_csv(self, path: str | Path) -> Path:
        """The report as CSV (classes in index order, then the averages)."""
        if self.report is None:
            raise ValueError("there is no class report yet: it appears after the first epoch")
        atomic_write_text(path, report_csv(self.report, self.class_names))
        return Path(path)
