"""Hyperparameter sweeps on Optuna: many ordinary runs, their settings drawn by Optuna's TPE
sampler from a search space, hopeless ones pruned, the study kept in a storage that several
processes and machines share.

The window's Sweeps view needs no Qt from here: it builds a :class:`SweepRequest`, calls
:func:`prepare_sweep` (create or join; refuses bad settings in one line), runs a
:class:`SweepRunner` on a worker thread (``on_event`` for progress, :meth:`SweepRunner.stop`
to stop), and reads the study with :func:`read_sweep` (trials, parameters, objective,
states, importances), as often as it likes, while workers write it.
"""

from importlib import import_module
from typing import Any

# Where each public name lives. They are imported when first used: the window imports this
# package to build its Sweeps view, and Optuna's importances bring SciPy and scikit-learn,
# a second of its start that no sweep needs until one is read.
_HOMES = {
    "errors": ("SweepError",),
    "events": ("SweepEvent", "SweepNote", "SweepOutcome", "TrialEpoch", "TrialFinished",
               "TrialStarted"),
    "report": ("SweepReport", "TrialRow", "list_sweeps", "read_sweep"),
    "runner": ("SweepRunner", "fail_orphans", "prepare_sweep"),
    "settings": ("OBJECTIVES", "PRUNERS", "SweepRequest", "SweepSettings"),
    "space": ("DEFAULT_SPACE", "Param", "SearchSpace", "load_space", "parse_space", "sweepable"),
    "storage": ("shown", "storage_url", "sweep_folder"),
}
_MODULE_OF = {name: module for module, names in _HOMES.items() for name in names}


def __getattr__(name: str) -> Any:
    if name not in _MODULE_OF:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{_MODULE_OF[name]}", __name__), name)
    globals()[name] = value
    return value


__all__ = ["DEFAULT_SPACE", "OBJECTIVES", "PRUNERS", "Param", "SearchSpace", "SweepError",
           "SweepEvent", "SweepNote", "SweepOutcome", "SweepReport", "SweepRequest",
           "SweepRunner", "SweepSettings", "TrialEpoch", "TrialFinished", "TrialRow",
           "TrialStarted", "fail_orphans", "list_sweeps", "load_space", "parse_space",
           "prepare_sweep", "read_sweep", "shown", "storage_url", "sweep_folder", "sweepable"]
