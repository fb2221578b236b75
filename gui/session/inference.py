"""Inference for the interactive views, off the GUI thread and off the training model.

``InferenceClient`` keeps a CPU copy of the latest weights (from the snapshots) and
answers requests -- feature maps, probabilities, saliency, a feature-map pixel taken
apart -- for a test image or a drawing, one at a time, on a lane of its own (given by the
:class:`~gui.session.analysis.AnalysisService`) whose torch runs on one core.

Each view asks through an :class:`InferenceChannel` of its own and hears only its own
answers, typed (:class:`ImageAnswer`, :class:`PixelAnswer`). At most one request is in
flight; a newer request on a channel replaces its waiting one, so drawing fast never
builds a queue and the answer shown is for the latest input.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from PySide6.QtCore import QObject, Signal

from cnn_core.inspect.analysis import Saliency, feature_maps, saliency
from cnn_core.inspect.explain import MapPixel, explain_map_pixel
from cnn_core.nn.models import StudioModel, model_for_weights

from ..threads.tasks import Lane, TaskState
from .analysis_jobs import ModelCache, Weights


Pixel = tuple[str, int, int | None, int | None]  # layer, channel, row, col (None: strongest)


@dataclass(frozen=True)
class ImageAnswer:
    """What the network makes of one image: its feature maps and its saliency."""

    maps: dict[str, np.ndarray]
    saliency: Saliency | None
    error: str = ""


@dataclass(frozen=True)
class PixelAnswer:
    """One feature-map pixel taken apart."""

    pixel: MapPixel | None
    error: str = ""


@dataclass(frozen=True)
class _Request:
    channel: InferenceChannel
    image: np.ndarray  # (C, H, W) float32, normalised as the network expects
    target: int | None  # class to explain; None = the predicted one
    seq: int
    pixel: Pixel | None  # explain that feature-map pixel instead
    # state-dict entries at an earlier moment (the time-lapse's); None = the latest weights
    weights: dict[str, np.ndarray] | None
    cam_layer: str | None = None  # the conv layer Grad-CAM weighs; None: the last block


class InferenceChannel(QObject):
    """One view's way to the inference lane: ``answered`` carries only the answer to its
    own latest request."""

    answered = Signal(object)  # ImageAnswer | PixelAnswer

    def __init__(self, client: InferenceClient, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._client = client

    @property
    def ready(self) -> bool:
        """Whether there are weights to ask (a run started or a checkpoint opened)."""
        return self._client.ready

    def ask(self, image: np.ndarray, target: int | None = None,
            cam_layer: str | None = None) -> None:
        """Feature maps and saliency (for ``target``; None: the predicted class; Grad-CAM
        on ``cam_layer``, None: the last conv block) of ``image``, (C, H, W) normalised as
        the network expects."""
        self._client.request(self, image, target, None, None, cam_layer)

    def ask_pixel(self, image: np.ndarray, pixel: Pixel,
                  weights: dict[str, np.ndarray] | None = None) -> None:
        """``pixel`` of ``image`` taken apart (with ``weights``: as the network was then)."""
        self._client.request(self, image, None, pixel, weights)


class InferenceClient(QObject):
    """The lane's GUI-side front: :meth:`channel` gives a view its way in."""

    def __init__(self, lane: Lane, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._lane = lane
        self._lock = threading.Lock()
        self._new_weights: tuple[dict, dict] | None = None
        self._model: StudioModel | None = None  # touched only by the one running job
        self._meta: dict[str, Any] = {}
        self._state: dict[str, torch.Tensor] = {}  # the latest weights, as loaded
        self._past = ModelCache()  # the same network at a time-lapse moment
        self._busy = False
        self._waiting: dict[InferenceChannel, _Request] = {}  # each channel's newest unsent
        self._latest: dict[InferenceChannel, int] = {}
        self._seq = 0
        self._closed = False
        self.ready = False

    def channel(self, parent: QObject | None = None) -> InferenceChannel:
        return InferenceChannel(self, parent)

    def set_weights(self, meta: dict, state: dict) -> None:
        """Adopt new weights before the next request (the newest pair wins)."""
        with self._lock:
            self._new_weights = (meta, state)
        self.ready = True

    def request(self, channel: InferenceChannel, image: np.ndarray, target: int | None,
                pixel: Pixel | None, weights: dict[str, np.ndarray] | None,
                cam_layer: str | None = None) -> None:
        if not self.ready or self._closed:
            return
        self._seq += 1
        self._latest[channel] = self._seq
        req = _Request(channel, np.ascontiguousarray(image, dtype=np.float32), target,
                       self._seq, pixel, weights, cam_layer)
        if self._busy:
            self._waiting[channel] = req  # replaces that channel's older waiting request
        else:
            self._send(req)

    def _send(self, req: _Request) -> None:
        self._busy = True
        self._lane.run(self._compute, req, on_done=lambda answer: self._on_answered(req, answer))

    def _compute(self, _state: TaskState,
                 request: _Request) -> ImageAnswer | PixelAnswer:
        """In the lane's thread: load new weights if any, then answer."""
        try:
            with self._lock:
                new, self._new_weights = self._new_weights, None
            if new is not None:
                meta, state = new
                if self._model is None or meta != self._meta:
                    self._model = model_for_weights(meta).eval()
                    self._meta = dict(meta)
                self._model.load_state_dict(state)
                self._state = state
            image = torch.from_numpy(request.image)
            if request.pixel is not None:
                model = self._model_at(request.weights)
                return PixelAnswer(explain_map_pixel(model, image, *request.pixel))
            return ImageAnswer(feature_maps(self._model, image),
                               saliency(self._model, image, request.target, request.cam_layer))
        except Exception as exc:  # noqa: BLE001 - reported in the panel, never a crash
            error = f"{type(exc).__name__}: {exc}"
            if request.pixel is not None:
                return PixelAnswer(None, error)
            return ImageAnswer({}, None, error)

    def _model_at(self, weights: dict[str, np.ndarray] | None) -> StudioModel:
        """The latest model, or a second one with ``weights`` over the latest ones."""
        if weights is None:
            return self._model
        return self._past.load(Weights(self._meta, self._state, weights))

    def _on_answered(self, req: _Request, answer: ImageAnswer | PixelAnswer) -> None:
        self._busy = False
        if self._closed:
            return
        if self._waiting:
            self._send(self._waiting.pop(next(iter(self._waiting))))
        if req.seq == self._latest.get(req.channel):
            req.channel.answered.emit(answer)

    def close(self) -> None:
        """Drop what waits; nothing is sent or answered afterwards."""
        self._closed = True
        self._waiting.clear()
