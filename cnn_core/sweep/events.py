"""What a sweep worker tells whoever runs it (the command line prints it, the window turns
it into signals): plain frozen dataclasses, made in the worker's thread."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union


@dataclass(frozen=True)
class TrialStarted:
    number: int
    params: dict[str, Any]  # the values Optuna drew for it
    run_dir: Path  # its run folder
    worker: int = 0


@dataclass(frozen=True)
class TrialEpoch:
    number: int
    epoch: int
    epochs: int
    value: float  # the objective at this epoch
    worker: int = 0


@dataclass(frozen=True)
class TrialFinished:
    number: int
    state: str  # complete, pruned, failed or stopped (the study records stopped as failed)
    value: float | None  # its best epoch's objective (a pruned trial's: the last epoch's)
    epochs: int  # epochs it ran
    seconds: float
    run_dir: Path | None
    reason: str = ""  # why it failed or where it was pruned
    worker: int = 0


@dataclass(frozen=True)
class SweepNote:
    """Something decided along the way (a dead worker's trial marked failed, ...)."""

    text: str
    worker: int = 0


@dataclass(frozen=True)
class SweepOutcome:
    """How a worker's part of the sweep ended."""

    finished: int  # the study's complete and pruned trials
    trials: int  # how many it aims for
    ran: list[int] = field(default_factory=list)  # the trials this worker ran
    stopped: bool = False  # asked to stop (Stop, Ctrl+C) before the study had enough
    reason: str = ""  # why it ended, in words


SweepEvent = Union[TrialStarted, TrialEpoch, TrialFinished, SweepNote]
EventFn = Callable[[SweepEvent], None]
