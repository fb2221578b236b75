"""One trial of a sweep: an ordinary run, started by :func:`cnn_core.train.launch.launch` as
``python -m cnn_core train`` starts one, in ``RUNS/NAME/trial-0007-<its settings>``, with
``sweep: {"name": NAME, "trial": 7}`` in its settings. It reports its objective to Optuna
after every epoch, and stops when the pruner says so (its run's status is then ``pruned``).
Its value is its best epoch's objective.
"""

from __future__ import annotations

import dataclasses
import os
import re
import socket
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import optuna

from .events import EventFn, TrialEpoch, TrialFinished, TrialStarted
from .settings import SweepSettings
from ..data.bundle import DataBundle
from ..runs.errors import RunError
from ..train.callbacks import Callback, EpochMetrics, RunStatus, TrainerView
from ..train.errors import TrainingError
from ..train.launch import launch
from ..train.trainer import Trainer

_SHORT = {"lr": "lr", "batch_size": "bs", "weight_decay": "wd", "momentum": "mom",
          "epochs": "ep", "step_size": "step", "gamma": "gamma", "optimizer": "", "arch": "",
          "augment": "aug", "seed": "seed"}

CallbacksFn = Callable[[TrialStarted], Sequence[Callback]]


class TrialFailed(Exception):
    """A trial that could not train (diverged, refused settings, a full disk): the study
    marks it failed and the sweep goes on."""


class SweepStopped(Exception):
    """The sweep was asked to stop while this trial ran: its run is recorded as stopped,
    the study marks the trial failed (a restart runs another in its place)."""


def trial_folder(folder: Path, number: int, params: dict[str, Any]) -> Path:
    """``folder/trial-0007-lr0.0032-bs64-adam``: the trial's number, then its settings."""
    parts = []
    for key, value in params.items():
        if isinstance(value, float):
            text = f"{value:.2g}"
        elif isinstance(value, str) and value.endswith(".json"):
            text = Path(value).stem
        else:
            text = str(value)
        parts.append(f"{_SHORT.get(key, key)}{text}")
    short = re.sub(r"[^A-Za-z0-9_.-]+", "_", "-".join(parts))[:60].strip("-._")
    path = folder / (f"trial-{number:04d}-{short}" if short else f"trial-{number:04d}")
    base, n = path, 1
    while path.exists():  # left by an earlier study of the same name: never written over
        n += 1
        path = base.with_name(f"{base.name}-{n}")
    return path


def objective_value(metrics: EpochMetrics, objective: str) -> float:
    return metrics.test_acc if objective == "test_acc" else metrics.test_loss


class TrialReporter(Callback):
    """Reports each epoch's objective to the trial, and stops the run as pruned when the
    pruner finds it hopeless (never after its last epoch: it has then completed)."""

    def __init__(self, trial: optuna.Trial, objective: str, on_event: EventFn,
                 worker: int) -> None:
        self.trial, self.objective, self.on_event, self.worker = trial, objective, on_event, worker
        self.values: list[float] = []
        self.pruned_at: int | None = None

    def on_epoch_end(self, trainer: TrainerView, metrics: EpochMetrics) -> None:
        value = objective_value(metrics, self.objective)
        self.values.append(value)
        self.trial.report(value, metrics.epoch)
        self.on_event(TrialEpoch(self.trial.number, metrics.epoch, trainer.config.epochs, value,
                                 self.worker))
        if metrics.epoch < trainer.config.epochs and self.trial.should_prune():
            self.pruned_at = metrics.epoch
            trainer.request_stop(RunStatus.PRUNED)

    def best(self) -> float | None:
        if not self.values:
            return None
        return max(self.values) if self.objective == "test_acc" else min(self.values)


class TrialControl:
    """Between a worker and its running trial: the trainer to stop, and whether the sweep
    was asked to stop (any thread may call :meth:`stop`)."""

    def __init__(self) -> None:
        self.trainer: Trainer | None = None
        self.stopping = False

    def stop(self) -> None:
        self.stopping = True
        trainer = self.trainer
        if trainer is not None:
            trainer.request_stop()

    def attach(self, trainer: Trainer | None) -> None:
        self.trainer = trainer
        if trainer is not None and self.stopping:
            trainer.request_stop()


def run_trial(trial: optuna.Trial, settings: SweepSettings, *, folder: Path, data: DataBundle,
              control: TrialControl, on_event: EventFn, worker: int = 0,
              callbacks: CallbacksFn | None = None) -> float:
    """Train ``trial``'s run and return its objective (Optuna's objective function)."""
    started = time.monotonic()
    # first: who runs it, so a restart can tell this trial's worker died (see .storage)
    trial.set_user_attr("host", socket.gethostname())
    trial.set_user_attr("pid", os.getpid())
    drawn = settings.space.suggest(trial)
    config = dataclasses.replace(settings.base, **drawn,
                                 sweep={"name": settings.name, "trial": trial.number})
    run_dir = trial_folder(folder, trial.number, trial.params)
    trial.set_user_attr("run_dir", str(run_dir.resolve()))
    start = TrialStarted(trial.number, dict(trial.params), run_dir, worker)
    on_event(start)
    reporter = TrialReporter(trial, settings.objective, on_event, worker)

    def finished(state: str, value: float | None, reason: str = "") -> None:
        on_event(TrialFinished(trial.number, state, value, len(reporter.values),
                               time.monotonic() - started, run_dir, reason, worker))

    try:
        run = launch(config, [reporter, *(callbacks(start) if callbacks else ())],
                     run_dir=run_dir, data=data)
        control.attach(run.trainer)
        try:
            result = run.trainer.fit()
        finally:
            control.attach(None)
    except (TrainingError, RunError, ValueError) as exc:  # ValueError: refused settings
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        trial.set_user_attr("error", reason)
        finished("failed", None, reason)
        raise TrialFailed(reason) from None
    if reporter.pruned_at is not None:
        finished("pruned", reporter.values[-1], f"at epoch {reporter.pruned_at}")
        raise optuna.TrialPruned(f"pruned at epoch {reporter.pruned_at}")
    best = reporter.best()
    if result.status not in (RunStatus.COMPLETED, RunStatus.STOPPED_EARLY) or best is None:
        trial.set_user_attr("error", "stopped")
        finished("stopped", best)
        raise SweepStopped(f"trial {trial.number} stopped")
    finished("complete", best)
    return best
