"""What one image looks like to the network: the input, every conv layer's activations,
and the class probabilities."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QVBoxLayout, QWidget

from .mosaic import SEQUENTIAL, Grid, grid_columns, render_grid


class FeatureMapsPanel(QWidget):
    """``featureMapsView``: input on the left, a grid per conv layer, probabilities below."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = pg.GraphicsLayoutWidget()
        self.view.setObjectName("featureMapsView")
        self.view.setBackground("w")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
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
        self.probabilities: np.ndarray | None = None

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
        self.input_title.setText(caption or "input")
        for name, fmap in maps.items():
            grid = render_grid(fmap, cols=grid_columns(len(fmap), aspect=0.5), cmap=SEQUENTIAL,
                               per_tile=False, signed=False)
            self.grids[name] = grid
            label, item = self._layer_items[name]
            label.setText(f"{name}: {len(fmap)} maps {fmap.shape[1]}x{fmap.shape[2]}")
            item.setImage(grid.rgba, autoLevels=False, levels=(0, 255))
        self.probabilities = probabilities
        if probabilities is not None:
            best = int(np.argmax(probabilities))
            brushes = ["#43a047" if i == best else "#90a4ae" for i in range(len(probabilities))]
            self.bars.setOpts(x=np.arange(len(probabilities)), height=probabilities,
                              brushes=brushes)
            names = class_names or tuple(map(str, range(len(probabilities))))
            self.probs_plot.getAxis("bottom").setTicks([list(enumerate(names))])
            self.probs_plot.setTitle(f"prediction: {names[best]} ({probabilities[best]:.1%})")
