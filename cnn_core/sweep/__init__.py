"""Hyperparameter sweeps on Optuna: many ordinary runs, their settings drawn by Optuna's TPE
sampler from a search space, hopeless ones pruned, the study kept in a storage that several
processes and machines share.

The window's Sweeps view needs no Qt from here: it builds a :class:`SweepRequest`, calls
:func:`prepare_sweep` (create or join; refuses bad settings in one line), runs a
:class:`SweepRunner` on a worker thread (``on_event`` for progress, :meth:`SweepRunner.stop`
to stop), and reads the study with :func:`read_sweep` (trials, parameters, objective,
states, importances), as often as it likes, while workers write it.
"""

from .errors import SweepError
from .events import (SweepEvent, SweepNote, SweepOutcome, TrialEpoch, TrialFinished,
                     TrialStarted)
from .report import SweepReport, TrialRow, list_sweeps, read_sweep
from .runner import SweepRunner, fail_orphans, prepare_sweep
from .settings import OBJECTIVES, PRUNERS, SweepRequest, SweepSettings
from .space import DEFAULT_SPACE, Param, SearchSpace, load_space, parse_space, sweepable
from .storage import shown, storage_url, sweep_folder

__all__ = ["DEFAULT_SPACE", "OBJECTIVES", "PRUNERS", "Param", "SearchSpace", "SweepError",
           "SweepEvent", "SweepNote", "SweepOutcome", "SweepReport", "SweepRequest",
           "SweepRunner", "SweepSettings", "TrialEpoch", "TrialFinished", "TrialRow",
           "TrialStarted", "fail_orphans", "list_sweeps", "load_space", "parse_space",
           "prepare_sweep", "read_sweep", "shown", "storage_url", "sweep_folder", "sweepable"]
