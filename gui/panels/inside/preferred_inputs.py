"""What each filter wants to see: for every filter of a conv layer, the input that excites
it most (found by gradient ascent from noise). For the first layer, whose kernel is itself
a small picture, the kernel is drawn beside its preferred input."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from cnn_core.export.render import DIVERGING, MEAN, Grid, colour, grid_columns, kernel_tiles
from cnn_core.export.render import lay_out

from ...widgets.grid_view import GridView

HINT = ("Each tile is the input that makes one filter's feature map brightest on average, "
        "found by gradient ascent from noise (with jitter and blur, so that it stays a "
        "picture). A plain tile means the filter answers most to a plain background. While "
        "training they follow the run every few epochs, so that training keeps its speed.")


def _stretch(tiles: np.ndarray, height: int, width: int) -> np.ndarray:
    """(n, h, w, 4) tiles enlarged to (n, height, width, 4) without blurring."""
    rows = np.arange(height) * tiles.shape[1] // height
    cols = np.arange(width) * tiles.shape[2] // width
    return tiles[:, rows][:, :, cols]


def preferred_grid(images: np.ndarray, kernels: np.ndarray | None, rgb_input: bool,
                   aspect: float) -> Grid:
    """``images`` (n, C, H, W) in 0..1, drawn as they are (no stretching: a flat tile is
    flat, at its own brightness); with ``kernels`` (n, in, kh, kw), each tile is the
    kernel (blue negative, red positive) then a gap then the image."""
    n, channels, height, width = images.shape
    pixels = np.rint(np.clip(images, 0, 1) * 255).astype(np.uint8).transpose(0, 2, 3, 1)
    tiles = np.concatenate([np.repeat(pixels, 3, axis=3) if channels == 1 else pixels,
                            np.full((n, height, width, 1), 255, np.uint8)], axis=3)
    if kernels is not None:
        drawn = colour(kernel_tiles(np.asarray(kernels, np.float32), MEAN, rgb_input),
                       DIVERGING)
        gap = np.full((n, height, max(1, width // 14), 4), 255, np.uint8)
        tiles = np.concatenate([_stretch(drawn, height, width), gap, tiles], axis=2)
    cols = grid_columns(n, aspect * tiles.shape[1] / tiles.shape[2])
    return lay_out(tiles, cols, pad=max(1, width // 10))


class PreferredInputsView(QWidget):
    """``activationMaxView`` with its progress; ``cancelRequested`` when Cancel is pressed."""

    cancelRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = GridView(object_name="activationMaxView")
        self.progress = QProgressBar(objectName="activationMaxProgress")
        self.progress.setFormat("finding preferred inputs… %p%")
        self.cancel_button = QPushButton("Cancel", objectName="activationMaxCancel")
        self.cancel_button.clicked.connect(self.cancelRequested)
        self.note = QLabel(HINT, wordWrap=True)
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(self.progress, 1)
        bar.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.note)
        layout.addLayout(bar)
        layout.addWidget(self.view, 1)
        self.set_busy(False)
        self.shown_for: tuple[str, float] | None = None  # (layer, moment) of the tiles

    @property
    def grid(self) -> Grid | None:
        return self.view.grid

    def set_progress(self, done: float, total: float) -> None:
        self.progress.setRange(0, int(total))
        self.progress.setValue(int(done))
        self.set_busy(True)

    def set_busy(self, busy: bool) -> None:
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)
        if busy and self.progress.maximum() == 0:
            self.progress.setRange(0, 0)

    def show_inputs(self, layer: str, moment: float, images: np.ndarray,
                    kernels: np.ndarray | None, rgb_input: bool, caption: str) -> None:
        """``images`` (n, C, H, W) in 0..1, one per filter of ``layer`` in order."""
        self.set_busy(False)
        self.shown_for = (layer, moment)
        grid = preferred_grid(images, kernels, rgb_input, self.view.aspect())
        what = "kernel and preferred input" if kernels is not None else "preferred input"
        self.view.set_grid(grid, f"{layer}: {what} of each of {len(images)} filters — {caption}",
                           describe=lambda i: f"{layer}, filter {i}: the input that excites "
                                             "it most")

    def clear(self, title: str = "") -> None:
        self.set_busy(False)
        self.shown_for = None
        self.view.clear_grid(title)
