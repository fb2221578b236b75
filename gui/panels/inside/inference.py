"""Inference for the interactive views, off the GUI thread and off the training model.

``InferenceClient`` keeps a CPU copy of the latest weights (from the snapshots) and
answers requests -- feature maps, probabilities, saliency, a feature-map pixel taken
apart -- for a test image or a drawing, one at a time, on a lane of its own whose torch
runs on one core. At most one request is in flight; a newer request from the same panel
replaces a waiting one, so drawing fast never builds a queue and the answer shown is for
the latest input.
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

from ...threads.tasks import Lane, TaskState
from .analysis import ModelCache, Weights


@dataclass(frozen=True)
class Request:
    key: str  # who asked (a panel name): results go back under it
    image: np.ndarray  # (C, H, W) float32, normalised as the network expects
    target: int | None = None  # class to explain; None = the predicted one
    seq: int = 0
    # (layer, channel, row, col): explain that feature-map pixel instead (row/col None: the
    # strongest one)
    pixel: tuple[str, int, int | None, int | None] | None = None
    # state-dict entries at an earlier moment (the time-lapse's); None = the latest weights
    weights: dict[str, np.ndarray] | None = None


@dataclass(frozen=True)
class Result:
    key: str
    seq: int
    maps: dict[str, np.ndarray]
    saliency: Saliency | None
    error: str = ""
    pixel: MapPixel | None = None


class InferenceClient(QObject):
    """GUI-side front: ``request`` from the GUI thread, ``resultReady`` back in it."""

    resultReady = Signal(object)  # Result, for the latest request of its key

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._lane = Lane("InferenceThread", self)
        self._lock = threading.Lock()
        self._new_weights: tuple[dict, dict] | None = None
        self._model: StudioModel | None = None  # touched only by the one running job
        self._meta: dict[str, Any] = {}
        self._state: dict[str, torch.Tensor] = {}  # the latest weights, as loaded
        self._past = ModelCache()  # the same network at a time-lapse moment
        self._busy = False
        self._waiting: dict[str, Request] = {}  # the newest unsent request of each panel
        self._latest: dict[str, int] = {}
        self._seq = 0
        self.ready = False

    def set_weights(self, meta: dict, state: dict) -> None:
        """Adopt new weights before the next request (the newest pair wins)."""
        with self._lock:
            self._new_weights = (meta, state)
        self.ready = True

    def request(self, key: str, image: np.ndarray, target: int | None = None, *,
                pixel: tuple[str, int, int | None, int | None] | None = None,
                weights: dict[str, np.ndarray] | None = None) -> None:
        """Ask for maps and saliency of ``image``, or with ``pixel`` for that pixel taken
        apart (with ``weights``: as the network was then); ``resultReady`` answers."""
        if not self.ready:
            return
        self._seq += 1
        self._latest[key] = self._seq
        req = Request(key, np.ascontiguousarray(image, dtype=np.float32), target, self._seq,
                      pixel, weights)
        if self._busy:
            self._waiting[key] = req  # replaces that panel's older waiting request
        else:
            self._send(req)

    def _send(self, req: Request) -> None:
        self._busy = True
        self._lane.run(self._compute, req, on_done=self._on_answered)

    def _compute(self, _state: TaskState, request: Request) -> Result:
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
                result = Result(request.key, request.seq, {}, None,
                                pixel=explain_map_pixel(model, image, *request.pixel))
            else:
                result = Result(request.key, request.seq, feature_maps(self._model, image),
                                saliency(self._model, image, request.target))
        except Exception as exc:  # noqa: BLE001 - reported in the panel, never a crash
            result = Result(request.key, request.seq, {}, None, f"{type(exc).__name__}: {exc}")
        return result

    def _model_at(self, weights: dict[str, np.ndarray] | None) -> StudioModel:
        """The latest model, or a second one with ``weights`` over the latest ones."""
        if weights is None:
            return self._model
        return self._past.load(Weights(self._meta, self._state, weights))

    def _on_answered(self, result: Result) -> None:
        self._busy = False
        if self._waiting:
            self._send(self._waiting.pop(next(iter(self._waiting))))
        if result.seq == self._latest.get(result.key):
            self.resultReady.emit(result)

    def shutdown(self, timeout_ms: int = 5000) -> None:
        self._waiting.clear()
        self._lane.shutdown(timeout_ms)
