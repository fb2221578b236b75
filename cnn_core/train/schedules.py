"""Learning-rate schedules as functions of training progress (epochs done, with the
fraction of the current one), so a schedule comes out the same whatever the batch size,
after a resume, or when the batch size changes mid-run.

The learning rate at progress ``t`` is ``peak * factor(t)``. ``peak`` starts as the
configured rate; an edit (a new rate typed while paused, more epochs, another step size)
keeps the rate where it is, or at the rate typed, and rescales the rest of the schedule to
it: :func:`rescaled_peak`.

- ``step``: multiplied by ``gamma`` every ``step_size`` epochs (PyTorch's ``StepLR``).
- ``onecycle``: up from peak/25 to the peak over the first 30% of the run, then down to
  peak/250,000 along a cosine (PyTorch's ``OneCycleLR`` defaults, as fastai's
  ``fit_one_cycle``), per batch.
- ``cosine``: a linear warm-up from 1% of the peak over ``warmup_epochs``, then a cosine
  from the peak to zero at the end of the run, per batch.
- ``constant``: the peak throughout.

PyTorch's scheduler classes count steps towards a total fixed when they are made; a run
here may change its batch size and length while paused, so the same curves are written
as functions of progress instead.
"""

from __future__ import annotations

import math

from .config import TrainConfig

SHAPE = ("schedule", "epochs", "step_size", "gamma", "warmup_epochs")  # what lr_factor reads
ONECYCLE_RISE = 0.3  # OneCycleLR's pct_start
ONECYCLE_START = 1 / 25  # 1 / div_factor
ONECYCLE_END = 1 / 25 / 1e4  # 1 / (div_factor * final_div_factor)
WARMUP_START = 0.01
TINY = 1e-9  # a factor this small cannot carry an edited rate: the edit sets the peak


def _cosine(start: float, end: float, fraction: float) -> float:
    return end + (start - end) * (1 + math.cos(math.pi * min(max(fraction, 0.0), 1.0))) / 2


def lr_factor(config: TrainConfig, progress: float) -> float:
    """The schedule's multiple of the peak rate at ``progress`` epochs into the run."""
    schedule, epochs = config.schedule, config.epochs
    if schedule == "step":
        return config.gamma ** math.floor(progress / config.step_size + 1e-9)
    if schedule == "onecycle":
        fraction = progress / epochs
        if fraction <= ONECYCLE_RISE:
            return _cosine(ONECYCLE_START, 1.0, fraction / ONECYCLE_RISE)
        return _cosine(1.0, ONECYCLE_END, (fraction - ONECYCLE_RISE) / (1 - ONECYCLE_RISE))
    if schedule == "cosine":
        warmup = config.warmup_epochs
        if progress < warmup:
            return WARMUP_START + (1 - WARMUP_START) * progress / warmup
        return _cosine(1.0, 0.0, (progress - warmup) / (epochs - warmup))
    return 1.0


def rescaled_peak(config: TrainConfig, progress: float, lr_now: float) -> float:
    """The peak that puts the schedule of ``config`` at ``lr_now`` at ``progress``: the
    rest of the schedule keeps its shape, scaled to go on from that rate."""
    factor = lr_factor(config, progress)
    return lr_now / factor if factor > TINY else lr_now
