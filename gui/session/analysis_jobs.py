"""Analyses that need the network and take a while -- what filters want to see, where the
test images land, filters switched off -- off the GUI thread and off the training model.

Each job names the weights it is for (a snapshot's CPU copy, with a time-lapse moment's
layers over it when it is about that moment); each lane keeps one model per network and
loads them into it. A job has a key, local to the :class:`AnalysisClient` that submits it:
a new job under a key cancels the one before (a running one stops at its next check and
its result is dropped). t-SNE cannot stop midway, so it runs on a second lane, and nothing
else waits behind it. The lanes belong to :class:`gui.session.analysis.AnalysisService`;
each view asking for such work has a client of its own on them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from PySide6.QtCore import QObject, QTimer, Signal

from cnn_core.inspect.cancel import Cancelled
from cnn_core.nn.models import StudioModel, model_for_weights

from ..threads.tasks import Lane, Task, TaskState

Job = Callable[[StudioModel | None, TaskState], Any]


@dataclass(frozen=True)
class Weights:
    meta: dict[str, Any]  # what model_for_weights builds
    state: dict[str, torch.Tensor]  # a whole state dict, on the CPU
    overlay: dict[str, np.ndarray] | None = None  # entries of an earlier moment, over it


class ModelCache:
    """One model, rebuilt only when the network changes, loaded with the weights asked for."""

    def __init__(self) -> None:
        self.meta: dict[str, Any] | None = None
        self.model: StudioModel | None = None

    def load(self, weights: Weights) -> StudioModel:
        if self.model is None or weights.meta != self.meta:
            self.model, self.meta = model_for_weights(weights.meta).eval(), dict(weights.meta)
        self.model.load_state_dict(weights.state)
        if weights.overlay:
            self.model.load_state_dict({k: torch.from_numpy(v) for k, v in
                                        weights.overlay.items()}, strict=False)
        return self.model


@dataclass(frozen=True)
class JobLane:
    """A lane and the model its jobs share (touched only in the lane's thread)."""

    lane: Lane
    cache: ModelCache


class AnalysisClient(QObject):
    """``submit`` from the GUI thread; ``finished``, ``failed`` and ``progressed`` come back
    in it, only for the newest job of each key. ``lanes[False]`` runs what can be
    cancelled midway, ``lanes[True]`` what cannot."""

    finished = Signal(str, object)  # key, the job's result
    failed = Signal(str, str)  # key, what went wrong
    progressed = Signal(str, float, float)  # key, done, total

    def __init__(self, lanes: dict[bool, JobLane], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._lanes = lanes
        self._tasks: dict[str, Task] = {}
        self._closed = False  # after close: nothing new, no late answers

    def submit(self, key: str, weights: Weights | None, job: Job, *, slow: bool = False) -> None:
        """Run ``job(model, task_state)`` with ``weights`` loaded (None: no model, for work
        on arrays alone); ``slow``: on the lane for work that cannot be cancelled midway."""
        if self._closed:
            return
        self.cancel(key)
        task = Task(self._run, self._lanes[slow].cache, weights, job)
        self._tasks[key] = task
        task.progressed.connect(lambda done, total, _text: self._current(key, task) and
                                self.progressed.emit(key, done, total))
        task.succeeded.connect(lambda result: self._done(key, task, result))
        task.failed.connect(lambda exc: self._done(key, task, exc))
        self._lanes[slow].lane.start(task)

    @staticmethod
    def _run(state: TaskState, cache: ModelCache, weights: Weights | None, job: Job) -> Any:
        try:
            return job(None if weights is None else cache.load(weights), state)
        except Cancelled:
            return None

    def _current(self, key: str, task: Task) -> bool:
        return not self._closed and self._tasks.get(key) is task and not task.state.cancelled

    def _done(self, key: str, task: Task, result: Any) -> None:
        if not self._current(key, task):
            return
        del self._tasks[key]
        if isinstance(result, Exception):
            self.failed.emit(key, f"{type(result).__name__}: {result}")
        else:
            self.finished.emit(key, result)

    def busy(self, key: str) -> bool:
        return key in self._tasks

    def cancel(self, key: str) -> None:
        task = self._tasks.pop(key, None)
        if task is not None:
            task.cancel()

    def cancel_all(self, prefix: str = "") -> None:
        """Cancel every job whose key starts with ``prefix``."""
        for key in [k for k in self._tasks if k.startswith(prefix)]:
            self.cancel(key)

    def close(self) -> None:
        """Cancel everything; nothing is started or answered afterwards."""
        self.cancel_all()
        self._closed = True


class Pace(QObject):
    """Keeps work that only follows a run to ``share`` of the time (on two cores, every
    second of it is a second training waits): after a job that took t seconds, the next
    one waits t * (1/share - 1); ``due`` says when it may go."""

    due = Signal()

    def __init__(self, share: float, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.share = share
        self._started = self._next = 0.0
        self._timer = QTimer(self, singleShot=True)
        self._timer.timeout.connect(self.due)

    def begin(self) -> None:
        self._started = time.monotonic()

    def end(self) -> None:
        now = time.monotonic()
        self._next = now + (now - self._started) * (1 / self.share - 1)

    def hold(self) -> bool:
        """True while following the run must wait; ``due`` comes when it may go."""
        wait = self._next - time.monotonic()
        if wait > 0:
            self._timer.start(int(wait * 1000) + 1)
        return wait > 0

    def stop(self) -> None:
        self._timer.stop()
