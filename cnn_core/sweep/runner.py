"""Running a sweep: :func:`prepare_sweep` creates or joins the study, a :class:`SweepRunner`
works on it until it has enough finished trials.

Several workers share one study through its storage, each in its own process: on one
machine (``jobs``: the runner starts ``jobs - 1`` more processes of ``python -m cnn_core
sweep NAME --storage URL --worker K``) or on several. Processes rather than Optuna's
threads: two trainings in one process share its PyTorch thread pool and the interpreter's
lock (on 2 cores, two threads finished 9% fewer trials an hour than one worker, two
processes as many), and a process is what another machine adds anyway. A worker starts another trial only while the study's finished trials,
with those running in other workers, fall short of the target, so the sweep overshoots it
by at most a trial per worker racing for the last place, and a restart after a kill goes
on until the study has that many.
"""

from __future__ import annotations

import dataclasses
import math
import os
import signal
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import optuna
import torch
from optuna.trial import FrozenTrial, TrialState

from .errors import SweepError
from .events import EventFn, SweepNote, SweepOutcome
from .objective import CallbacksFn, SweepStopped, TrialControl, TrialFailed, run_trial
from .settings import RECORD, SweepRequest, SweepSettings, joined_settings, new_settings
from .storage import (open_storage, orphaned, record_location, storage_exists,
                      sweep_folder)
from ..data.bundle import DataBundle
from ..data.source import resolve
from ..runs.store import is_run_dir

FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)
FAILS_IN_A_ROW = 3  # a worker whose trials fail this often in a row gives up


def prepare_sweep(request: SweepRequest, storage: str,
                  runs_dir: str | Path | None = None) -> SweepSettings:
    """Create the study ``request.name`` in ``storage``, or join it: the settings the
    workers run with (see :mod:`.settings` for what a join may change). Raises
    :class:`SweepError` before anything trains."""
    folder = sweep_folder(request.name, runs_dir)
    if is_run_dir(folder):
        raise SweepError(f"{folder} is a run, not a sweep: give the sweep another name")
    # a study file not made yet is a new sweep, checked whole before the file is made
    fresh = None if storage_exists(storage) else new_settings(request)
    store = open_storage(storage)
    try:
        study = optuna.load_study(study_name=request.name, storage=store)
    except KeyError:
        study = None
    if study is not None and RECORD not in study.user_attrs:
        raise SweepError(f"the study {request.name} in that storage was not made by a sweep "
                         "of CNN Studio; give the sweep another name")
    if study is None:
        settings = fresh or new_settings(request)
        study = optuna.create_study(study_name=request.name, storage=store,
                                    direction=settings.direction, load_if_exists=True)
        study.set_user_attr(RECORD, settings.record())
    else:
        recorded = study.user_attrs[RECORD]
        settings = joined_settings(request, SweepSettings.from_record(request.name, recorded))
        if settings.trials != recorded.get("trials"):  # a restart asks for more (or fewer)
            study.set_user_attr(RECORD, {**recorded, "trials": settings.trials})
    record_location(folder, request.name, storage)
    return settings


def fail_orphans(study: optuna.Study) -> list[FrozenTrial]:
    """Mark failed the running trials whose worker on this machine is gone (the ones of
    other machines are the heartbeat's to find); returns them."""
    failed = []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        if orphaned(trial):
            study.tell(trial.number, state=TrialState.FAIL, skip_if_finished=True)
            failed.append(trial)
    return failed


def counts(study: optuna.Study) -> tuple[int, int]:
    """(finished, running) trials of the study."""
    trials = study.get_trials(deepcopy=False, states=(*FINISHED, TrialState.RUNNING))
    running = sum(t.state == TrialState.RUNNING for t in trials)
    return len(trials) - running, running


def check_run_options(jobs: int, timeout: float | None) -> None:
    """Refuse a number of workers or a timeout that cannot be (before anything is made)."""
    if not 1 <= jobs <= 64:
        raise SweepError("--jobs: must be between 1 and 64")
    if timeout is not None and not (timeout > 0 and math.isfinite(timeout)):
        raise SweepError("--timeout: must be a number of seconds above 0")


class SweepRunner:
    """One worker of a sweep (``worker`` 0, with ``jobs`` > 1, starts the others).

    :meth:`run` blocks: a window calls it on a worker thread, with ``on_event`` turning
    events into signals, and :meth:`stop` from any thread. ``data`` (already loaded for
    the base settings) saves loading it; ``callbacks`` gives each trial's run more hooks
    (a window's live curves). ``timeout``: seconds after which no trial is started.
    """

    def __init__(self, settings: SweepSettings, storage: str, *,
                 runs_dir: str | Path | None = None, jobs: int = 1, worker: int = 0,
                 timeout: float | None = None, data: DataBundle | None = None,
                 callbacks: CallbacksFn | None = None, on_event: EventFn | None = None,
                 echo_workers: bool = False) -> None:
        check_run_options(jobs, timeout)
        self.settings, self.storage, self.jobs, self.worker = settings, storage, jobs, worker
        self.folder = sweep_folder(settings.name, runs_dir)
        self.timeout, self.data, self.callbacks = timeout, data, callbacks
        self.on_event = on_event or (lambda event: None)
        self.echo_workers = echo_workers
        self._control = TrialControl()
        self._stop = threading.Event()
        self._workers: list[subprocess.Popen[bytes]] = []

    def stop(self) -> None:
        """Stop the running trial (its run is recorded as stopped), start no other, and
        ask the other workers this one started to do the same."""
        self._stop.set()
        self._control.stop()
        for process in self._workers:
            if process.poll() is None:
                process.send_signal(signal.SIGINT if os.name != "nt" else signal.SIGTERM)

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def run(self) -> SweepOutcome:
        """Work on the study until it has enough finished trials, the time is up, or
        :meth:`stop`; the other workers started here are waited for."""
        settings = self.settings
        storage = open_storage(self.storage, self._stale)
        try:
            done = len(optuna.load_study(study_name=settings.name, storage=storage).trials)
        except KeyError:
            raise SweepError(f"there is no sweep {settings.name} in that storage") from None
        study = optuna.load_study(
            study_name=settings.name, storage=storage, pruner=settings.make_pruner(),
            sampler=optuna.samplers.TPESampler(seed=self._sampler_seed(done),
                                               constant_liar=True))
        data = self.data if self.data is not None else resolve(settings.base).load_for(
            settings.base)
        threads, verbosity = torch.get_num_threads(), optuna.logging.get_verbosity()
        if self.jobs > 1:  # the workers share the cores, a thread team each
            torch.set_num_threads(max(1, (os.cpu_count() or 1) // self.jobs))
        optuna.logging.set_verbosity(optuna.logging.ERROR)  # the events say it, in our words
        if self.worker == 0:
            self._start_workers()
        try:
            outcome = self._work(study, data)
        finally:
            optuna.logging.set_verbosity(verbosity)
            torch.set_num_threads(threads)
            started = self._join_workers()
        if started and not outcome.stopped:  # what the other workers added
            finished = counts(study)[0]
            outcome = dataclasses.replace(outcome, finished=finished, reason=(
                f"the study has {finished} finished trial(s) of {settings.trials}"))
        return outcome

    def _work(self, study: optuna.Study, data: DataBundle) -> SweepOutcome:
        target, ran, fails = self.settings.trials, [], 0
        deadline = None if self.timeout is None else time.monotonic() + self.timeout

        def objective(trial: optuna.Trial) -> float:
            ran.append(trial.number)
            return run_trial(trial, self.settings, folder=self.folder, data=data,
                             control=self._control, on_event=self.on_event,
                             worker=self.worker, callbacks=self.callbacks)

        while True:
            self._tell_orphans(study)
            finished, running = counts(study)
            if finished >= target:
                return SweepOutcome(finished, target, ran, reason=f"the study has {finished} "
                                    f"finished trial(s) of {target}")
            if self._stop.is_set():
                return SweepOutcome(finished, target, ran, stopped=True, reason="stopped")
            if deadline is not None and time.monotonic() >= deadline:
                return SweepOutcome(finished, target, ran, reason="the time given ran out")
            if finished + running >= target:
                return SweepOutcome(finished, target, ran, reason=(
                    f"the study has {finished} finished trial(s) and {running} running in "
                    "other workers"))
            try:
                study.optimize(objective, n_trials=1, catch=(TrialFailed,))
            except SweepStopped:
                if self._stop.is_set():
                    continue  # the loop says it stopped
                # stopped by something else: a failure, counted as one
            mine = next(t for t in study.get_trials(deepcopy=False) if t.number == ran[-1])
            fails = fails + 1 if mine.state == TrialState.FAIL else 0
            if fails >= FAILS_IN_A_ROW:
                return SweepOutcome(counts(study)[0], target, ran, reason=(
                    f"{fails} trials failed in a row; the last: "
                    f"{mine.user_attrs.get('error', 'see its run folder')}"))

    def _sampler_seed(self, done: int) -> int:
        """The base seed, so that a sweep repeats; apart for each worker (or their first
        draws would agree), and moved on by the ``done`` trials the study has (or a
        restart would draw its first trials' settings again)."""
        return (self.settings.base.seed + 7919 * self.worker + done) % 2**32

    def _stale(self, study: optuna.Study, trial: FrozenTrial) -> None:
        self.on_event(SweepNote(f"trial {trial.number} had no heartbeat for a while: its "
                                "worker is gone, the trial is marked failed", self.worker))

    def _tell_orphans(self, study: optuna.Study) -> None:
        """Mark failed the trials whose worker died: on this machine at once, elsewhere
        once their heartbeat is overdue (SQL storages; this calls :meth:`_stale`)."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            optuna.storages.fail_stale_trials(study)
        for trial in fail_orphans(study):
            self.on_event(SweepNote(f"trial {trial.number}: its worker (process "
                                    f"{trial.user_attrs.get('pid')}) is gone; the trial is "
                                    "marked failed (its run keeps the epochs it saved)",
                                    self.worker))

    def _start_workers(self) -> None:
        """The ``jobs - 1`` other workers, each a process of the command line."""
        base = self.settings.base
        for k in range(1, self.jobs if not self.stopping else 1):
            command = [sys.executable, "-m", "cnn_core", "sweep", self.settings.name,
                       "--storage", self.storage, "--worker", str(k), "--jobs", str(self.jobs),
                       "--device", base.device]
            if base.data_dir:
                command += ["--data-dir", base.data_dir]
            if self.timeout is not None:
                command += ["--timeout", str(self.timeout)]
            out = None if self.echo_workers else subprocess.DEVNULL
            env = {**os.environ, "CNN_STUDIO_RUNS": str(self.folder.parent)}
            self._workers.append(subprocess.Popen(command, stdout=out, stderr=out, env=env))

    def _join_workers(self) -> int:
        """Wait for the workers started here; returns how many there were."""
        for k, process in enumerate(self._workers, 1):
            if process.wait() not in (0, 130):  # 130: stopped
                self.on_event(SweepNote(f"worker {k} ended with exit status "
                                        f"{process.returncode} (its lines say why)"))
        started = len(self._workers)
        self._workers.clear()
        return started
