"""Where the network goes wrong, after each epoch: the confusion matrix on the test set and
the per-class report beside it, and the hardest images.

A click on a cell (or on a class of the report) lists its images, the most confident
first, so the worst mistakes, confidently wrong, lead; a click on an image inspects it.
The panel follows the run itself and fills the matrix only while it is shown."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (QAbstractScrollArea, QFileDialog, QHBoxLayout, QHeaderView,
                               QLabel, QListWidget, QListWidgetItem, QMessageBox, QPushButton,
                               QSplitter, QTableWidget, QTableWidgetItem, QTabWidget,
                               QVBoxLayout, QWidget)

from cnn_core.export.exporters import ExportError, outside_runs
from cnn_core.inspect.analysis import confusion_from_predictions
from cnn_core.inspect.class_report import class_report

from ...session.run_session import RunSession
from ...training.messages import EpochDetails, RunInfo
from ...widgets.thumbnails import ICON, thumbnail
from ...widgets.when_shown import WhenShown
from .class_report import ClassReportTable, row_label
from .top_losses import TopLossesList

LIST_WIDTH = 150  # the list of a cell's images: two columns of thumbnails
DETAIL_SHARE = 10_000  # splitter size for the detail: all the room the others leave


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
        self.list.setIconSize(QSize(ICON, ICON))
        self.list.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.list.setMinimumWidth(LIST_WIDTH)
        self.list_title = QLabel("Click a cell of the matrix, or a class in Per class.",
                                 wordWrap=True)
        self.detail = QWidget()  # filled by the window: saliency and feature maps
        self.report = ClassReportTable()
        self.csv_button = QPushButton("Export CSV…", objectName="classReportCsv")
        self.csv_button.setToolTip("Save the class report as a CSV file")
        self.csv_button.clicked.connect(self._export_csv)
        self.hardest = TopLossesList()
        matrix_page = QWidget()
        matrix_layout = QVBoxLayout(matrix_page)
        matrix_layout.addWidget(self.title)
        matrix_layout.addWidget(self.table, 1)
        report_page = QWidget()
        report_layout = QVBoxLayout(report_page)
        report_layout.addWidget(self.report, 1)
        report_layout.addWidget(self.csv_button, 0, Qt.AlignmentFlag.AlignRight)
        # the matrix and the report read the same predictions: one place, two pages
        self.left_tabs = QTabWidget(objectName="errorsLeftTabs", documentMode=True)
        self.left_tabs.addTab(matrix_page, "Confusion matrix")
        self.left_tabs.addTab(report_page, "Per class")
        listed_page = QWidget()
        listed_layout = QVBoxLayout(listed_page)
        listed_layout.addWidget(self.list_title)
        listed_layout.addWidget(self.list, 1)
        self.list_tabs = QTabWidget(objectName="errorsListTabs", documentMode=True)
        self.list_tabs.addTab(listed_page, "Picked")
        self.list_tabs.addTab(self.hardest, "Hardest")
        self.list_tabs.setTabToolTip(1, "The test images of highest loss, hardest first")
        self.splitter = QSplitter()
        self.splitter.addWidget(self.left_tabs)
        self.splitter.addWidget(self.list_tabs)
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
        self._picked: tuple[int, int | None] | None = None  # a cell, or (class, None)
        self._details: EpochDetails | None = None  # the latest epoch's, from the session
        self._shown_epoch = -1  # the epoch the matrix shows
        self.table.cellClicked.connect(self.show_cell)
        self.list.itemClicked.connect(
            lambda item: self.imageSelected.emit(int(item.data(Qt.ItemDataRole.UserRole))))
        self.hardest.imageSelected.connect(self.imageSelected)
        self.report.classClicked.connect(self.show_class)

    def follow(self, session: RunSession) -> None:
        """Take each run's test set, and each epoch's predictions when shown."""
        self._details_due = WhenShown(self, self._show_details)
        session.runStarted.connect(self._on_run_started)
        session.epochDetails.connect(self._on_details)

    def _on_run_started(self, info: RunInfo) -> None:
        self._details, self._shown_epoch = None, -1
        self.set_test_set(info.test_images, info.test_labels, info.dataset.class_names)

    def _on_details(self, details: EpochDetails) -> None:
        self._details = details
        self._details_due.due()

    def _show_details(self) -> None:
        details = self._details
        if details is not None and details.epoch != self._shown_epoch:
            self._shown_epoch = details.epoch
            self.set_predictions(details.epoch, details.predictions, details.confidence,
                                 details.losses)

    def set_test_set(self, images: np.ndarray, labels: np.ndarray,
                     class_names: tuple[str, ...]) -> None:
        self._images, self._labels, self._class_names = images, labels, class_names
        self.matrix, self._picked = None, None
        self.table.clear()
        self.table.setRowCount(0)
        self.list.clear()
        self.hardest.clear()
        self.report.source.setRowCount(0)
        self.listed = []
        self.title.setText("The confusion matrix appears after the first epoch.")

    def set_predictions(self, epoch: int, predictions: np.ndarray, confidence: np.ndarray,
                        losses: np.ndarray) -> None:
        self._predictions, self._confidence = predictions, confidence
        k = len(self._class_names)
        self.matrix = m = confusion_from_predictions(self._labels, predictions, k)
        header = self.table.horizontalHeader()
        # sized once when filled, not after each of the k*k items (most of an epoch's cost)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
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
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self._fit_table()
        total = int(m.sum())
        self.title.setText(f"Epoch {epoch}: {int(np.trace(m)):,} of {total:,} test images right "
                           f"({np.trace(m) / max(total, 1):.2%}). Rows: true class; columns: "
                           "predicted.")
        self.report.set_report(class_report(self._labels, predictions, k), self._class_names)
        self.hardest.set_losses(self._images, self._labels, predictions, confidence, losses,
                                self._class_names)
        if self._picked is not None:
            true_class, predicted = self._picked
            if predicted is None:
                self.show_class(true_class)
            else:
                self.show_cell(true_class, predicted)

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
        self._picked = (true_class, predicted)
        names = self._class_names
        what = "right" if true_class == predicted else "wrong"
        self._list((self._labels == true_class) & (self._predictions == predicted),
                   f"of {names[true_class]} predicted as {names[predicted]} ({what})")

    def show_class(self, true_class: int) -> None:
        """List the mistakes on one true class, the most confident first."""
        if self.matrix is None:
            return
        self._picked = (true_class, None)
        self._list((self._labels == true_class) & (self._predictions != true_class),
                   f"of {self._class_names[true_class]} predicted as another class")

    def _list(self, chosen: np.ndarray, what: str) -> None:
        idx = np.flatnonzero(chosen)
        idx = idx[np.argsort(-self._confidence[idx], kind="stable")]
        self.listed = [int(i) for i in idx]
        self.list.clear()
        names = self._class_names
        for i in self.listed:
            item = QListWidgetItem(thumbnail(self._images[i]), f"{self._confidence[i]:.0%}")
            item.setData(Qt.ItemDataRole.UserRole, i)
            item.setToolTip(f"test image #{i}: true {names[self._labels[i]]}, predicted "
                            f"{names[self._predictions[i]]} with {self._confidence[i]:.1%}")
            self.list.addItem(item)
        self.list_title.setText(f"{len(idx)} image{'' if len(idx) == 1 else 's'} {what}, most "
                                "confident first. Click one.")
        self.list_tabs.setCurrentIndex(0)

    def _export_csv(self) -> None:
        if self.report.report is None:
            QMessageBox.information(self, "No class report yet",
                                    "The class report appears after the first epoch.")
            return
        path, _ = QFileDialog.getSaveFileName(self, "Export the class report",
                                              str(Path.home() / "class-report.csv"),
                                              "CSV files (*.csv)")
        if path:
            try:
                self.report.save_csv(outside_runs(path))
            except ExportError as refused:
                QMessageBox.warning(self, "Could not save the class report", str(refused))
            except OSError as exc:
                QMessageBox.warning(self, "Could not save the class report",
                                    f"{path}: {exc.strerror or exc}")
