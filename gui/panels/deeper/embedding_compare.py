"""Where two runs put the same test images: both projections side by side, B's turned,
scaled and shifted to sit on A's (orthogonal Procrustes on the shared images), with the same
axis ranges. Hovering an image rings it in both plots; a click chooses it."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (QGridLayout, QHBoxLayout, QLabel, QProgressBar, QSizePolicy,
                               QStackedWidget, QVBoxLayout, QWidget)

from cnn_core.inspect.compare import align_embeddings

from ...widgets.panel_parts import empty_note, white_box
from ...widgets.thumbnails import to_qimage
from .embedding import DOT, LISTED, class_colours, swatch

SIDE_WIDTH = 120  # the legend and the hovered image, right of the plots
PREVIEW = 72
RING = 14  # px: the hovered image, ringed in both plots
HINT = "Hover a point: the same image is ringed in both plots. Click it to inspect it."


def describe_alignment(xy_b: np.ndarray, aligned: np.ndarray, xy_a: np.ndarray) -> str:
    """What turned B onto A, read back from the two: the angle, a mirror, the scale, and
    how much of A's spread the turned B accounts for."""
    b0 = xy_b - xy_b.mean(axis=0)
    moved = aligned - aligned.mean(axis=0)
    linear = np.linalg.lstsq(b0, moved, rcond=None)[0]  # aligned = b0 @ linear + shift
    det = float(np.linalg.det(linear))
    scale = float(np.sqrt(abs(det)))
    if scale == 0:
        return "B's points all sit in one place: there is nothing to turn."
    angle = float(np.degrees(np.arctan2(linear[0, 1], linear[0, 0])))
    spread = float(np.sum((xy_a - xy_a.mean(axis=0)) ** 2))
    agree = 1 - float(np.sum((xy_a - aligned) ** 2)) / spread if spread > 0 else 1.0
    turn = f"{'mirrored, ' if det < 0 else ''}turned {angle:+.0f}°".replace("-", "\u2212")
    return (f"B was {turn}, scaled ×{scale:.2g} and shifted to sit on A, fitted on the "
            f"{len(xy_a):,} test images both show, so that the same image sits in comparable "
            f"places. Then the layouts agree {agree:.0%} (100%: the same picture).")


class EmbeddingCompareView(QWidget):
    """Two runs' projections of the same test images. ``imageChosen(index)`` on a click."""

    imageChosen = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.caption = QLabel(objectName="compareEmbeddingCaption", wordWrap=True)
        self.plot_a, self.scatter_a, self.ring_a, self.title_a = self._plot("compareEmbeddingA")
        self.plot_b, self.scatter_b, self.ring_b, self.title_b = self._plot("compareEmbeddingB")
        self.plot_b.setXLink(self.plot_a)  # the same ranges: a place means the same in both
        self.plot_b.setYLink(self.plot_a)
        self.legend = QWidget(objectName="compareEmbeddingLegend")
        self.legend_grid = QGridLayout(self.legend)
        self.legend_grid.setContentsMargins(0, 0, 0, 0)
        self.legend_grid.setHorizontalSpacing(2)
        self.legend_grid.setVerticalSpacing(0)
        self.hover_image = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        self.hover_image.setFixedSize(PREVIEW, PREVIEW)
        self.hover_caption = QLabel(HINT, objectName="compareEmbeddingHover", wordWrap=True)
        side = QWidget()
        side.setFixedWidth(SIDE_WIDTH)
        small = side.font()
        small.setPointSizeF(small.pointSizeF() - 1)
        side.setFont(small)
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 4, 4, 4)
        side_layout.addWidget(self.legend)
        side_layout.addStretch(1)
        side_layout.addWidget(self.hover_image, 0, Qt.AlignmentFlag.AlignHCenter)
        side_layout.addWidget(self.hover_caption)
        canvas = white_box()
        body = QHBoxLayout(canvas)
        body.setContentsMargins(0, 0, 0, 0)
        body.setSpacing(2)
        for title, plot in ((self.title_a, self.plot_a), (self.title_b, self.plot_b)):
            column = QVBoxLayout()
            column.setSpacing(0)
            column.addWidget(title)
            column.addWidget(plot, 1)
            body.addLayout(column, 1)
        body.addWidget(side)
        content = QWidget()
        content_layout = QVBoxLayout(content)
        content_layout.setContentsMargins(0, 0, 0, 0)
        content_layout.addWidget(self.caption)
        content_layout.addWidget(canvas, 1)

        self.note = empty_note("compareEmbeddingEmpty")
        self.progress = QProgressBar(objectName="compareEmbeddingProgress")
        self.progress.setRange(0, 0)  # indeterminate: a projection reports no progress
        self.progress.setFixedWidth(120)
        waiting = QWidget()
        waiting_layout = QVBoxLayout(waiting)
        waiting_layout.addStretch(1)
        waiting_layout.addWidget(self.note)
        waiting_layout.addWidget(self.progress, 0, Qt.AlignmentFlag.AlignHCenter)
        waiting_layout.addStretch(1)
        self.stack = QStackedWidget()
        self.stack.addWidget(waiting)
        self.stack.addWidget(content)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.stack)

        self.aligned = np.zeros((0, 2))  # B's points as drawn, row for row with xy_a
        self._xy_a = np.zeros((0, 2))
        self._indices = np.zeros(0, np.int64)
        self._labels = np.zeros(0, np.int64)
        self._class_names: tuple[str, ...] = ()
        self._images: np.ndarray | None = None
        self._pointed: int | None = None  # the test image ringed
        self._fitted: tuple | None = None  # (points, names, range set): the view we fitted
        for scatter in (self.scatter_a, self.scatter_b):
            scatter.sigHovered.connect(self._on_hovered)
            scatter.sigClicked.connect(
                lambda _item, points, _ev: self.imageChosen.emit(int(points[0].data())))
        self.clear("Choose two runs to compare.")

    @staticmethod
    def _plot(name: str) -> tuple[pg.PlotWidget, pg.ScatterPlotItem, pg.ScatterPlotItem, QLabel]:
        plot = pg.PlotWidget()
        plot.setObjectName(name)
        plot.setBackground("w")
        plot.setMinimumSize(120, 120)
        scatter = pg.ScatterPlotItem(hoverable=True, tip=None, hoverPen=pg.mkPen("#000", width=2))
        ring = pg.ScatterPlotItem(size=RING, brush=None, pen=pg.mkPen("#000", width=2))
        plot.addItem(scatter)
        plot.addItem(ring)
        title = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        return plot, scatter, ring, title

    def clear(self, text: str) -> None:
        """No points; ``text`` says why."""
        for item in (self.scatter_a, self.scatter_b, self.ring_a, self.ring_b):
            item.setData(x=[], y=[])
        self._indices = np.zeros(0, np.int64)
        self._fitted = None
        self._show_hint()
        self.note.setText(text)
        self.progress.hide()
        self.stack.setCurrentIndex(0)

    def set_busy(self, text: str) -> None:
        """While the projections are computed (elsewhere): ``text`` and a busy bar."""
        self.clear(text)
        self.progress.show()

    def show_projections(self, name_a: str, name_b: str, xy_a: np.ndarray, xy_b: np.ndarray,
                         indices: np.ndarray, labels: np.ndarray, class_names: Sequence[str],
                         images: np.ndarray | None = None) -> None:
        """``xy_a``, ``xy_b`` (M, 2): both runs' projections of the test images ``indices``
        (M,), whose classes are ``labels`` (M,). B is aligned onto A before it is drawn.
        ``images``: the whole test set (N, H, W, C) uint8, for the hovered image's preview."""
        xy_a = np.asarray(xy_a, np.float64)
        try:
            aligned = align_embeddings(xy_a, xy_b)
        except ValueError as refused:
            self.clear(str(refused))
            return
        self._xy_a, self.aligned = xy_a, aligned
        self._indices = np.asarray(indices, np.int64)
        self._labels = np.asarray(labels, np.int64)
        self._images = images
        if tuple(class_names) != self._class_names or not self.legend_grid.count():
            self._class_names = tuple(class_names)
            self._fill_legend()
        brushes = np.array([pg.mkBrush(c) for c in class_colours(len(class_names))], object)
        pen = pg.mkPen(255, 255, 255, 200, width=0.8)
        # the same fixed shuffle in both, so that no class always paints over the others
        order = np.random.default_rng(0).permutation(len(xy_a))
        for scatter, xy in ((self.scatter_a, xy_a), (self.scatter_b, aligned)):
            scatter.setData(x=xy[order, 0], y=xy[order, 1], data=self._indices[order],
                            brush=brushes[self._labels[order]], pen=pen, size=DOT)
        self.title_a.setText(f"A: {name_a}")
        self.title_b.setText(f"B: {name_b}, aligned to A")
        self.title_a.setToolTip(f"run A: {name_a}")
        self.title_b.setToolTip(f"run B: {name_b}")
        self.caption.setText(describe_alignment(np.asarray(xy_b, np.float64), aligned, xy_a))
        self._fit_view((len(xy_a), name_a, name_b))
        if self._pointed is not None and self._pointed in self._indices:
            self.point_out(self._pointed)  # the time-lapse moved it: follow it
        else:
            for ring in (self.ring_a, self.ring_b):
                ring.setData(x=[], y=[])
            self._show_hint()
        self.stack.setCurrentIndex(1)

    def _fit_view(self, key: tuple) -> None:
        """Both clouds in view (the plots share their ranges), unless the same points are
        shown again (the time-lapse moved them) and the user has zoomed since the last fit."""
        box = self.plot_a.getPlotItem().getViewBox()
        if (self._fitted is not None and self._fitted[0] == key
                and box.viewRange() != self._fitted[1]):
            return
        both = np.concatenate([self._xy_a, self.aligned]) if len(self._xy_a) else np.zeros((1, 2))
        low, high = both.min(axis=0), both.max(axis=0)
        box.setRange(xRange=(low[0], high[0]), yRange=(low[1], high[1]), padding=0.05)
        self._fitted = (key, box.viewRange())

    def _fill_legend(self) -> None:
        while self.legend_grid.count():
            self.legend_grid.takeAt(0).widget().deleteLater()
        count = len(self._class_names)
        if count > LISTED:
            label = QLabel(f"{count} classes, a colour each: hover a point for its class.",
                           wordWrap=True)
            self.legend_grid.addWidget(label, 0, 0, 1, 2)
            return
        pen = pg.mkPen(255, 255, 255, 200, width=0.8)
        metrics = self.legend.fontMetrics()
        for c, (name, colour) in enumerate(zip(self._class_names, class_colours(count))):
            self.legend_grid.addWidget(swatch("o", pen, pg.mkBrush(colour)), c, 0)
            label = QLabel(metrics.elidedText(name, Qt.TextElideMode.ElideRight,
                                              SIDE_WIDTH - 24))
            label.setToolTip(name)
            self.legend_grid.addWidget(label, c, 1)
        self.legend_grid.setColumnStretch(1, 1)

    def _on_hovered(self, _item: pg.ScatterPlotItem, points: np.ndarray, _ev: object) -> None:
        """Ring the topmost point under the mouse in both plots; it stays when it leaves."""
        if len(points):
            self.point_out(int(points[0].data()))

    def point_out(self, index: int) -> None:
        """Ring test image ``index`` in both plots and say what it is."""
        rows = np.flatnonzero(self._indices == index)
        if not len(rows):
            return
        row, self._pointed = rows[0], index
        self.ring_a.setData(x=[self._xy_a[row, 0]], y=[self._xy_a[row, 1]])
        self.ring_b.setData(x=[self.aligned[row, 0]], y=[self.aligned[row, 1]])
        self.hover_caption.setText(f"test image #{index}\na {self._class_names[self._labels[row]]}")
        if self._images is not None:
            pixmap = QPixmap.fromImage(to_qimage(self._images[index]))
            self.hover_image.setPixmap(pixmap.scaled(  # nearest neighbour: crisp pixels
                PREVIEW, PREVIEW, Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.FastTransformation))
            self.hover_image.show()

    def _show_hint(self) -> None:
        self._pointed = None
        self.hover_image.hide()
        self.hover_caption.setText(HINT)
