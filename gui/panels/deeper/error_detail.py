"""The Errors tab's detail: where the network looked in the test image picked, and what
each layer made of it, with the latest weights."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSplitter, QWidget

from ...session.inference import ImageAnswer, InferenceChannel
from ...session.inside_state import Inspected, InsideState
from ...training.messages import RunInfo
from ..inside import FeatureMapsPanel, SaliencyPanel
from .errors import ErrorsPanel


class ErrorDetail(QSplitter):
    """``errorsSaliencyView`` above ``errorsFeatureMaps``, of the image picked last."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Vertical, parent)
        self.saliency = SaliencyPanel(view_name="errorsSaliencyView", probabilities=False)
        self.maps = FeatureMapsPanel(view_name="errorsFeatureMaps", browser=False)
        self.addWidget(self.saliency)
        self.addWidget(self.maps)
        self._index: int | None = None  # the test image shown

    def follow(self, errors: ErrorsPanel, state: InsideState,
               channel: InferenceChannel) -> None:
        """Explain each image picked in ``errors``; it becomes the image ``state``
        inspects (Saliency and Convolution then show it too)."""
        self._state, self._channel = state, channel
        state.runStarted.connect(self._on_run_started)
        state.momentChosen.connect(lambda _choice: self.saliency.follow_layers(state))
        errors.imageSelected.connect(self._on_picked)
        self.saliency.targetChanged.connect(lambda _target: self._ask())
        self.saliency.camLayerChanged.connect(lambda _layer: self._ask())
        channel.answered.connect(self._on_answer)

    def _on_run_started(self, info: RunInfo) -> None:
        self.saliency.set_classes(info.dataset.class_names)
        self._index = None

    def _on_picked(self, index: int) -> None:
        self._index = index
        self._state.inspect(Inspected(index))
        self._ask()

    def _ask(self) -> None:
        if self._index is not None and self._state.info is not None:
            image = self._state.display(self._index)
            self._channel.ask(self._state.normalise(image), self.saliency.target,
                              self.saliency.cam_layer)

    def _on_answer(self, answer: ImageAnswer) -> None:
        info, index = self._state.info, self._index
        if info is None or answer.error or index is None:
            return
        names = info.dataset.class_names
        caption = f"test image #{index} (a {names[info.test_labels[index]]})"
        image = self._state.display(index)
        self.saliency.set_result(image, answer.saliency, names, caption)
        self.maps.set_maps(image, answer.maps, answer.saliency.probabilities, names, caption)
