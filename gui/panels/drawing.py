"""Draw a digit and watch the network read it: the preprocessed input, the prediction
and the feature maps update as you draw (inference runs off the GUI thread)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, QTimer, Signal
from PySide6.QtGui import QImage, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from cnn_core.inspect.drawing import preprocess_drawing

from .feature_maps import FeatureMapsPanel, set_text

CANVAS = 280  # pixels; MNIST's 28 x 10
STROKE = 22  # pen width: about 2 MNIST pixels after preprocessing
UPDATE_INTERVAL_MS = 100  # at most ten predictions a second while drawing


class DrawingCanvas(QWidget):
    """White ink on black, stroke by stroke (so Undo removes the last stroke)."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("drawingCanvas")
        self.setFixedSize(CANVAS, CANVAS)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setToolTip("Draw with the mouse; Undo (Ctrl+Z) removes the last stroke")
        self.strokes: list[list[QPointF]] = []
        self._image = QImage(CANVAS, CANVAS, QImage.Format.Format_Grayscale8)
        self._render()

    def clear(self) -> None:
        self.strokes.clear()
        self._render()
        self.changed.emit()

    def undo(self) -> None:
        if self.strokes:
            self.strokes.pop()
            self._render()
            self.changed.emit()

    def array(self) -> np.ndarray:
        """The drawing as float32 (H, W) in 0..1, ink = 1."""
        ptr = self._image.constBits()
        data = np.frombuffer(ptr, np.uint8).reshape(CANVAS, self._image.bytesPerLine())
        return data[:, :CANVAS].astype(np.float32) / 255.0

    def _render(self) -> None:
        self._image.fill(0)
        painter = QPainter(self._image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(Qt.GlobalColor.white, STROKE, Qt.PenStyle.SolidLine,
                            Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin))
        for stroke in self.strokes:
            if len(stroke) == 1:
                painter.drawPoint(stroke[0])
            else:
                painter.drawPolyline(stroke)
        painter.end()
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt naming
        QPainter(self).drawImage(0, 0, self._image)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton:
            self.strokes.append([event.position()])
            self._render()
            self.changed.emit()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.buttons() & Qt.MouseButton.LeftButton and self.strokes:
            self.strokes[-1].append(event.position())
            self._render()
            self.changed.emit()


class DrawingPanel(QWidget):
    """``inputChanged(field)`` carries the preprocessed (28, 28) drawing, ~10 times a second."""

    inputChanged = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.canvas = DrawingCanvas()
        self.clear_button = QPushButton("Clear", objectName="drawingClear")
        self.undo_button = QPushButton("Undo", objectName="drawingUndo")
        self.undo_button.setShortcut("Ctrl+Z")
        self.note = QLabel("Draw a digit: the network reads it as you draw.", wordWrap=True)
        self.preview = pg.GraphicsLayoutWidget()
        self.preview.setObjectName("drawingInput")
        self.preview.setBackground("w")
        self.preview.addLabel("as the network sees it (28x28)", row=0, col=0, color="#333")
        box = self.preview.addViewBox(row=1, col=0, lockAspect=True, invertY=True)
        self.preview_image = pg.ImageItem()
        box.addItem(self.preview_image)
        self.preview.setFixedSize(180, 200)
        self.chart = pg.PlotWidget(title="prediction")
        self.chart.setObjectName("predictionChart")
        self.chart.setYRange(0, 1)
        self.chart.setMouseEnabled(x=False, y=False)
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.7, brush="#90a4ae")
        self.chart.addItem(self.bars)
        self.maps = FeatureMapsPanel(view_name="drawingFeatureMaps", browser=False,
                                     probabilities=False)

        left = QVBoxLayout()
        left.addWidget(self.canvas)
        buttons = QHBoxLayout()
        buttons.addWidget(self.undo_button)
        buttons.addWidget(self.clear_button)
        left.addLayout(buttons)
        left.addWidget(self.note)
        left.addStretch(1)
        middle = QVBoxLayout()
        middle.addWidget(self.preview)
        middle.addWidget(self.chart, 1)
        layout = QHBoxLayout(self)
        layout.addLayout(left)
        layout.addLayout(middle, 1)
        layout.addWidget(self.maps, 3)

        self.field = np.zeros((28, 28), np.float32)
        self.probabilities: np.ndarray | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(UPDATE_INTERVAL_MS)
        self._timer.timeout.connect(self._update_input)
        self.canvas.changed.connect(self._timer.start)
        self.clear_button.clicked.connect(self.canvas.clear)
        self.undo_button.clicked.connect(self.canvas.undo)

    def _update_input(self) -> None:
        self.field = preprocess_drawing(self.canvas.array())
        self.preview_image.setImage((self.field * 255).astype(np.uint8), autoLevels=False,
                                    levels=(0, 255))
        if not self.canvas.strokes:
            self.bars.setOpts(x=[], height=[])
            self.probabilities = None
            return
        self.inputChanged.emit(self.field)

    def show_result(self, maps: dict[str, np.ndarray], probabilities: np.ndarray,
                    class_names: tuple[str, ...]) -> None:
        self.probabilities = probabilities
        best = int(np.argmax(probabilities))
        self.bars.setOpts(x=np.arange(len(probabilities)), height=probabilities,
                          brushes=["#43a047" if i == best else "#90a4ae"
                                   for i in range(len(probabilities))])
        self.chart.getAxis("bottom").setTicks([list(enumerate(class_names))])
        set_text(self.chart.getPlotItem(), f"prediction: {class_names[best]} "
                                            f"({probabilities[best]:.0%})")
        self.maps.set_maps(self.field[None], maps, probabilities, class_names,
                           caption="your drawing")
