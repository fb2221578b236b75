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
