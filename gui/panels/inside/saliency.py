"""Where the network looked: Grad-CAM and the input gradient over the image, for the
predicted class or any class chosen."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QComboBox, QGridLayout, QHBoxLayout, QLabel, QVBoxLayout,
                               QWidget)

from cnn_core.inspect.analysis import Saliency

from ...session.inference import ImageAnswer, InferenceChannel
from ...session.inside_state import InsideState
from ...widgets.layer_combo import LayerCombo
from ...widgets.panel_parts import set_text, white_box
from ...widgets.probability_bars import ProbabilityBars
from ...widgets.when_shown import WhenShown

HEAT = pg.colormap.get("inferno")
PROBABILITIES_WIDTH = 190
IMAGE_WIDTH = 200  # preferred: each image column shrinks or grows from it alike
_HEAT_TABLE = HEAT.getLookupTable(0.0, 1.0, 256, alpha=False, mode="byte").astype(np.float32)


def overlay(image: np.ndarray, heat: np.ndarray, strength: float = 0.65) -> np.ndarray:
    """(C, H, W) image in 0..1 and (H, W) heat in 0..1 -> (H, W, 3) uint8 blend; the
    heat shows where it is strong and the image shows through where it is weak."""
    base = image[0] if image.shape[0] == 1 else image.mean(axis=0)
    rgb = np.repeat(base[..., None] * 255, 3, axis=-1)
    colour = _HEAT_TABLE[np.clip(np.rint(heat * 255), 0, 255).astype(np.uint8)]
    alpha = strength * heat[..., None]
    return ((1 - alpha) * rgb + alpha * colour).astype(np.uint8)


LAST_BLOCK = "the last conv block"


class SaliencyPanel(QWidget):
    """``targetChanged(class or -1)``: the class to explain (-1: the predicted one);
    ``camLayerChanged(layer or None)``: the conv layer Grad-CAM weighs (None: the last
    conv layer, or a backbone's last block)."""

    targetChanged = Signal(int)
    camLayerChanged = Signal(object)

    def __init__(self, parent: QWidget | None = None, view_name: str = "saliencyView",
                 probabilities: bool = True) -> None:
        super().__init__(parent)
        self.view = pg.GraphicsLayoutWidget()
        self.view.setObjectName(view_name)
        self.view.setBackground("w")
        self.target_combo = QComboBox(objectName=f"{view_name}Target")
        self.target_combo.addItem("the predicted class", -1)
        self.cam_combo = LayerCombo(objectName=f"{view_name}CamLayer", characters=12)
        self.cam_combo.addItem(LAST_BLOCK, None)
        self.cam_combo.setToolTip("The conv layer whose maps Grad-CAM weighs: by default the "
                                  "last one (a backbone's last block), whose maps see the "
                                  "most; an earlier one points finer, at simpler things.")
        self.caption = QLabel("Pick an image (Feature maps, Errors or Draw) to see where the "
                              "network looks.", wordWrap=True)
        self.caption.setToolTip("Grad-CAM: where a conv layer's evidence for the class is (the "
                                "last one's unless chosen). Input gradient: which pixels "
                                "would change it most.")
        bar = QGridLayout()  # two rows: the Errors panel shows this view in a narrow column
        bar.addWidget(QLabel("Explain"), 0, 0)
        bar.addWidget(self.target_combo, 0, 1)
        bar.addWidget(QLabel("Grad-CAM on"), 1, 0)
        bar.addWidget(self.cam_combo, 1, 1)
        bar.setColumnStretch(2, 1)
        self.images: dict[str, pg.ImageItem] = {}
        # short fixed titles, to fit narrow columns: the caption names the class explained
        for col, (key, title) in enumerate((("input", "input"), ("cam", "Grad-CAM"),
                                            ("gradient", "input gradient"))):
            label = self.view.addLabel(title, row=0, col=col, color="#333")
            if key == "cam":
                self.cam_title = label
            box = self.view.addViewBox(row=1, col=col, lockAspect=True, invertY=True)
            self.images[key] = pg.ImageItem(axisOrder="row-major")
            box.addItem(self.images[key])
            # three images of one size, however long their titles
            self.view.ci.layout.setColumnPreferredWidth(col, IMAGE_WIDTH)
            self.view.ci.layout.setColumnStretchFactor(col, 1)
        self.bars = ProbabilityBars(object_name=f"{view_name}Probabilities")
        self.bars.setFixedWidth(PROBABILITIES_WIDTH)
        self.bars.setVisible(probabilities)
        canvas = white_box()
        body = QHBoxLayout(canvas)
        body.setContentsMargins(0, 0, 0, 0)
        body.addWidget(self.view, 1)
        body.addWidget(self.bars)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(self.caption)  # a row of its own: it wraps in a narrow panel
        layout.addWidget(canvas, 1)
        self.result: Saliency | None = None
        self.target_combo.currentIndexChanged.connect(
            lambda _i: self.targetChanged.emit(self.target_combo.currentData()))
        self.cam_combo.currentIndexChanged.connect(
            lambda _i: self.camLayerChanged.emit(self.cam_layer))

    def follow(self, state: InsideState, channel: InferenceChannel) -> None:
        """Explain the image ``state`` inspects, with the latest weights, when shown: asked
        again for another image, class or moment."""
        self._state, self._channel = state, channel
        ask = WhenShown(self, self._ask)
        state.runStarted.connect(lambda info: self.set_classes(info.dataset.class_names))
        state.inspectedChanged.connect(lambda _inspected: ask.due())
        state.momentChosen.connect(lambda _choice: (self.follow_layers(state), ask.due()))
        self.targetChanged.connect(lambda _target: ask.due())
        self.camLayerChanged.connect(lambda _layer: ask.due())
        channel.answered.connect(self._on_answer)
        if state.info is not None:
            self.set_classes(state.info.dataset.class_names)
            self.follow_layers(state)
            ask.due()

    def _ask(self) -> None:
        inspected = self._state.inspected_image()
        if inspected is not None:
            self._channel.ask(self._state.normalise(inspected[0]), self.target, self.cam_layer)

    def _on_answer(self, answer: ImageAnswer) -> None:
        inspected = self._state.inspected_image()
        if answer.error or inspected is None:
            return
        image, caption = inspected
        self.set_result(image, answer.saliency, self._state.info.dataset.class_names, caption)

    @property
    def cam_layer(self) -> str | None:
        return self.cam_combo.currentData()

    def follow_layers(self, state: InsideState) -> None:
        """Offer the conv layers of the moment ``state`` chooses."""
        if state.moment is not None:
            self.set_layers(list(state.moment.filters))

    def set_layers(self, names: list[str]) -> None:
        """The conv layers Grad-CAM can weigh; the choice is kept while it stays."""
        if names == [self.cam_combo.itemData(i) for i in range(1, self.cam_combo.count())]:
            return
        current = self.cam_layer
        self.cam_combo.blockSignals(True)
        self.cam_combo.clear()
        self.cam_combo.addItem(LAST_BLOCK, None)
        for name in names:
            self.cam_combo.addItem(name, name)
        self.cam_combo.setCurrentIndex(max(self.cam_combo.findData(current), 0))
        self.cam_combo.blockSignals(False)
        self.cam_combo.setEnabled(bool(names))

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
        if result.grad_cam is None:  # no conv layer: nothing to weigh
            self.images["cam"].clear()
        else:
            self.images["cam"].setImage(overlay(image, result.grad_cam), autoLevels=False,
                                        levels=(0, 255))
        set_text(self.cam_title, "Grad-CAM" if result.grad_cam is not None else
                 "no Grad-CAM: it needs<br>a conv layer")
        self.images["gradient"].setImage(overlay(image, result.gradient), autoLevels=False,
                                         levels=(0, 255))
        probs = result.probabilities
        best = int(np.argmax(probs))
        self.bars.set_probabilities(probs, class_names, target=result.target)
        on = "" if self.cam_layer is None else f", Grad-CAM on {self.cam_layer}"
        self.caption.setText(f"{caption}: predicted {class_names[best]} ({probs[best]:.1%}); "
                             f"explaining {class_names[result.target]}{on}"
                             + ("" if result.grad_cam is not None else
                                ". This network has no conv layer, so there is no Grad-CAM "
                                "(it weighs the last conv layer's maps); the input gradient "
                                "still shows which pixels matter."))
