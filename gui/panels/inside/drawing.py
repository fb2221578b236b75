"""Draw a digit and watch the network read it: the preprocessed input, the prediction
and the feature maps update as you draw (inference runs off the GUI thread)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QImage, QMouseEvent, QPainter, QPaintEvent, QPen, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from cnn_core.data import DatasetInfo
from cnn_core.inspect.drawing import fit_field, preprocess_drawing

from ...session.inference import ImageAnswer, InferenceChannel
from ...session.inside_state import Inspected, InsideState
from ...widgets.panel_parts import white_box
from ...widgets.probability_bars import ProbabilityBars
from ...widgets.when_shown import WhenShown
from .feature_maps import FeatureMapsPanel

CANVAS = 280  # pixels of the drawing itself; MNIST's 28 x 10
MIN_CANVAS = 220  # on screen the canvas shrinks this far to fit a small window
STROKE = 22  # pen width: about 2 MNIST pixels after preprocessing
UPDATE_INTERVAL_MS = 100  # at most ten predictions a second while drawing
PREVIEW = 84  # on-screen size of the 28x28 input: 3 screen pixels a pixel
MIDDLE_WIDTH = 210


class DrawingCanvas(QWidget):
    """White ink on black, stroke by stroke (so Undo removes the last stroke).

    The drawing is always CANVAS x CANVAS pixels; on screen it is the largest square that
    fits the widget, so a small window shrinks the canvas instead of clipping it.
    """

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("drawingCanvas")
        self.setMinimumSize(MIN_CANVAS, MIN_CANVAS)
        self.setMaximumSize(CANVAS, CANVAS)
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

    def _square(self) -> QRectF:
        side = min(self.width(), self.height())
        return QRectF((self.width() - side) / 2, (self.height() - side) / 2, side, side)

    def _to_drawing(self, event: QMouseEvent) -> QPointF:
        square = self._square()
        return (event.position() - square.topLeft()) * (CANVAS / max(square.width(), 1.0))

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
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.drawImage(self._square(), self._image)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton:
            self.strokes.append([self._to_drawing(event)])
            self._render()
            self.changed.emit()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.buttons() & Qt.MouseButton.LeftButton and self.strokes:
            self.strokes[-1].append(self._to_drawing(event))
            self._render()
            self.changed.emit()


class DrawingPanel(QWidget):
    """``inputChanged(field)`` carries the preprocessed (28, 28) drawing, ~10 times a second.

    Left, the canvas; middle, the drawing as the network sees it and its prediction
    (``predictionChart``); right, what every conv layer makes of it.
    """

    inputChanged = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.canvas = DrawingCanvas()
        self.clear_button = QPushButton("Clear", objectName="drawingClear")
        self.undo_button = QPushButton("Undo", objectName="drawingUndo")
        self.undo_button.setShortcut("Ctrl+Z")
        self.note = QLabel("Draw a digit: the network reads it as you draw.", wordWrap=True)
        self.preview_title = QLabel("← as the network sees it (28x28)", wordWrap=True)
        self.preview = QLabel(objectName="drawingInput", alignment=Qt.AlignmentFlag.AlignCenter)
        self.preview.setFixedSize(PREVIEW, PREVIEW)
        self.chart = ProbabilityBars(object_name="predictionChart",
                                     placeholder="prediction: appears as you draw")
        self.maps = FeatureMapsPanel(view_name="drawingFeatureMaps", browser=False,
                                     probabilities=False, show_input=False)

        left = QVBoxLayout()
        left.addWidget(self.canvas, 0, Qt.AlignmentFlag.AlignHCenter)
        buttons = QHBoxLayout()
        buttons.addWidget(self.undo_button)
        buttons.addWidget(self.clear_button)
        left.addLayout(buttons)
        left.addWidget(self.note)
        left.addStretch(1)
        middle_box = white_box()
        middle_box.setFixedWidth(MIDDLE_WIDTH)
        middle = QVBoxLayout(middle_box)
        seen = QHBoxLayout()  # side by side: the bars below get the height
        seen.addWidget(self.preview)
        seen.addWidget(self.preview_title, 1)
        middle.addLayout(seen)
        middle.addWidget(self.chart, 1)
        layout = QHBoxLayout(self)
        layout.addLayout(left)
        layout.addWidget(middle_box)
        layout.addWidget(self.maps, 1)

        self.field = np.zeros((28, 28), np.float32)
        self._show_preview()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(UPDATE_INTERVAL_MS)
        self._timer.timeout.connect(self._update_input)
        self.canvas.changed.connect(self._timer.start)
        self.clear_button.clicked.connect(self.canvas.clear)
        self.undo_button.clicked.connect(self.canvas.undo)

    @property
    def probabilities(self) -> np.ndarray | None:
        return self.chart.probabilities

    def _show_preview(self) -> None:
        pixels = np.ascontiguousarray((self.field * 255).astype(np.uint8))
        image = QImage(pixels.data, 28, 28, 28, QImage.Format.Format_Grayscale8)
        self.preview.setPixmap(QPixmap.fromImage(image).scaled(PREVIEW, PREVIEW))

    def _update_input(self) -> None:
        self.field = preprocess_drawing(self.canvas.array())
        self._show_preview()
        if not self.canvas.strokes:
            self.chart.clear()
            return
        self.inputChanged.emit(self.field)

    def set_dataset(self, dataset: DatasetInfo) -> None:
        """A pen draws one channel: drawing is for greyscale datasets."""
        drawable = dataset.in_channels == 1
        self.setEnabled(drawable)
        self.note.setText(
            "Draw a digit: the network reads it as you draw." if drawable else
            f"Drawing is for greyscale datasets (a pen draws one channel); "
            f"{dataset.display_name} is in colour. Try File > Predict image… instead.")

    def follow(self, state: InsideState, channel: InferenceChannel) -> None:
        """Read the drawing with the run's network as it is drawn, and again with newer
        weights when shown; the drawing becomes the image ``state`` inspects."""
        self._state, self._channel = state, channel
        again = WhenShown(self, self.ask_again)
        state.runStarted.connect(lambda info: self.set_dataset(info.dataset))
        state.momentChosen.connect(lambda _choice: again.due())
        self.inputChanged.connect(self._ask)
        channel.answered.connect(self._on_answer)
        if state.info is not None:
            self.set_dataset(state.info.dataset)

    def _ask(self, field: np.ndarray) -> None:
        info = self._state.info
        if info is None or info.dataset.in_channels != 1:
            return
        field = fit_field(field, info.dataset.input_size)
        self._state.inspect(Inspected(field=field))
        self._channel.ask(self._state.normalise(field[None]))

    def _on_answer(self, answer: ImageAnswer) -> None:
        if self._state.info is not None and not answer.error:
            self.show_result(answer.maps, answer.saliency.probabilities,
                             self._state.info.dataset.class_names)

    def ask_again(self) -> None:
        """Send the drawing again (new weights read it differently); nothing if empty."""
        if self.canvas.strokes:
            self.inputChanged.emit(self.field)

    def show_result(self, maps: dict[str, np.ndarray], probabilities: np.ndarray,
                    class_names: tuple[str, ...]) -> None:
        self.chart.set_probabilities(probabilities, class_names)
        self.maps.set_maps(self.field[None], maps, caption="your drawing")
