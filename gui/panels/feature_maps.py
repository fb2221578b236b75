"""What one image looks like to the network: the input, every conv layer's activations,
and the class probabilities; with a browser over the test set (arrows, class filter)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from cnn_core.export.render import SEQUENTIAL, Grid, grid_columns, render_grid


def set_text(item: pg.LabelItem | pg.PlotItem, text: str) -> None:
    """Retitle only on a change: every new title makes the whole plot layout relayout."""
    if getattr(item, "_shown_text", None) != text:
        item._shown_text = text
        (item.setTitle if isinstance(item, pg.PlotItem) else item.setText)(text)


class FeatureMapsPanel(QWidget):
    """``featureMapsView``: input on the left, a grid per conv layer, probabilities below.

    With ``browser``, arrows and a class filter pick a test image: ``imageChosen(index)``.
    """

    imageChosen = Signal(int)

    def __init__(self, parent: QWidget | None = None, view_name: str = "featureMapsView",
                 browser: bool = True, probabilities: bool = True) -> None:
        super().__init__(parent)
        self.view = pg.GraphicsLayoutWidget()
        self.view.setObjectName(view_name)
        self.view.setBackground("w")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.prev_button = QPushButton("◀", objectName="imagePrev", toolTip="Previous image")
        self.next_button = QPushButton("▶", objectName="imageNext", toolTip="Next image")
        self.class_filter = QComboBox(objectName="imageClassFilter")
        self.image_label = QLabel("no test images yet", objectName="imageLabel")
        self._labels = np.zeros(0, np.int64)
        self._class_names: tuple[str, ...] = ()
        self._shown: np.ndarray = np.zeros(0, np.int64)  # test indices passing the filter
        self._position = 0
        if browser:
            bar = QHBoxLayout()
            bar.addWidget(QLabel("Test image"))
            bar.addWidget(self.prev_button)
            bar.addWidget(self.next_button)
            bar.addWidget(QLabel("class"))
            bar.addWidget(self.class_filter)
            bar.addWidget(self.image_label, 1)
            layout.addLayout(bar)
            self.prev_button.clicked.connect(lambda: self.step(-1))
            self.next_button.clicked.connect(lambda: self.step(+1))
            self.class_filter.currentIndexChanged.connect(self._on_filter_changed)
        layout.addWidget(self.view)
        self.grids: dict[str, Grid] = {}
        self._layer_items: dict[str, tuple[pg.LabelItem, pg.ImageItem]] = {}
        self._layout_key: tuple = ()
        self.input_title = self.view.addLabel(
            "Press Start: a test image and what every layer makes of it appear here",
            row=0, col=0, color="#333")
        self.input_box = self.view.addViewBox(row=1, col=0, lockAspect=True, invertY=True)
        self.input_image = pg.ImageItem()
        self.input_box.addItem(self.input_image)
        self.probs_plot = self.view.addPlot(row=2, col=0, title="class probabilities")
        self.probs_plot.setYRange(0, 1)
        self.probs_plot.setMouseEnabled(x=False, y=False)
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.7, brush="#1e88e5")
        self.probs_plot.addItem(self.bars)
        self.probs_plot.setVisible(probabilities)
        self.probabilities: np.ndarray | None = None

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
        for label, image in self._layer_items.values():
            self.view.removeItem(label)
            self.view.removeItem(image.getViewBox())
        self._layer_items = {}
        for col, name in enumerate(maps, start=1):
            label = self.view.addLabel(name, row=0, col=col, color="#333")
            box = self.view.addViewBox(row=1, col=col, rowspan=2, lockAspect=True, invertY=True)
            image = pg.ImageItem()
            box.addItem(image)
            self._layer_items[name] = (label, image)
        self._layout_key = key

    def set_maps(self, image: np.ndarray, maps: dict[str, np.ndarray],
                 probabilities: np.ndarray | None = None,
                 class_names: tuple[str, ...] = (), caption: str = "") -> None:
        """``image``: (C, H, W) in 0..1; ``maps``: layer -> (channels, h, w)."""
        self._ensure_layers(maps)
        shown = image[0] if image.shape[0] == 1 else image.transpose(1, 2, 0)
        self.input_image.setImage((shown * 255).astype(np.uint8), autoLevels=False,
                                  levels=(0, 255))
        set_text(self.input_title, caption or "input")
        for name, fmap in maps.items():
            grid = render_grid(fmap, cols=grid_columns(len(fmap), aspect=0.5), table=SEQUENTIAL,
                               per_tile=False, signed=False)
            self.grids[name] = grid
            label, item = self._layer_items[name]
            set_text(label, f"{name}: {len(fmap)} maps {fmap.shape[1]}x{fmap.shape[2]}")
            item.setImage(grid.rgba, autoLevels=False, levels=(0, 255))
        self.probabilities = probabilities
        if probabilities is not None:
            best = int(np.argmax(probabilities))
            brushes = ["#43a047" if i == best else "#90a4ae" for i in range(len(probabilities))]
            self.bars.setOpts(x=np.arange(len(probabilities)), height=probabilities,
                              brushes=brushes)
            names = class_names or tuple(map(str, range(len(probabilities))))
            self.probs_plot.getAxis("bottom").setTicks([list(enumerate(names))])
            set_text(self.probs_plot, f"prediction: {names[best]} ({probabilities[best]:.0%})")
