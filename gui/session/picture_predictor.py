"""Asking the window's model about picture files, off the GUI thread.

Each picture is decoded and prepared exactly as the training pictures were
(:func:`picture_tensor`: resized to the dataset's size, 1 or 3 channels, normalised), then
read by a CPU copy of the latest weights: the probabilities, the first conv layers'
feature maps and Grad-CAM for the predicted class. Requests queue on a lane of their own
(given by the :class:`~gui.session.analysis.AnalysisService`),
so a slow decode never holds up the Draw tab's answers. Every answer carries the version
of the weights it came from, so the view can tell an answer from older weights.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PySide6.QtCore import QObject, Signal

from cnn_core.data.bundle import DatasetInfo, denormalize
from cnn_core.inspect.analysis import feature_maps, saliency
from cnn_core.inspect.predict import ImageError, picture_tensor
from cnn_core.nn.models import StudioModel, model_for_weights
from cnn_core.runs.errors import first_line

from ..threads.tasks import Lane, TaskState

MAP_LAYERS = 2  # the first conv layers: what the picture becomes early on


@dataclass(frozen=True)
class PictureAnswer:
    path: Path
    image: np.ndarray  # (C, H, W) in 0..1: the picture as the network sees it
    probabilities: np.ndarray  # (classes,), summing to 1
    class_names: tuple[str, ...]
    maps: dict[str, np.ndarray]  # conv layer -> (channels, h, w), the first MAP_LAYERS
    grad_cam: np.ndarray | None  # (H, W) in 0..1 for the predicted class; None: no conv
    version: int  # the weights it came from

    @property
    def best(self) -> int:
        return int(np.argmax(self.probabilities))


@dataclass(frozen=True)
class Answers:
    pictures: list[PictureAnswer]
    errors: list[str]  # a line per file that could not be read, naming it


@dataclass(frozen=True)
class _Job:
    paths: tuple[Path, ...]
    meta: dict[str, Any]
    state: dict[str, torch.Tensor]
    dataset: DatasetInfo
    version: int


class PicturePredictor(QObject):
    """GUI-side front: ``predict`` from the GUI thread, ``answered`` back in it."""

    answered = Signal(object)  # Answers

    def __init__(self, lane: Lane, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._lane = lane
        self._closed = False
        self._meta: dict[str, Any] = {}
        self._dataset: DatasetInfo | None = None
        self._state: dict[str, torch.Tensor] | None = None
        self.version = 0  # of the weights: a new run or new weights count up
        self._busy = False
        self._waiting: list[Path] = []
        self._model: StudioModel | None = None  # touched only by the one running job
        self._model_meta: dict[str, Any] = {}
        self._loaded = -1  # the version the model holds

    @property
    def ready(self) -> bool:
        """Whether there is a model to ask (a run started or a checkpoint opened)."""
        return self._state is not None

    def set_run(self, meta: dict[str, Any], dataset: DatasetInfo) -> None:
        """A new run or checkpoint: its network and data; its weights follow."""
        self._meta, self._dataset, self._state = meta, dataset, None
        self.version += 1

    def set_weights(self, state: dict[str, torch.Tensor]) -> None:
        """Adopt the latest weights (a CPU copy, never changed afterwards)."""
        self._state = state
        self.version += 1
        if not self._busy:
            self._send()

    def predict(self, paths: Sequence[str | Path]) -> None:
        """Queue ``paths`` (a file already waiting is asked once); ``answered`` follows."""
        for path in map(Path, paths):
            if path not in self._waiting:
                self._waiting.append(path)
        if not self._busy:
            self._send()

    def _send(self) -> None:
        if self._closed or not self._waiting or self._state is None or self._dataset is None:
            return
        job = _Job(tuple(self._waiting), self._meta, self._state, self._dataset, self.version)
        self._waiting = []
        self._busy = True
        self._lane.run(self._compute, job, on_done=self._on_done)

    def _compute(self, state: TaskState, job: _Job) -> Answers:
        """In the lane's thread: every picture, or a line saying why not."""
        pictures: list[PictureAnswer] = []
        errors: list[str] = []
        for path in job.paths:
            if state.cancelled:
                break
            try:
                pictures.append(self._answer(job, path))
            except ImageError as exc:
                errors.append(str(exc))
            except Exception as exc:  # noqa: BLE001 - reported in the panel, never a crash
                errors.append(f"{path}: {type(exc).__name__}: {first_line(exc)}")
        return Answers(pictures, errors)

    def _answer(self, job: _Job, path: Path) -> PictureAnswer:
        model = self._model_for(job)
        x = picture_tensor(path, job.dataset)
        explained = saliency(model, x)
        maps = dict(list(feature_maps(model, x).items())[:MAP_LAYERS])
        image = denormalize(x, job.dataset)[0].numpy()
        return PictureAnswer(path, image, explained.probabilities, job.dataset.class_names,
                             maps, explained.grad_cam, job.version)

    def _model_for(self, job: _Job) -> StudioModel:
        if self._model is None or job.meta != self._model_meta:
            self._model = model_for_weights(job.meta).eval()
            self._model_meta, self._loaded = dict(job.meta), -1
        if self._loaded != job.version:
            self._model.load_state_dict(job.state)
            self._loaded = job.version
        return self._model

    def _on_done(self, answers: Answers) -> None:
        self._busy = False
        if self._closed:
            return
        self.answered.emit(answers)
        self._send()

    def close(self) -> None:
        """Drop what waits; nothing is sent or answered afterwards."""
        self._closed = True
        self._waiting.clear()
