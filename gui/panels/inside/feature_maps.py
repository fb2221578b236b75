"""What one image looks like to the network: the input, every conv layer's activations,
and the class probabilities; with a browser over the test set (arrows, class filter)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontMetrics, QTextOption
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from cnn_core.export.render import SEQUENTIAL, Grid, grid_columns, render_grid

from ...session.inference import ImageAnswer, InferenceChannel
from ...session.inside_state import PROBE, Inspected, InsideState, moment_caption
from ...widgets.layer_combo import LayerCombo
from ...widgets.panel_parts import empty_note, set_text, white_box
from ...widgets.probability_bars import ProbabilityBars
from ...widgets.when_shown import WhenShown

INPUT_WIDTH = 150  # the input image and the probabilities below it
PLACEHOLDER = "Press Start: a test image and what every layer makes of it appear here."
NO_CONV = ("This network has no conv layer, so it makes no feature maps: its linear layers "
           "read the pixels directly. Add a conv2d layer to see what it picks out.")
# conv layers drawn side by side; a network with more (a backbone's 20 to 50) shows the
# one chosen, its maps large enough to see
MAX_COLUMNS = 6


def layer_title(name: str, shape: tuple[int, ...], width: float, metrics: QFontMetrics) -> str:
    """A layer's title on two lines, or three when its column is too narrow for two."""
    maps, size = f"{shape[0]} maps", f"{shape[1]}x{shape[2]}"
    if metrics.horizontalAdvance(f"{maps}, {size}") + 12 <= width:
        return f"{name}<br>{maps}, {size}"
    return f"{name}<br>{maps}<br>{size}"


def centre_lines(label: pg.LabelItem) -> None:
    """Centre each line of a multi-line label under the others (Qt's text is left-aligned)."""
    text = label.item
    text.document().setDefaultTextOption(QTextOption(Qt.AlignmentFlag.AlignHCenter))
    text.setTextWidth(-1)
    text.setTextWidth(text.document().idealWidth())


class FeatureMapsPanel(QWidget):
    """``featureMapsView``: a grid per conv layer, right of the input and its probabilities
    (one layer at a time, chosen, for a network of more than ``MAX_COLUMNS``).

    With ``browser``, arrows and a class filter pick a test image: ``imageChosen(index)``.
    ``show_input=False`` leaves the input out, for a panel that shows it already.
    """

    imageChosen = Signal(int)

    def __init__(self, parent: QWidget | None = None, view_name: str = "featureMapsView",
                 browser: bool = True, probabilities: bool = True,
                 show_input: bool = True) -> None:
        super().__init__(parent)
        self.view = pg.GraphicsLayoutWidget()
        self.view.setObjectName(view_name)
        self.view.setBackground("w")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.prev_button = QPushButton("◀", objectName="imagePrev", toolTip="Previous image")
        self.next_button = QPushButton("▶", objectName="imageNext", toolTip="Next image")
        self.class_filter = QComboBox(objectName="imageClassFilter")
        self.image_label = QLabel("no test images yet", objectName="imageLabel", wordWrap=True)
        self._labels = np.zeros(0, np.int64)
        self._class_names: tuple[str, ...] = ()
        self._shown: np.ndarray = np.zeros(0, np.int64)  # test indices passing the filter
        self._position = 0
        self.layer_combo = LayerCombo(objectName=f"{view_name}LayerCombo")
        self.layer_combo.setToolTip("This network has too many conv layers to show side by "
                                    "side: pick the one to see")
        self.layer_choice = QWidget()
        choice = QHBoxLayout(self.layer_choice)
        choice.setContentsMargins(0, 0, 0, 0)
        choice.addWidget(QLabel("Layer"))
        choice.addWidget(self.layer_combo)
        self.layer_choice.hide()
        if browser:
            bar = QHBoxLayout()
            bar.addWidget(QLabel("Test image"))
            bar.addWidget(self.prev_button)
            bar.addWidget(self.next_button)
            bar.addWidget(QLabel("class"))
            bar.addWidget(self.class_filter)
            bar.addWidget(self.layer_choice)
            bar.addWidget(self.image_label, 1)
            layout.addLayout(bar)
            self.prev_button.clicked.connect(lambda: self.step(-1))
            self.next_button.clicked.connect(lambda: self.step(+1))
            self.class_filter.currentIndexChanged.connect(self._on_filter_changed)
        else:
            bar = QHBoxLayout()
            bar.addWidget(self.layer_choice)
            bar.addStretch(1)
            layout.addLayout(bar)
        self.input_title = QLabel(PLACEHOLDER, objectName=f"{view_name}Caption", wordWrap=True,
                                  alignment=Qt.AlignmentFlag.AlignCenter)
        self.input_view = pg.GraphicsLayoutWidget()
        self.input_view.setBackground("w")
        self.input_view.setMinimumSize(64, 64)
        self.input_box = self.input_view.addViewBox(row=0, col=0, lockAspect=True, invertY=True)
        self.input_image = pg.ImageItem(axisOrder="row-major")
        self.input_box.addItem(self.input_image)
        self.bars = ProbabilityBars(object_name=f"{view_name}Probabilities")
        self.bars.setVisible(probabilities)
        left = QVBoxLayout()
        left.addWidget(self.input_title)
        left.addWidget(self.input_view, 1)
        left.addWidget(self.bars)
        canvas = white_box()
        body = QHBoxLayout(canvas)
        body.setContentsMargins(0, 0, 0, 0)
        body.addLayout(left)
        body.addWidget(self.view, 1)
        self.note = empty_note(f"{view_name}Empty")
        self.note.setText(NO_CONV)
        self.note.hide()
        body.addWidget(self.note, 1)
        layout.addWidget(canvas, 1)
        for widget in (self.input_title, self.input_view, self.bars):
            widget.setFixedWidth(INPUT_WIDTH)
        self.input_title.setVisible(show_input)
        self.input_view.setVisible(show_input)
        self.grids: dict[str, Grid] = {}
        self._maps: dict[str, np.ndarray] = {}
        self._layer_items: dict[str, tuple[pg.LabelItem, pg.ImageItem]] = {}
        self._layout_key: tuple = ()
        self._maps_given: tuple | None = None  # set_maps' arguments: drawn again, another layer
        self.layer_combo.currentIndexChanged.connect(
            lambda _i: self._maps_given is not None and self.set_maps(*self._maps_given))

    @property
    def probabilities(self) -> np.ndarray | None:
        return self.bars.probabilities

    # -- following the run (the browsing panel) ----------------------------------------

    def follow(self, state: InsideState, channel: InferenceChannel) -> None:
        """Browse the run's test set; the image chosen becomes the one ``state`` inspects,
        shown at the moment it chooses (the probe image, whose maps each moment carries)
        or with the latest weights, when shown."""
        self._state, self._channel = state, channel
        show = WhenShown(self, self._show_chosen)
        state.runStarted.connect(
            lambda info: self.set_test_set(info.test_labels, info.dataset.class_names))
        state.momentChosen.connect(lambda _choice: show.due())
        self.imageChosen.connect(lambda index: self._on_chosen(index, show))
        channel.answered.connect(self._on_answer)
        if state.info is not None:
            self.set_test_set(state.info.test_labels, state.info.dataset.class_names)

    def _on_chosen(self, index: int, show: WhenShown) -> None:
        self._state.inspect(Inspected(index))
        show.due()

    def _show_chosen(self) -> None:
        state, index = self._state, self.current_index
        if state.info is None or not len(state.info.test_labels):
            return
        moment = state.moment
        if index == PROBE and moment is not None:
            self.set_maps(state.display(PROBE),
                          {k: v.astype(np.float32) for k, v in moment.maps.items()},
                          moment.probabilities, state.info.dataset.class_names,
                          caption=f"test image #{PROBE}, {moment_caption(moment)}")
        else:
            self._channel.ask(state.normalise(state.display(index)))

    def _on_answer(self, answer: ImageAnswer) -> None:
        info = self._state.info
        if info is None or answer.error:
            return
        index = self.current_index
        self.set_maps(self._state.display(index), answer.maps, answer.saliency.probabilities,
                      info.dataset.class_names, caption=f"test image #{index}, latest weights")

    # -- the browser -------------------------------------------------------------------

    def set_test_set(self, labels: np.ndarray, class_names: tuple[str, ...]) -> None:
        self._labels, self._class_names = labels, class_names
        self.class_filter.blockSignals(True)
        self.class_filter.clear()
        self.class_filter.addItem("all", -1)
        for i, name in enumerate(class_names):
            self.class_filter.addItem(name, i)
        self.class_filter.blockSignals(False)
        self._shown = np.arange(len(labels))
        self._position = 0
        self._announce()

    @property
    def current_index(self) -> int:
        return int(self._shown[self._position]) if len(self._shown) else 0

    def show_index(self, index: int) -> None:
        """Select test image ``index`` (clearing the class filter if it hides it)."""
        if index not in self._shown:
            self.class_filter.setCurrentIndex(0)
        self._position = int(np.flatnonzero(self._shown == index)[0])
        self._announce()

    def step(self, delta: int) -> None:
        if len(self._shown):
            self._position = (self._position + delta) % len(self._shown)
            self._announce()

    def _on_filter_changed(self) -> None:
        cls = self.class_filter.currentData()
        self._shown = (np.arange(len(self._labels)) if cls is None or cls < 0
                       else np.flatnonzero(self._labels == cls))
        self._position = 0
        self._announce()

    def _announce(self) -> None:
        if not len(self._shown):
            self.image_label.setText("no images of that class")
            return
        index = self.current_index
        self.image_label.setText(f"#{index}  ({self._position + 1} of {len(self._shown)}), "
                                 f"true class: {self._class_names[self._labels[index]]}")
        self.imageChosen.emit(index)

    # -- drawing -------------------------------------------------------------------------

    def _ensure_layers(self, maps: dict[str, np.ndarray]) -> None:
        key = tuple((name, m.shape) for name, m in maps.items())
        if key == self._layout_key:
            return
        self.view.clear()
        self._layer_items = {}
        for col, name in enumerate(maps):
            label = self.view.addLabel("", row=0, col=col, color="#333")
            box = self.view.addViewBox(row=1, col=col, lockAspect=True, invertY=True)
            self.view.ci.layout.setColumnStretchFactor(col, 1)  # columns of one width
            image = pg.ImageItem(axisOrder="row-major")
            box.addItem(image)
            self._layer_items[name] = (label, image)
        self._layout_key = key

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt naming
        super().resizeEvent(event)
        self._draw_grids()  # the grids' columns follow the view's shape

    def _draw_grids(self) -> None:
        aspect = self._column_aspect(len(self._maps))
        column = self.view.width() / max(len(self._maps), 1)
        self.grids = {}  # of the layers drawn
        for name, fmap in self._maps.items():
            label = self._layer_items[name][0]
            set_text(label, layer_title(name, fmap.shape, column, self.fontMetrics()))
            centre_lines(label)
            # the input's aspect: tiles are maps of the image, not squares in general
            tile_aspect = aspect * fmap.shape[1] / fmap.shape[2]
            grid = render_grid(fmap, cols=grid_columns(len(fmap), tile_aspect),
                               table=SEQUENTIAL, per_tile=False, signed=False)
            self.grids[name] = grid
            self._layer_items[name][1].setImage(grid.rgba, autoLevels=False, levels=(0, 255))

    def _column_aspect(self, layers: int) -> float:
        """Width / height of one layer's column, for a grid that fills it."""
        return max(0.25, self.view.width() / max(layers, 1) / max(self.view.height() - 40, 1))

    def set_maps(self, image: np.ndarray, maps: dict[str, np.ndarray],
                 probabilities: np.ndarray | None = None,
                 class_names: tuple[str, ...] = (), caption: str = "") -> None:
        """``image``: (C, H, W) in 0..1; ``maps``: layer -> (channels, h, w)."""
        self._maps_given = (image, maps, probabilities, class_names, caption)
        if self._offer_layers(list(maps)):
            chosen = self.layer_combo.currentData()
            maps = {chosen: maps[chosen]} if chosen in maps else {}
        self._ensure_layers(maps)
        shown = image[0] if image.shape[0] == 1 else image.transpose(1, 2, 0)
        self.input_image.setImage((shown * 255).astype(np.uint8), autoLevels=False,
                                  levels=(0, 255))
        self.input_title.setText(caption or "input")
        self.view.setVisible(bool(maps))
        self.note.setVisible(not maps)
        self._maps = maps
        self._draw_grids()
        if probabilities is None:
            self.bars.clear()
        else:
            self.bars.set_probabilities(probabilities, class_names)

    def _offer_layers(self, names: list[str]) -> bool:
        """Whether one layer is shown at a time: then the layer choice is shown, and keeps
        the layer chosen while the network stays."""
        many = len(names) > MAX_COLUMNS
        self.layer_choice.setVisible(many)
        listed = [self.layer_combo.itemData(i) for i in range(self.layer_combo.count())]
        if not many or names == listed:
            return many
        current = self.layer_combo.currentData()
        self.layer_combo.blockSignals(True)
        self.layer_combo.clear()
        for name in names:
            self.layer_combo.addItem(name, name)
        self.layer_combo.setCurrentIndex(max(self.layer_combo.findData(current), 0))
        self.layer_combo.blockSignals(False)
        return True
