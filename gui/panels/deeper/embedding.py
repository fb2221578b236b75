"""Where the images land: the test images' activations at a hidden layer, projected to
2-D (PCA every epoch, t-SNE on request), one colour per true class. Classes whose clouds
separate are classes the layer already tells apart; a mistake often sits in another cloud."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from pyqtgraph.graphicsItems.ScatterPlotItem import renderSymbol
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QPixmap
from PySide6.QtWidgets import (QComboBox, QGridLayout, QHBoxLayout, QLabel, QProgressBar,
                               QPushButton, QSizePolicy, QVBoxLayout, QWidget)

from ...widgets.panel_parts import empty_note, white_box
from ...widgets.thumbnails import to_qimage

# matplotlib's tab10 and tab20: colours people learn to tell apart at a glance
TAB10 = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
         "#7f7f7f", "#bcbd22", "#17becf")
TAB20 = ("#1f77b4", "#aec7e8", "#ff7f0e", "#ffbb78", "#2ca02c", "#98df8a", "#d62728",
         "#ff9896", "#9467bd", "#c5b0d5", "#8c564b", "#c49c94", "#e377c2", "#f7b6d2",
         "#7f7f7f", "#c7c7c7", "#bcbd22", "#dbdb8d", "#17becf", "#9edae5")
SIDE_WIDTH = 150  # the legend and the hovered image, right of the plot
PREVIEW = 96
LISTED = 20  # more classes than this: the legend says how many instead of listing them
DOT, CROSS = 6, 10  # px: a right prediction's dot; a wrong one's cross (thin, so larger)
AXES = {"pca": ("component 1", "component 2"), "tsne": ("t-SNE 1", "t-SNE 2")}
WAITING = "The embedding appears after the first epoch."
HINT = "Hover a point to see its image; click it to inspect it."


def class_colours(count: int) -> list[QColor]:
    """Categorical colours as far apart as ``count`` allows: tab10, tab20, then evenly
    spaced hues, alternately darker so that neighbouring hues still differ."""
    if count <= len(TAB20):
        return [QColor(c) for c in (TAB10 if count <= len(TAB10) else TAB20)[:count]]
    return [QColor.fromHsvF(i / count, 0.85, 0.95 if i % 2 else 0.65) for i in range(count)]


def swatch(symbol: str, pen: object, brush: object) -> QLabel:
    """A legend's sample: the very symbol the plot draws."""
    image = renderSymbol(symbol, CROSS, pen, brush)
    label = QLabel()
    label.setPixmap(QPixmap.fromImage(image))
    label.setFixedWidth(image.width() + 2)
    return label


class EmbeddingPanel(QWidget):
    """A scatter of the test set at a hidden layer. ``imageChosen(index)`` on a click;
    ``layerChanged(name or None)``, ``methodChanged("pca" or "tsne")``, ``tsneRequested``
    and ``cancelRequested`` ask the window for new coordinates (it computes them)."""

    imageChosen = Signal(int)
    layerChanged = Signal(object)
    methodChanged = Signal(str)
    tsneRequested = Signal()
    cancelRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.layer_combo = QComboBox(objectName="embeddingLayerCombo")
        self.layer_combo.addItem("last hidden layer", None)
        self.layer_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.layer_combo.setToolTip("The layer whose activations place the images.")
        self.method_combo = QComboBox(objectName="embeddingMethodCombo")
        self.method_combo.addItem("PCA — follows training", "pca")
        self.method_combo.addItem("t-SNE — on request", "tsne")
        self.method_combo.setToolTip(
            "PCA: the two directions the activations vary most along; cheap, redone every "
            "epoch. t-SNE: keeps neighbours together, so clusters show better; takes "
            "seconds, computed when asked.")
        self.tsne_button = QPushButton("Compute t-SNE", objectName="tsneButton")
        self.progress = QProgressBar(objectName="embeddingProgress")
        self.progress.setRange(0, 0)  # indeterminate: t-SNE reports no progress
        self.progress.setFixedWidth(90)
        self.progress_text = QLabel(objectName="embeddingProgressText")
        # the room the bar leaves, clipped rather than widening the panel
        self.progress_text.setSizePolicy(QSizePolicy.Policy.Ignored,
                                         QSizePolicy.Policy.Preferred)
        self.cancel_button = QPushButton("Cancel", objectName="embeddingCancel")
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Layer"))
        bar.addWidget(self.layer_combo)
        bar.addWidget(QLabel("Method"))
        bar.addWidget(self.method_combo)
        bar.addWidget(self.tsne_button)
        bar.addWidget(self.progress)
        bar.addWidget(self.cancel_button)
        bar.addWidget(self.progress_text, 1)
        bar.addStretch(0)  # takes the room instead when the text is hidden
        self.caption = QLabel(objectName="embeddingCaption", wordWrap=True)

        self.plot = pg.PlotWidget()
        self.plot.setObjectName("embeddingPlot")
        self.plot.setBackground("w")
        self.scatter = pg.ScatterPlotItem(hoverable=True, tip=None,
                                          hoverPen=pg.mkPen("#000", width=2))
        self.plot.addItem(self.scatter)
        self.note = empty_note("embeddingEmpty")
        self.legend = QWidget(objectName="embeddingLegend")
        self.legend_grid = QGridLayout(self.legend)
        self.legend_grid.setContentsMargins(0, 0, 0, 0)
        self.legend_grid.setHorizontalSpacing(2)
        self.legend_grid.setVerticalSpacing(0)
        self.hover = QWidget(objectName="embeddingHover")
        self.hover_image = QLabel(objectName="embeddingHoverImage",
                                  alignment=Qt.AlignmentFlag.AlignCenter)
        self.hover_image.setFixedSize(PREVIEW, PREVIEW)
        self.hover_caption = QLabel(HINT, objectName="embeddingHoverCaption", wordWrap=True)
        hover_layout = QVBoxLayout(self.hover)
        hover_layout.setContentsMargins(0, 0, 0, 0)
        hover_layout.addWidget(self.hover_image, 0, Qt.AlignmentFlag.AlignHCenter)
        hover_layout.addWidget(self.hover_caption)
        self.side = side = QWidget()
        side.setFixedWidth(SIDE_WIDTH)
        small = side.font()
        small.setPointSizeF(small.pointSizeF() - 1)  # the legend and the preview's caption
        side.setFont(small)
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 4, 4, 4)
        side_layout.addWidget(self.legend)
        side_layout.addStretch(1)
        side_layout.addWidget(self.hover)
        canvas = white_box()
        body = QHBoxLayout(canvas)
        body.setContentsMargins(0, 0, 0, 0)
        body.addWidget(self.plot, 1)
        body.addWidget(self.note, 1)
        body.addWidget(side)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(self.caption)
        layout.addWidget(canvas, 1)

        self._images = np.zeros((0, 1, 1, 1), np.uint8)
        self._labels = np.zeros(0, np.int64)
        self._predicted = np.zeros(0, np.int64)  # per test image; -1: not shown
        self._class_names: tuple[str, ...] = ()
        self._brushes = np.zeros(0, object)  # per class, reused: the symbol cache keys on them
        self._pens = np.array([pg.mkPen(255, 255, 255, 200, width=0.8),  # dots apart
                               pg.mkPen("#222", width=1)], object)  # crosses stand out
        self._wrong_entry: list[QWidget] = []
        self._view_key: tuple | None = None  # (points, method, layer) the view was fitted to
        self._axes = ""
        self._busy = False
        self._previewed: int | None = None  # the test image beside the plot
        self.layer_combo.currentIndexChanged.connect(
            lambda _i: self.layerChanged.emit(self.layer))
        self.method_combo.currentIndexChanged.connect(self._on_method_changed)
        self.tsne_button.clicked.connect(self.tsneRequested)
        self.cancel_button.clicked.connect(self.cancelRequested)
        self.scatter.sigHovered.connect(self._on_hovered)
        self.scatter.sigClicked.connect(
            lambda _item, points, _ev: self.imageChosen.emit(int(points[0].data())))
        self.set_busy(False)
        self.clear(WAITING)

    @property
    def method(self) -> str:
        return self.method_combo.currentData()

    @property
    def layer(self) -> str | None:
        return self.layer_combo.currentData()

    def set_test_set(self, images: np.ndarray, labels: np.ndarray,
                     class_names: Sequence[str]) -> None:
        """``images`` (N, H, W, C) uint8, ``labels`` (N,): what a point's index refers to."""
        self._images, self._labels = images, labels
        self._class_names = tuple(class_names)
        self._predicted = np.full(len(labels), -1, np.int64)
        self._brushes = np.array([pg.mkBrush(c) for c in class_colours(len(class_names))],
                                 object)
        self._fill_legend()
        self.clear(WAITING)

    def set_layers(self, names: Sequence[str]) -> None:
        """Offer the network's layers, keeping the chosen one if it is still there (silently:
        the window asked for this, it needs no signal back)."""
        current = self.layer
        self.layer_combo.blockSignals(True)
        self.layer_combo.clear()
        self.layer_combo.addItem("last hidden layer", None)
        for name in names:
            self.layer_combo.addItem(name, name)
        self.layer_combo.setCurrentIndex(list(names).index(current) + 1
                                         if current in names else 0)
        self.layer_combo.blockSignals(False)

    def set_busy(self, busy: bool, text: str = "") -> None:
        """While a t-SNE runs (elsewhere): a busy bar, its text and a way to stop it, in
        place of the button that started it."""
        self.progress_text.setText(text)
        self.progress_text.setToolTip(text)
        for widget in (self.progress, self.progress_text, self.cancel_button):
            widget.setVisible(busy)
        self._busy = busy
        self._show_tsne_button()

    def clear(self, text: str) -> None:
        """No points; ``text`` says why."""
        self.scatter.setData(x=[], y=[])
        self.note.setText(text)
        self.plot.hide()
        self.side.hide()
        self.note.show()
        self.caption.hide()
        self._view_key = None
        self._show_hint()

    def show_embedding(self, coords: np.ndarray, indices: np.ndarray,
                       predictions: np.ndarray | None, caption: str) -> None:
        """``coords`` (M, 2), a row per test image ``indices[row]``; ``predictions`` (M,)
        or None. Cheap enough for every epoch and every step of the time-lapse: one
        item, one setData, and the user's zoom kept while the same points are shown."""
        labels = self._labels[indices]
        wrong = (np.zeros(len(indices), bool) if predictions is None
                 else np.asarray(predictions) != labels)
        self._predicted[:] = -1
        if predictions is not None:
            self._predicted[indices] = predictions
        # a fixed shuffle, so that no class always paints over the others (test sets often
        # come sorted by class), then the mistakes last, on top where they show
        order = np.random.default_rng(0).permutation(len(indices))
        order = order[np.argsort(wrong[order], kind="stable")]
        bad = wrong[order].astype(np.intp)
        self.scatter.setData(x=coords[order, 0], y=coords[order, 1], data=indices[order],
                             brush=self._brushes[labels[order]], pen=self._pens[bad],
                             symbol=np.array(["o", "x"])[bad],
                             size=np.array([DOT, CROSS], float)[bad])
        for widget in self._wrong_entry:
            widget.setVisible(predictions is not None)
        if self._axes != self.method:
            self._axes = self.method
            self.plot.setLabel("bottom", AXES[self.method][0])
            self.plot.setLabel("left", AXES[self.method][1])
        key = (len(indices), self.method, self.layer)
        if key != self._view_key:  # new points: fit them; the same ones moved: keep the zoom
            self._view_key = key
            self.plot.enableAutoRange()
        self.caption.setText(caption)
        self.caption.setVisible(bool(caption))
        self.note.hide()
        self.plot.show()
        self.side.show()
        if self._previewed is not None:  # its prediction may have changed
            self._preview(self._previewed)

    def _fill_legend(self) -> None:
        """One entry per class (in two columns past ten), or the count when too many to
        list; then what a cross means."""
        while self.legend_grid.count():
            self.legend_grid.takeAt(0).widget().deleteLater()
        count = len(self._class_names)
        columns = 1 if count <= len(TAB10) else 2
        width = (SIDE_WIDTH - 4) // columns - CROSS - 6
        metrics = self.side.fontMetrics()
        if count > LISTED:
            self._add_legend_text(f"{count} classes, a colour each: hover a point for its "
                                  "class.", row=0, column=0, span=2 * columns)
        else:
            for c, (name, brush) in enumerate(zip(self._class_names, self._brushes)):
                row, column = c % 10, 2 * (c // 10)
                self.legend_grid.addWidget(swatch("o", self._pens[0], brush), row, column)
                label = self._add_legend_text(
                    metrics.elidedText(name, Qt.TextElideMode.ElideRight, width),
                    row=row, column=column + 1, span=1)
                label.setToolTip(name)
        row = self.legend_grid.rowCount()
        self._wrong_entry = [swatch("x", self._pens[1], pg.mkBrush("#bbb")),
                             self._add_legend_text("predicted wrong", row=row, column=1,
                                                   span=2 * columns - 1)]
        self.legend_grid.addWidget(self._wrong_entry[0], row, 0)
        self.legend_grid.setColumnStretch(2 * columns - 1, 1)

    def _add_legend_text(self, text: str, row: int, column: int, span: int) -> QLabel:
        label = QLabel(text, wordWrap=span > 1)
        self.legend_grid.addWidget(label, row, column, 1, span)
        return label

    def _on_method_changed(self) -> None:
        self._show_tsne_button()
        self.methodChanged.emit(self.method)

    def _show_tsne_button(self) -> None:
        self.tsne_button.setVisible(self.method == "tsne" and not self._busy)

    def _on_hovered(self, _item: pg.ScatterPlotItem, points: np.ndarray, _ev: object) -> None:
        """Show the topmost point under the mouse; the last one stays when it leaves."""
        if len(points):
            self._preview(int(points[0].data()))

    def _preview(self, index: int) -> None:
        self._previewed = index
        pixmap = QPixmap.fromImage(to_qimage(self._images[index]))
        self.hover_image.setPixmap(pixmap.scaled(  # nearest neighbour: crisp pixels
            PREVIEW, PREVIEW, Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.FastTransformation))
        self.hover_image.show()
        names, predicted = self._class_names, int(self._predicted[index])
        lines = [f"test image #{index}", f"true {names[self._labels[index]]}"]
        if predicted >= 0:
            right = predicted == self._labels[index]
            lines.append(f"predicted {names[predicted]} ({'right' if right else 'wrong'})")
        self.hover_caption.setText("\n".join(lines))

    def _show_hint(self) -> None:
        self._previewed = None
        self.hover_image.hide()
        self.hover_caption.setText(HINT)
