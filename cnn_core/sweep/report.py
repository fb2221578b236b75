"""A sweep's study as plain data, for ``sweep show`` and the window's Sweeps view: every
trial (number, state, parameters, objective, epochs, run folder), best first, and the
parameters' importances. Reads only; safe while workers write.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from .errors import SweepError
from .settings import RECORD, SweepSettings
from .storage import SWEEP_FILE, open_storage, orphaned, shown, storage_exists, storage_url
from ..paths import default_runs_dir

STATES = {TrialState.COMPLETE: "complete", TrialState.PRUNED: "pruned",
          TrialState.FAIL: "failed", TrialState.RUNNING: "running",
          TrialState.WAITING: "waiting"}


@dataclass(frozen=True)
class TrialRow:
    number: int
    state: str  # complete, pruned, failed, running or waiting
    params: dict[str, Any]
    value: float | None  # its best epoch's objective (a pruned one's: its last epoch's)
    epochs: int  # epochs it reported
    values: dict[int, float]  # the objective after each epoch
    run_dir: Path | None
    seconds: float | None  # wall time, once finished
    note: str = ""  # why it failed

    @property
    def finished(self) -> bool:
        return self.state in ("complete", "pruned")


@dataclass(frozen=True)
class SweepReport:
    settings: SweepSettings
    storage: str
    trials: list[TrialRow]  # best first: complete, pruned, running, failed
    importances: dict[str, float] = field(default_factory=dict)  # parameter -> share
    importance_note: str = ""  # why there are none

    @property
    def best(self) -> TrialRow | None:
        """The best complete trial."""
        return next((t for t in self.trials if t.state == "complete"), None)

    @property
    def log_params(self) -> tuple[str, ...]:
        """The parameters drawn on a log scale (a plot's log axes)."""
        return tuple(p.key for p in self.settings.space.varied if p.log)

    def count(self, state: str) -> int:
        return sum(t.state == state for t in self.trials)


def read_sweep(name: str, storage: str | None = None,
               runs_dir: str | Path | None = None) -> SweepReport:
    """The sweep ``name`` (in ``storage``, else where its folder says). Raises
    :class:`SweepError` when there is no such sweep."""
    url = storage_url(name, storage, runs_dir)
    study = _study(name, url)
    settings = SweepSettings.from_record(name, study.user_attrs[RECORD])
    maximize = settings.direction == "maximize"
    rows = [_row(t) for t in study.get_trials(deepcopy=False)]

    def order(row: TrialRow) -> tuple[int, float, int]:
        """Complete trials by objective, then pruned ones (by their last epoch's), then
        those running, then the failed."""
        rank = {"complete": 0, "pruned": 1, "running": 2, "waiting": 2}.get(row.state, 3)
        value = row.value if row.value is not None and math.isfinite(row.value) else math.inf
        return rank, -value if maximize and rank < 2 else value, row.number

    rows.sort(key=order)
    importances, note = _importances(study, rows)
    return SweepReport(settings, url, rows, importances, note)


def _study(name: str, url: str) -> optuna.Study:
    if not storage_exists(url):  # opening it would make an empty one
        raise SweepError(f"there is no sweep {name} (no study at {shown(url)})")
    try:
        study = optuna.load_study(study_name=name, storage=open_storage(url))
    except KeyError:
        raise SweepError(f"there is no sweep {name} in {url}") from None
    if RECORD not in study.user_attrs:
        raise SweepError(f"the study {name} was not made by a sweep of CNN Studio")
    return study


def _row(trial: FrozenTrial) -> TrialRow:
    run_dir = trial.user_attrs.get("run_dir")
    seconds = (trial.duration.total_seconds() if trial.duration is not None else None)
    return TrialRow(trial.number, STATES.get(trial.state, trial.state.name.lower()),
                    dict(trial.params), trial.value if trial.values else None,
                    len(trial.intermediate_values), dict(trial.intermediate_values),
                    Path(run_dir) if isinstance(run_dir, str) else None, seconds,
                    "its worker is gone" if trial.state == TrialState.RUNNING and orphaned(trial)
                    else str(trial.user_attrs.get("error", "")))


def _importances(study: optuna.Study, rows: list[TrialRow]) -> tuple[dict[str, float], str]:
    """fANOVA importances over the complete trials (seeded: the same study, the same
    numbers), or why there are none."""
    complete = [r for r in rows if r.state == "complete"]
    if len(complete) < 2:
        return {}, f"importances need 2 or more complete trials ({len(complete)} so far)"
    varied = {k for k in complete[0].params
              if len({json.dumps(r.params.get(k)) for r in complete}) > 1}
    if not varied:
        return {}, "importances need complete trials whose parameters differ"
    if len({r.value for r in complete}) < 2:
        return {}, "importances need complete trials whose objectives differ"
    from optuna.importance import FanovaImportanceEvaluator, get_param_importances

    try:
        found = get_param_importances(study, evaluator=FanovaImportanceEvaluator(seed=0))
    except (ValueError, RuntimeError) as exc:
        return {}, f"importances could not be computed: {exc}"
    return dict(found), ""


def list_sweeps(runs_dir: str | Path | None = None) -> list[Path]:
    """The sweep folders in the runs folder (each holds ``sweep.json``), by name."""
    root = Path(runs_dir or default_runs_dir())
    try:
        return sorted(p for p in root.iterdir() if (p / SWEEP_FILE).is_file())
    except OSError:
        return []
