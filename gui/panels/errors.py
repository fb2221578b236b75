"""Where the network goes wrong: the confusion matrix on the test set after each epoch.
A click on a cell lists its images, the most confident first (so the worst mistakes,
confidently wrong, lead); a click on an image inspects it."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QIcon, QImage, QPixmap
from PySide6.QtWidgets import (QAbstractScrollArea, QHBoxLayout, QHeaderView, QLabel,
                               QListWidget, QListWidgetItem, QSplitter, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from cnn_core.inspect.analysis import confusion_from_predictions

THUMB = 56
LIST_WIDTH = 150  # the list of a cell's images: two columns of thumbnails
DETAIL_SHARE = 10_000  # splitter size for the detail: all the room the others leave


def row_label(index: int, name: str) -> str:
    """A true class as a row says it: its name, after its number when the name is not one."""
    return name if name == str(index) else f"{index} {name}"


def thumbnail(image: np.ndarray) -> QIcon:
    """(H, W, C) uint8 -> an icon, scaled up without blurring."""
    h, w, c = image.shape
    data = np.ascontiguousarray(image[..., 0] if c == 1 else image)
    fmt = QImage.Format.Format_Grayscale8 if c == 1 else QImage.Format.Format_RGB888
    qimage = QImage(data.data, w, h, data.strides[0], fmt).copy()
    return QIcon(QPixmap.fromImage(qimage).scaled(THUMB, THUMB))


class ErrorsPanel(QWidget):
    """``imageSelected(index)`` when a listed test image is clicked."""

    imageSelected = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = QTableWidget(objectName="confusionMatrixView")
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        # Columns as wide as their numbers (the matrix is never squeezed into "1..." nor
        # scrolled sideways); rows share the height, down to a line of text each.
        self.table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setMinimumSectionSize(self.fontMetrics().height() + 4)
        self.table.setSizeAdjustPolicy(QAbstractScrollArea.SizeAdjustPolicy.AdjustToContents)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.setToolTip("Rows: true class. Columns: predicted class. Click a cell to "
                              "list its images.")
        self.title = QLabel("The confusion matrix appears after the first epoch.", wordWrap=True)
        self.list = QListWidget(objectName="misclassifiedList")
        self.list.setViewMode(QListWidget.ViewMode.IconMode)
        self.list.setIconSize(QSize(THUMB, THUMB))
        self.list.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.list.setMinimumWidth(LIST_WIDTH)
        self.list_title = QLabel("Click a cell of the matrix.", wordWrap=True)
        self.detail = QWidget()  # filled by the window: saliency and feature maps
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.addWidget(self.title)
        left_layout.addWidget(self.table, 1)
        middle = QWidget()
        middle_layout = QVBoxLayout(middle)
        middle_layout.addWidget(self.list_title)
        middle_layout.addWidget(self.list, 1)
        self.splitter = QSplitter()
        self.splitter.addWidget(left)
        self.splitter.addWidget(middle)
        self.splitter.addWidget(self.detail)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setStretchFactor(2, 1)
        # the matrix and the list as narrow as they can be, the detail takes the rest
        self.splitter.setSizes([1, LIST_WIDTH, DETAIL_SHARE])
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.splitter)

        self.matrix: np.ndarray | None = None
        self.listed: list[int] = []  # test indices in the list, in order
        self._images = np.zeros((0, 1, 1, 1), np.uint8)
        self._labels = np.zeros(0, np.int64)
        self._predictions = np.zeros(0, np.int64)
        self._confidence = np.zeros(0, np.float32)
        self._class_names: tuple[str, ...] = ()
        self._cell: tuple[int, int] | None = None
        self.table.cellClicked.connect(self.show_cell)
        self.list.itemClicked.connect(
            lambda item: self.imageSelected.emit(int(item.data(Qt.ItemDataRole.UserRole))))

    def set_test_set(self, images: np.ndarray, labels: np.ndarray,
                     class_names: tuple[str, ...]) -> None:
        self._images, self._labels, self._class_names = images, labels, class_names
        self.matrix, self._cell = None, None
        self.table.clear()
        self.table.setRowCount(0)
        self.list.clear()
        self.listed = []
        self.title.setText("The confusion matrix appears after the first epoch.")

    def set_predictions(self, epoch: int, predictions: np.ndarray,
                        confidence: np.ndarray) -> None:
        self._predictions, self._confidence = predictions, confidence
        k = len(self._class_names)
        self.matrix = m = confusion_from_predictions(self._labels, predictions, k)
        self.table.setRowCount(k)
        self.table.setColumnCount(k + 1)
        self.table.setHorizontalHeaderLabels([str(p) for p in range(k)] + ["acc."])
        self.table.setVerticalHeaderLabels([row_label(t, n)
                                            for t, n in enumerate(self._class_names)])
        for p, name in enumerate(self._class_names):
            self.table.horizontalHeaderItem(p).setToolTip(f"predicted {name}")
        self.table.horizontalHeaderItem(k).setToolTip("accuracy on this true class")
        for t in range(k):
            row_total = max(int(m[t].sum()), 1)
            for p in range(k):
                item = QTableWidgetItem(str(int(m[t, p])))
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                share = m[t, p] / row_total
                colour = (QColor.fromRgbF(0.26, 0.63, 0.28, 0.15 + 0.7 * share) if t == p else
                          QColor.fromRgbF(0.9, 0.22, 0.21, min(1.0, 4 * share)) if m[t, p] else
                          QColor(0, 0, 0, 0))
                item.setBackground(QBrush(colour))
                item.setToolTip(f"true {self._class_names[t]}, predicted "
                                f"{self._class_names[p]}: {int(m[t, p])} images")
                self.table.setItem(t, p, item)
            acc = QTableWidgetItem(f"{m[t, t] / row_total:.0%}")
            acc.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
            self.table.setItem(t, k, acc)
        self._fit_table()
        total = int(m.sum())
        self.title.setText(f"Epoch {epoch}: {int(np.trace(m)):,} of {total:,} test images right "
                           f"({np.trace(m) / max(total, 1):.2%}). Rows: true class; columns: "
                           "predicted.")
        if self._cell is not None:
            self.show_cell(*self._cell)

    def _fit_table(self) -> None:
        """Keep the matrix pane as wide as every column needs (a splitter would squeeze it)."""
        self.table.resizeColumnsToContents()
        width = (self.table.verticalHeader().sizeHint().width()
                 + self.table.horizontalHeader().length() + 2 * self.table.frameWidth())
        self.table.setMinimumWidth(width)

    def show_cell(self, true_class: int, predicted: int) -> None:
        """List the test images of one cell, the most confident first."""
        k = len(self._class_names)
        if self.matrix is None or predicted >= k:
            return
        self._cell = (true_class, predicted)
        idx = np.flatnonzero((self._labels == true_class) & (self._predictions == predicted))
        idx = idx[np.argsort(-self._confidence[idx], kind="stable")]
        self.listed = [int(i) for i in idx]
        self.list.clear()
        for i in self.listed:
            item = QListWidgetItem(thumbnail(self._images[i]), f"{self._confidence[i]:.0%}")
            item.setData(Qt.ItemDataRole.UserRole, i)
            item.setToolTip(f"test image #{i}: true {self._class_names[true_class]}, "
                            f"predicted {self._class_names[predicted]} with "
                            f"{self._confidence[i]:.1%}")
            self.list.addItem(item)
        what = "right" if true_class == predicted else "wrong"
        self.list_title.setText(
            f"{len(idx)} image{'' if len(idx) == 1 else 's'} of {self._class_names[true_class]} "
            "predicted as "
            f"{self._class_names[predicted]} ({what}), most confident first. Click one.")
