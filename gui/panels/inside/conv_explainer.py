"""How one pixel of a feature map is computed, number by number (CNN Explainer's view).

Pick a conv layer, an output channel and a pixel of that channel's map, with a click or
the arrow keys. The view shows the input pixels that pixel depends on (its receptive
field), the window of the layer's input it reads (padding hatched), the kernel, their
products, the sums, the bias, and the activation that turns the conv's value into the
pixel shown. The window computes nothing here: ``requested`` asks for the numbers, which
come back from the inference thread (:func:`cnn_core.inspect.explain.explain_map_pixel`).
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QGridLayout, QHBoxLayout, QLabel, QSpinBox,
                               QVBoxLayout, QWidget)

from cnn_core.export.render import SEQUENTIAL, first_reads_colour
from cnn_core.inspect.explain import MapPixel

from ...session.inference import InferenceChannel, PixelAnswer
from ...session.inside_state import InsideState, moment_caption
from ...widgets.layer_combo import LayerCombo
from ...widgets.matrix_view import MatrixView, colours
from ...widgets.panel_parts import empty_note, white_box
from ...widgets.when_shown import WhenShown

NO_CONV = ("This network has no conv layer, so there is no convolution to explain: it "
           "reads the pixels with linear layers only. Add a conv2d layer to see one at work.")
PLACEHOLDER = "Press Start: a feature-map pixel of the current image, taken apart, appears here."
STEPS = {"BatchNorm2d": "batch norm", "ReLU": "ReLU", "LeakyReLU": "leaky ReLU",
         "Tanh": "tanh", "Sigmoid": "sigmoid", "GELU": "GELU", "ReLU6": "ReLU6",
         "Hardswish": "hard swish", "SiLU": "SiLU (swish)"}
SHORT = {"BatchNorm2d": "BN"}  # in the map's narrow title
RGB = ("red", "green", "blue")
SIDE = 120  # the image and the map columns at least; they grow with a fifth of the rest
SUMS_PER_ROW = 16


def fmt(value: float) -> str:
    """Three decimals, or three figures for a value too small for them (−0.000225)."""
    text = f"{value:.3g}" if 0 < abs(value) < 0.001 else f"{value:.3f}"
    return text.replace("-", "−")


def _title(text: str) -> QLabel:
    return QLabel(text, alignment=Qt.AlignmentFlag.AlignCenter)


class ConvExplainerPanel(QWidget):
    """``convExplainerView``. ``requested`` follows any change of layer, channel or pixel:
    :meth:`query` then says what to explain and :meth:`show_pixel` shows the answer."""

    requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("convExplainerView")
        self.layer_combo = LayerCombo(objectName="explainerLayerCombo")
        self.channel_spin = QSpinBox(objectName="explainerChannelSpin")
        self.position_label = QLabel(objectName="explainerPosition")
        self.caption = QLabel(PLACEHOLDER, objectName="explainerCaption", wordWrap=True)
        self.image_view = MatrixView("explainerInput")
        self.image_view.describe = "pixel"
        self.map_view = MatrixView("explainerFeatureMap", pickable=True)
        self.map_view.setToolTip("Click a pixel, or move with the arrow keys")
        self.patch_view = MatrixView("explainerPatch")
        self.kernel_view = MatrixView("explainerKernel")
        self.products_view = MatrixView("explainerProducts")
        self.sums_view = MatrixView("explainerChannelSums", pickable=True)
        self.sums_view.describe = "sum"
        self.map_title = _title("")
        self.patch_title, self.channel_sum = _title("input patch"), QLabel()
        self.sums_title = QLabel("each input\nchannel's sum:")
        self.sums_title.setToolTip("Click one to see its products above")
        self.equation = QLabel(objectName="explainerEquation", wordWrap=True)
        self.equation.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.note = empty_note("explainerEmpty")
        self._build()

        self.explained: MapPixel | None = None  # the pixel shown, with its numbers
        # the input channel whose products are shown; None: the one adding most, once known
        self.input_channel: int | None = None
        self._position: tuple[int, int] | None = None  # None: the map's strongest pixel
        self._rgb_input = False
        self._filters: dict[str, tuple[int, ...]] = {}
        self.layer_combo.currentIndexChanged.connect(self._on_layer_changed)
        self.channel_spin.valueChanged.connect(lambda _v: self.requested.emit())
        self.map_view.picked.connect(self.pick)
        self.sums_view.picked.connect(self._on_sum_picked)

    def _build(self) -> None:
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Layer"))
        bar.addWidget(self.layer_combo)
        bar.addWidget(QLabel("Output channel"))
        bar.addWidget(self.channel_spin)
        bar.addWidget(self.position_label, 1)

        image_col, map_col = QVBoxLayout(), QVBoxLayout()
        image_title = _title("input image\nits receptive field")
        image_title.setToolTip("Outlined: every pixel of the image this output depends on "
                               "(its receptive field); the rest cannot change it")
        for column, title, view in ((image_col, image_title, self.image_view),
                                    (map_col, self.map_title, self.map_view)):
            column.addWidget(title)
            column.addWidget(view, 1)
        for view in (self.image_view, self.map_view):
            view.setMinimumWidth(SIDE)

        sums = QGridLayout()
        titles = (self.patch_title, _title("kernel"), _title("products"))
        views = (self.patch_view, self.kernel_view, self.products_view)
        for i, (title, view) in enumerate(zip(titles, views)):
            sums.addWidget(title, 0, 2 * i)
            sums.addWidget(view, 1, 2 * i)
            sums.setColumnStretch(2 * i, 1)
            if i < 2:
                sign = QLabel("×" if i == 0 else "=", alignment=Qt.AlignmentFlag.AlignCenter)
                sign.setStyleSheet("font-size: 18px;")
                sums.addWidget(sign, 1, 2 * i + 1)
        sums.addWidget(self.channel_sum, 1, 6)
        sums.setRowStretch(1, 1)
        strip = QHBoxLayout()
        strip.addWidget(self.sums_title)
        strip.addWidget(self.sums_view, 1)
        maths = QVBoxLayout()
        maths.addLayout(sums, 3)
        maths.addLayout(strip, 1)
        maths.addWidget(self.equation)

        self.body = white_box()
        body = QHBoxLayout(self.body)
        body.addLayout(image_col, 1)
        body.addLayout(map_col, 1)
        body.addLayout(maths, 4)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(self.caption)
        layout.addWidget(self.body, 1)
        layout.addWidget(self.note, 1)
        self.note.hide()
        self.equation.setStyleSheet("font-size: 13px;")

    # -- following the run ---------------------------------------------------------------

    def follow(self, state: InsideState, channel: InferenceChannel) -> None:
        """Take apart a pixel of the image ``state`` inspects, with the weights of the
        moment it chooses (the newest: the latest weights, at full precision), when shown."""
        self._state, self._channel = state, channel
        refresh = WhenShown(self, self._refresh)
        state.momentChosen.connect(lambda _choice: refresh.due())
        state.inspectedChanged.connect(lambda _inspected: refresh.due())
        self.requested.connect(refresh.due)
        channel.answered.connect(self._on_answer)
        refresh.due()

    def _refresh(self) -> None:
        """The layers of the moment chosen (kept while they stay), then one request."""
        moment, info = self._state.moment, self._state.info
        if moment is not None and info is not None:
            self.set_layers(moment.filters, first_reads_colour(moment.filters))
        self._ask()

    def _ask(self) -> None:
        state, query = self._state, self.query()
        inspected = state.inspected_image()
        if query is None or inspected is None:
            return
        weights = None if state.shows_latest else state.moment.features_state()
        self._channel.ask_pixel(state.normalise(inspected[0]), query, weights)

    def _on_answer(self, answer: PixelAnswer) -> None:
        state = self._state
        inspected = state.inspected_image()
        if answer.error:
            self.show_error(answer.error)
        elif inspected is not None:
            image, caption = inspected
            weights = ("latest weights" if state.shows_latest else
                       f"weights at {moment_caption(state.moment)} (time-lapse)")
            self.show_pixel(image, answer.pixel, f"{caption}, {weights}")

    # -- what to explain -----------------------------------------------------------------

    def set_layers(self, filters: dict[str, np.ndarray], rgb_input: bool = False) -> None:
        """The network's conv layers (name -> kernels); keeps the choice while they stay."""
        shapes = {name: w.shape for name, w in filters.items()}
        self._rgb_input = rgb_input
        self.body.setVisible(bool(shapes))
        self.note.setVisible(not shapes)
        self.layer_combo.setEnabled(bool(shapes))
        self.channel_spin.setEnabled(bool(shapes))
        if not shapes:
            self.note.setText(NO_CONV)
            self.caption.hide()
        if shapes == self._filters:
            return
        self._filters = shapes
        current = self.layer_combo.currentData()
        self.layer_combo.blockSignals(True)
        self.layer_combo.clear()
        for name, (out, inputs, kh, kw) in shapes.items():
            self.layer_combo.addItem(f"{name}  ({out} filters {kh}x{kw} over {inputs} "
                                     f"channel{'s' if inputs > 1 else ''})", name)
        self.layer_combo.setCurrentIndex(max(self.layer_combo.findData(current), 0))
        self.layer_combo.blockSignals(False)
        self._on_layer_changed(ask=False)  # whoever gave the layers asks next

    def _on_layer_changed(self, _index: int = 0, ask: bool = True) -> None:
        name = self.layer_combo.currentData()
        if name is None:
            return
        self._position, self.input_channel = None, None
        self.channel_spin.blockSignals(True)
        self.channel_spin.setRange(0, self._filters[name][0] - 1)
        self.channel_spin.blockSignals(False)
        if ask:
            self.requested.emit()

    def query(self) -> tuple[str, int, int | None, int | None] | None:
        """(layer, output channel, row, col) to explain; row and col None: the map's
        strongest pixel (what a new layer starts with)."""
        name = self.layer_combo.currentData()
        if name is None:
            return None
        row, col = self._position if self._position is not None else (None, None)
        return name, self.channel_spin.value(), row, col

    def pick(self, row: int, col: int) -> None:
        """Explain pixel (row, col) of the map shown."""
        self._position = (row, col)
        self.map_view.set_outline((row, col, row, col))
        self.requested.emit()

    def _on_sum_picked(self, row: int, col: int) -> None:
        channel = row * self.sums_view.values.shape[1] + col
        if self.explained is not None and channel < len(self.explained.conv.patch):
            self.input_channel = channel
            self._show_channel()

    # -- showing the answer --------------------------------------------------------------

    def show_error(self, text: str) -> None:
        self.caption.show()
        self.caption.setText(f"Could not explain this pixel: {text}")

    def show_pixel(self, image: np.ndarray, pixel: MapPixel, caption: str) -> None:
        """``image``: the input (C, H, W) in 0..1 as a person sees it; ``caption`` says
        which image and which weights."""
        conv = pixel.conv
        if self.query() is None or conv.layer != self.query()[0]:
            return  # an answer for a layer no longer chosen
        self.explained = pixel
        self._position = (conv.row, conv.col)
        if self.input_channel is None or self.input_channel >= len(conv.patch):
            self.input_channel = int(np.argmax(np.abs(conv.channel_sums)))
        shown = image[0] if image.shape[0] == 1 else image.mean(axis=0)
        rgb = image.transpose(1, 2, 0) if image.shape[0] == 3 else np.repeat(shown[..., None],
                                                                              3, axis=-1)
        self.image_view.set_values(shown, (rgb * 255).round().astype(np.uint8), numbers=False)
        self.image_view.set_outline(conv.field)
        fmap = pixel.feature_map
        self.map_view.set_values(fmap, colours(fmap, SEQUENTIAL, signed=False))
        self.map_view.set_outline((conv.row, conv.col, conv.row, conv.col))
        after = " + ".join(SHORT.get(step, STEPS.get(step, step)) for step in pixel.after)
        self.map_title.setText(f"{conv.layer}, channel {conv.channel}\n"
                               + (f"after {after}" if after else "no activation"))
        h, w = fmap.shape
        self.position_label.setText(f"  pixel: row {conv.row}, col {conv.col} of {h}x{w}")
        self.caption.show()
        padded = " (hatched: zeros)" if pixel.padded.any() else ""
        self.caption.setText(f"{caption}. Stride {_pair(pixel.stride)}, padding "
                             f"{_pair(pixel.padding)}{padded}. Click the map or use the arrow "
                             "keys to pick a pixel.")
        self.caption.setToolTip(f"{conv.layer} slides its kernel over its input: each output "
                                "pixel is the window times the kernel, summed over every "
                                "input channel, plus a bias.")
        self._show_sums()
        self._show_channel()
        self._show_equation()

    def _show_channel(self) -> None:
        pixel = self.explained
        conv, k = pixel.conv, self.input_channel
        many = len(conv.patch) > 1
        first = self.layer_combo.currentIndex() == 0
        name = RGB[k] if first and self._rgb_input and len(conv.patch) == 3 else f"channel {k}"
        self.patch_title.setText(f"input patch, {name}" if many else "input patch")
        self.patch_title.setToolTip(
            "The layer's input under the window" + (": the image's pixels, normalised as the "
                                                    "network reads them" if first else "")
            + ". Hatched cells are padding (zeros).")
        self.patch_view.set_values(conv.patch[k], muted=pixel.padded)
        self.kernel_view.set_values(conv.kernel[k])
        self.products_view.set_values(conv.products[k], muted=pixel.padded)
        self.channel_sum.setText(f"→ sum<br><b>{fmt(float(conv.channel_sums[k]))}</b>")
        if many:
            cols = self.sums_view.values.shape[1]
            self.sums_view.set_outline((k // cols, k % cols, k // cols, k % cols))

    def _show_sums(self) -> None:
        sums = self.explained.conv.channel_sums
        many = len(sums) > 1
        self.sums_title.setVisible(many)
        self.sums_view.setVisible(many)
        if not many:
            return
        rows = 1 if len(sums) <= SUMS_PER_ROW else 2  # at most two: the equation needs room
        cols = math.ceil(len(sums) / rows)
        grid = np.zeros(rows * cols, np.float32)
        grid[:len(sums)] = sums
        unused = np.arange(rows * cols) >= len(sums)
        self.sums_view.set_values(grid.reshape(rows, cols), muted=unused.reshape(rows, cols))

    def _show_equation(self) -> None:
        pixel = self.explained
        conv = pixel.conv
        total = float(conv.channel_sums.sum())
        inputs = len(conv.patch)
        lines = [f"sum of the {inputs} input channels' sums = <b>{fmt(total)}</b>" if inputs > 1
                 else f"sum of the {conv.kernel.size} products = <b>{fmt(total)}</b>",
                 f"{fmt(total)} + bias {fmt(conv.bias)} = <b>{fmt(conv.value)}</b>, "
                 f"{conv.layer}'s output" + (" before the activation" if pixel.after else "")]
        if pixel.after:
            after = ", then ".join(STEPS.get(step, step) for step in pixel.after)
            lines.append(f"{after}: {fmt(conv.value)} → <b>{fmt(pixel.shown)}</b>, the pixel "
                         "outlined on the map")
        else:
            lines.append(f"= the pixel outlined on the map ({conv.layer} has no activation "
                         "after it)")
        self.equation.setText("<br>".join(lines))


def _pair(values: tuple[int, int]) -> str:
    return str(values[0]) if values[0] == values[1] else f"{values[0]}x{values[1]}"
