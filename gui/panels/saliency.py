"""Where the network looked: Grad-CAM and the input gradient over the image, for the
predicted class or any class chosen."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from cnn_core.inspect.analysis import Saliency

from .feature_maps import set_text

HEAT = pg.colormap.get("inferno")
_HEAT_TABLE = HEAT.getLookupTable(0.0, 1.0, 256, alpha=False, mode="byte").astype(np.float32)


def overlay(image: np.ndarray, heat: np.ndarray, strength: float = 0.65) -> np.ndarray:
    """(C, H, W) image in 0..1 and (H, W) heat in 0..1 -> (H, W, 3) uint8 blend; the
    heat shows where it is strong and the image shows through where it is weak."""
    base = image[0] if image.shape[0] == 1 else image.mean(axis=0)
    rgb = np.repeat(base[..., None] * 255, 3, axis=-1)
    colour = _HEAT_TABLE[np.clip(np.rint(heat * 255), 0, 255).astype(np.uint8)]
    alpha = strength * heat[..., None]
    return ((1 - alpha) * rgb + alpha * colour).astype(np.uint8)


class SaliencyPanel(QWidget):
    """``targetChanged(class or -1)``: the class to explain (-1: the predicted one)."""

    targetChanged = Signal(int)

    def __init__(self, parent: QWidget | None = None, view_name: str = "saliencyView",
                 probabilities: bool = True) -> None:
        super().__init__(parent)
        self.view = pg.GraphicsLayoutWidget()
        self.view.setObjectName(view_name)
        self.view.setBackground("w")
        self.target_combo = QComboBox(objectName=f"{view_name}Target")
        self.target_combo.addItem("the predicted class", -1)
        self.caption = QLabel("Pick an image (Feature maps, Errors or Draw) to see where the "
                              "network looks.", wordWrap=True)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Explain"))
        bar.addWidget(self.target_combo)
        bar.addWidget(self.caption, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(self.view, 1)
        self.images: dict[str, pg.ImageItem] = {}
        self.titles: dict[str, pg.LabelItem] = {}
        for col, (key, title) in enumerate((("input", "input"),
                                            ("cam", "Grad-CAM (last conv layer)"),
                                            ("gradient", "input gradient"))):
            self.titles[key] = self.view.addLabel(title, row=0, col=col, color="#333")
            box = self.view.addViewBox(row=1, col=col, lockAspect=True, invertY=True)
            self.images[key] = pg.ImageItem()
            box.addItem(self.images[key])
        self.probs = self.view.addPlot(row=2, col=0, colspan=3, title="class probabilities")
        self.probs.setYRange(0, 1)
        self.probs.setMouseEnabled(x=False, y=False)
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.7, brush="#90a4ae")
        self.probs.addItem(self.bars)
        self.probs.setVisible(probabilities)
        self.result: Saliency | None = None
        self.target_combo.currentIndexChanged.connect(
            lambda _i: self.targetChanged.emit(self.target_combo.currentData()))

    @property
    def target(self) -> int | None:
        value = self.target_combo.currentData()
        return None if value is None or value < 0 else int(value)

    def set_classes(self, class_names: tuple[str, ...]) -> None:
        self.target_combo.blockSignals(True)
        self.target_combo.clear()
        self.target_combo.addItem("the predicted class", -1)
        for i, name in enumerate(class_names):
            self.target_combo.addItem(f"class {name}", i)
        self.target_combo.blockSignals(False)
        self._class_names = class_names

    def set_result(self, image: np.ndarray, result: Saliency, class_names: tuple[str, ...],
                   caption: str) -> None:
        """``image``: (C, H, W) in 0..1 as shown to a person."""
        self.result = result
        shown = image[0] if image.shape[0] == 1 else image.transpose(1, 2, 0)
        self.images["input"].setImage((shown * 255).astype(np.uint8), autoLevels=False,
                                      levels=(0, 255))
        self.images["cam"].setImage(overlay(image, result.grad_cam), autoLevels=False,
                                    levels=(0, 255))
        self.images["gradient"].setImage(overlay(image, result.gradient), autoLevels=False,
                                         levels=(0, 255))
        probs = result.probabilities
        best = int(np.argmax(probs))
        self.bars.setOpts(x=np.arange(len(probs)), height=probs,
                          brushes=["#43a047" if i == best else
                                   "#fb8c00" if i == result.target else "#90a4ae"
                                   for i in range(len(probs))])
        self.probs.getAxis("bottom").setTicks([list(enumerate(class_names))])
        explained = class_names[result.target]
        self.caption.setText(f"{caption}: predicted {class_names[best]} ({probs[best]:.1%}); "
                             f"explaining {explained}")
        set_text(self.titles["cam"], f"Grad-CAM for {explained}")
        set_text(self.titles["gradient"], f"input gradient for {explained}")
