"""What a sweep is: its space, the base settings of every trial, the objective, the pruner
and the number of finished trials it aims for. The study records them when the sweep
begins, so a restart, a worker on another machine or the window needs only the sweep's name
and storage: whatever they are not given they take from the study, and what they are given
must agree with it (but for the number of trials, which a restart may raise, the device
and data folder, which are each machine's own, and the settings the space sets itself).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import optuna

from .errors import SweepError
from .space import DEFAULT_SPACE, SearchSpace, load_space, parse_space
from ..train.config import TrainConfig

OBJECTIVES = {"test_acc": "maximize", "test_loss": "minimize"}
PRUNERS = ("median", "hyperband", "none")
RECORD = "cnn_studio_sweep"  # the study's user attribute that holds the settings
LOCAL = ("device", "data_dir")  # each machine's own: not part of what the sweep is
MEDIAN_STARTUP_TRIALS = 3  # the median pruner judges no trial before three have finished


@dataclass(frozen=True)
class SweepSettings:
    name: str
    space: SearchSpace
    base: TrainConfig  # every trial's settings, before its space draws its own
    objective: str = "test_acc"  # test_acc (a fraction, maximised) or test_loss (minimised)
    pruner: str = "median"
    trials: int = 10  # finished (complete or pruned) trials the sweep aims for

    @property
    def direction(self) -> str:
        return OBJECTIVES[self.objective]

    def make_pruner(self) -> optuna.pruners.BasePruner:
        """Median: a trial whose objective at an epoch is worse than the median of the
        finished trials' at that epoch stops there (from its first epoch on, once
        :data:`MEDIAN_STARTUP_TRIALS` trials have finished). Hyperband: successive
        halving over epochs, from 1 up to the longest trial's."""
        if self.pruner == "median":
            return optuna.pruners.MedianPruner(n_startup_trials=MEDIAN_STARTUP_TRIALS,
                                               n_warmup_steps=0)
        if self.pruner == "hyperband":
            return optuna.pruners.HyperbandPruner(
                min_resource=1, max_resource=max(self.space.max_epochs(self.base), 2),
                reduction_factor=3)
        return optuna.pruners.NopPruner()

    def record(self) -> dict[str, Any]:
        """The form the study keeps (JSON)."""
        return {"version": 1, **self.space.record(), "base": self.base.to_dict(),
                "objective": self.objective, "pruner": self.pruner, "trials": self.trials}

    @classmethod
    def from_record(cls, name: str, record: Mapping[str, Any]) -> SweepSettings:
        try:
            base = TrainConfig.from_dict(dict(record["base"]))
            return cls(name, SearchSpace.from_record(record, base), base,
                       str(record["objective"]), str(record["pruner"]), int(record["trials"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise SweepError(f"sweep {name}: its study's record is not usable ({exc})") from None


@dataclass(frozen=True)
class SweepRequest:
    """What a command or the window asks for; None (or nothing given) takes the study's
    recorded value, or for a new sweep the default."""

    name: str
    trials: int | None = None
    space: Path | Mapping[str, Any] | None = None  # a space file, or a space as a mapping
    given: Mapping[str, Any] = field(default_factory=dict)  # base settings, by field name
    objective: str | None = None
    pruner: str | None = None

    def check(self) -> None:
        if self.trials is not None and not 1 <= self.trials <= 100_000:
            raise SweepError("--trials: must be between 1 and 100000")
        if self.objective is not None and self.objective not in OBJECTIVES:
            raise SweepError(f"--objective: choose {', '.join(OBJECTIVES)}")
        if self.pruner is not None and self.pruner not in PRUNERS:
            raise SweepError(f"--pruner: choose {', '.join(PRUNERS)}")


def _space(space: Path | Mapping[str, Any] | None, base: TrainConfig) -> SearchSpace:
    if space is None:
        return parse_space(DEFAULT_SPACE, base)
    if isinstance(space, Mapping):
        return parse_space(space, base)
    return load_space(space, base)


def new_settings(request: SweepRequest) -> SweepSettings:
    """The settings of a sweep that does not exist yet; every part checked."""
    request.check()
    if request.trials is None:
        raise SweepError(f"--trials: a new sweep ({request.name}) needs the number of "
                         "trials to finish")
    base = TrainConfig(**request.given)
    base.validate()
    return SweepSettings(request.name, _space(request.space, base), base,
                         request.objective or "test_acc", request.pruner or "median",
                         request.trials)


def joined_settings(request: SweepRequest, recorded: SweepSettings) -> SweepSettings:
    """The settings of an existing sweep, with what ``request`` may change; refuses what
    it may not, naming the first setting that differs."""
    request.check()
    name = request.name
    base = dataclasses.replace(recorded.base, **request.given)
    base.validate()
    drawn = {p.key for p in recorded.space.params}  # each trial sets these itself
    for key, value in request.given.items():
        if key not in (*LOCAL, *drawn) and value != getattr(recorded.base, key):
            raise SweepError(f"--{key.replace('_', '-')}: the sweep {name} was begun with "
                             f"{getattr(recorded.base, key)!r}; its trials share their "
                             "settings (begin a new sweep to change it)")
    space = SearchSpace.from_record(recorded.space.record(), base)
    if request.space is not None:
        asked = _space(request.space, base)
        if asked.record() != recorded.space.record():
            differs = _differing(asked, recorded.space)
            raise SweepError(f"--space: the sweep {name} was begun with another space "
                             f"({', '.join(differs)} differ); begin a new sweep to change it")
    for flag, asked_value, value in (("objective", request.objective, recorded.objective),
                                     ("pruner", request.pruner, recorded.pruner)):
        if asked_value is not None and asked_value != value:
            raise SweepError(f"--{flag}: the sweep {name} was begun with {value}; begin a "
                             "new sweep to change it")
    return dataclasses.replace(recorded, base=base, space=space,
                               trials=request.trials or recorded.trials)


def _differing(a: SearchSpace, b: SearchSpace) -> list[str]:
    left, right = a.to_json(), b.to_json()
    keys = [k for k in {**left, **right} if left.get(k) != right.get(k)]
    return keys or ["its networks"]
