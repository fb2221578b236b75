"""What the curves are drawn from: runs to overlay, the smoothed batch loss, where each
batch sits on an axis in epochs, and round axis limits. No widgets here."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from cnn_core.runs.store import BatchLog
from cnn_core.train.callbacks import EpochMetrics

SMOOTHING = 0.9  # weight of the past in the smoothed batch loss (TensorBoard-style, debiased)
LR_HAIR = 0.005  # decades: a smaller move of the learning rate adds no point to its curve


@dataclass
class Overlay:
    """Another run drawn behind the live one, to compare against."""

    key: str  # stable identity (the run folder): the run keeps its colour while overlaid
    name: str
    history: list[EpochMetrics]
    batches: BatchLog | None = None


class Smoother:
    """The smoothed batch loss: an exponential moving average, debiased like TensorBoard's
    so that the first points are not pulled towards zero."""

    def __init__(self) -> None:
        self._ema = 0.0
        self._n = 0

    def extend(self, losses: Iterable[float]) -> list[float]:
        out = []
        for loss in losses:
            self._n += 1
            self._ema = SMOOTHING * self._ema + (1 - SMOOTHING) * loss
            out.append(self._ema / (1 - SMOOTHING**self._n))
        return out


class LrTrace:
    """The learning rate batch by batch, on a log axis (``ys`` are log10 of the rate),
    with a point only where it moved by more than a hair: a per-batch schedule costs a few
    hundred points, a step schedule a few. The last batch's point closes the curve."""

    def __init__(self) -> None:
        self.xs: list[float] = []
        self.ys: list[float] = []
        self._tail: tuple[float, float] | None = None

    def extend(self, xs: Iterable[float], lrs: Iterable[float]) -> None:
        for x, lr in zip(xs, lrs):
            if not (lr > 0 and math.isfinite(lr)):
                continue
            y = math.log10(lr)
            if not self.ys or abs(y - self.ys[-1]) >= LR_HAIR:
                if self._tail is not None and self._tail[0] != self.xs[-1]:
                    self.xs.append(self._tail[0])  # the old rate held until here
                    self.ys.append(self.ys[-1])
                self.xs.append(x)
                self.ys.append(y)
            self._tail = (x, y)

    def curve(self) -> tuple[list[float], list[float]]:
        """(x, log10 rate) to draw."""
        if self._tail is None or self._tail[0] == self.xs[-1]:
            return self.xs, self.ys
        return [*self.xs, self._tail[0]], [*self.ys, self.ys[-1]]

    def __len__(self) -> int:
        return len(self.xs)


def batch_positions(epochs: np.ndarray) -> np.ndarray:
    """x (in epochs) of every batch of a log, where a live batch goes: batch i of n in
    epoch e at e - 1 + i / n. A last, unfinished epoch is spread over as many batches as
    the one before it had."""
    if len(epochs) == 0:
        return np.zeros(0)
    _, first, inverse, counts = np.unique(epochs, return_index=True, return_inverse=True,
                                          return_counts=True)
    if len(counts) > 1:
        counts[-1] = max(counts[-1], counts[-2])
    rank = np.arange(len(epochs)) - first[inverse] + 1
    return epochs - 1 + rank / counts[inverse]


def nice_ceiling(value: float) -> float:
    """The next of 1, 1.5, 2, 3, 5, 7.5 x 10^k at or above ``value``."""
    if not math.isfinite(value) or value <= 0:
        return 1.0
    decade = 10 ** math.floor(math.log10(value))
    return next(m * decade for m in (1, 1.5, 2, 3, 5, 7.5, 10) if m * decade >= value)


def best_epoch(history: Sequence[EpochMetrics]) -> EpochMetrics | None:
    """The epoch with the best test accuracy (the first of equals), or None."""
    return max(history, key=lambda m: m.test_acc, default=None)


def lr_ticks(lrs: Sequence[float], max_ticks: int = 4) -> list[tuple[float, str]]:
    """Ticks (log10 of the rate, label) for a log learning-rate axis: only rates the run
    used, at most ``max_ticks``, a quarter of a decade apart at the least (the axis spans a
    decade or more), so their labels never crowd. The highest and the lowest are always
    among them; the list runs from the highest down."""
    used = sorted({lr for lr in lrs if lr > 0 and math.isfinite(lr)}, reverse=True)
    logs = [math.log10(lr) for lr in used]
    gap = max((logs[0] - logs[-1]) / max_ticks, 0.25) if used else 0.0
    chosen: list[int] = []
    for i in [0, len(used) - 1, *range(1, len(used) - 1)][:len(used)]:
        if len(chosen) < max_ticks and all(abs(logs[i] - logs[j]) >= gap for j in chosen):
            chosen.append(i)
    return [(logs[i], f"{used[i]:.2g}") for i in sorted(chosen)]
