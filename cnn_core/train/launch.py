"""The one way to start a run: fresh, resumed, branched from a checkpoint, or only opened
for inspection. The command line and the window both call :func:`launch`, so a run folder
means the same whichever started it; the rules for continuing a run live in
:mod:`.continuation` and are re-exported here."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .callbacks import Callback
from .config import TrainConfig
from .continuation import (FIXED, Continuation, LaunchError, RunBeingWritten, RunKind,
                           check_resumable, open_continuation, run_name, run_of)
from .distributed import DistributedError, Group
from .init_from import starting_weights
from .live_edits import EDITABLE
from .trainer import REPORT_INTERVAL, Trainer
from ..data.bundle import DataBundle, ProgressFn
from ..data.source import resolve
from ..paths import default_runs_dir
from ..runs.checkpoint import CheckpointError, checkpoint_dataset
from ..runs.errors import first_line
from ..runs.lock import WRITER_LOCK, RunBusyError, RunLock
from ..runs.recorder import RunRecorder
from ..runs.store import RunError, holds_files, is_run_dir, new_run_dir, read_summary

__all__ = ["FIXED", "Continuation", "Launch", "LaunchError", "RunBeingWritten", "RunKind",
           "check_resumable", "launch", "open_continuation", "run_name", "run_of",
           "trainer_from_checkpoint"]

@dataclass
class Launch:
    """A run ready to ``trainer.fit()`` (or, for INSPECT, to be looked at)."""

    trainer: Trainer
    kind: RunKind  # BRANCH when a resume had to branch (see ``note``)
    run_dir: Path | None  # where it records (None for INSPECT)
    parent: Path | None  # the parent run of a branch
    note: str = ""  # what was decided that was not asked for, for the person to read
    lock: RunLock | None = None  # held on run_dir until the run ends
    missing_data: str = ""  # why a checkpoint is shown without its pictures

    def close(self) -> None:
        """Let other writers at the run folder: for a launch that will not be fitted (the
        recorder lets go itself when ``fit`` ends)."""
        if self.lock is not None:
            self.lock.release()


def launch(config: TrainConfig, callbacks: Sequence[Callback] = (), *,
           continuation: Continuation | None = None, runs_dir: Path | None = None,
           run_dir: Path | None = None, data: DataBundle | None = None,
           report_interval: float | None = None, progress: ProgressFn | None = None,
           cancel: threading.Event | None = None, group: Group | None = None) -> Launch:
    """Build the trainer for a run with ``config``: fresh, or continuing ``continuation``.

    Decides where the run is recorded: ``run_dir``, else a new folder under ``runs_dir``
    (default: :func:`default_runs_dir`); a resume records into the checkpoint's own run,
    unless that run went on past the checkpoint: then it branches into a new folder,
    rather than overwrite those epochs. ``config``'s editable settings that differ from
    the continuation's are applied as recorded edits. Loads the dataset unless ``data`` is
    given (``progress`` and ``cancel`` reach the loader). An image folder's class names and
    channels are recorded in the run's config as loaded.

    With ``group`` (under torchrun) every process calls this; only rank 0 records the run,
    and no process starts training unless all of them could prepare it.

    Raises ``ValueError("field: reason")`` (a :class:`LaunchError` for a continuation that
    cannot go on as asked), :class:`CheckpointError`, or the loader's ``DatasetError``.
    """
    if continuation is not None:  # its pictures are split by the rule it began with
        config = replace(config, split=continuation.config().split)
    config.validate()
    if continuation is not None:
        continuation.check(config)
    records = group is None or group.is_main
    hooks = list(callbacks)
    lock = None
    try:
        run_dir, parent, note = (_where(config, continuation, runs_dir, run_dir) if records
                                 else (None, None, ""))
        kind = (RunKind.FRESH if continuation is None
                else RunKind.BRANCH if parent is not None else continuation.kind)
        if run_dir is not None:  # the folder is claimed before the slow work
            continues_it = (kind == RunKind.RESUME and continuation is not None
                            and continuation.source_run is not None
                            and _same(run_dir, continuation.source_run))
            lock = _claim(run_dir, continuation if continues_it else None)
            # first: the files are written before the other callbacks hear
            hooks.insert(0, RunRecorder(run_dir, parent=parent, lock=lock))
        bundle, missing = ((data, "") if data is not None else
                           _data_for(config, continuation, progress, cancel))
        config = _as_loaded(config, bundle, continuation)
        note = "\n".join(filter(None, (note, _data_changes(bundle, continuation))))
        if group is not None and not group.all(True):
            raise DistributedError("another process of this run could not start it "
                                   "(its message says why)")
        interval = REPORT_INTERVAL if report_interval is None else report_interval
        if continuation is None:
            trainer = Trainer(config, hooks, data=bundle, report_interval=interval,
                              group=group)
            record = starting_weights(trainer.model, config, trainer.info,
                                      progress=progress, cancel=cancel)
            if record is not None:  # fine-tuning: another run's weights to start from
                trainer.start_from(record)
        else:
            trainer = trainer_from_checkpoint(continuation.state, hooks, data=bundle,
                                              report_interval=interval, group=group,
                                              **_overrides(config, continuation))
    except BaseException as exc:
        if lock is not None:
            _let_go(lock)
        if group is not None and not isinstance(exc, DistributedError):
            _tell_the_others(group)
        raise
    return Launch(trainer, kind, run_dir, parent, note, lock, missing)


def _tell_the_others(group: Group) -> None:
    """This process cannot start the run: the others, waiting to agree, hear it."""
    try:
        group.all(False)
    except DistributedError:
        pass  # they are gone already


def _data_for(config: TrainConfig, continuation: Continuation | None,
              progress: ProgressFn | None, cancel: threading.Event | None
              ) -> tuple[DataBundle, str]:
    """The run's data, and why it is not there: a checkpoint only shown opens without its
    pictures (its curves, filters and settings need none); training needs them."""
    source = resolve(config)
    problem = source.problem(config.data_dir)
    if problem is not None and continuation is not None and continuation.kind == RunKind.INSPECT:
        return DataBundle.empty(checkpoint_dataset(continuation.state)), problem
    return source.load_for(config, progress=progress, cancel=cancel), ""


def _as_loaded(config: TrainConfig, bundle: DataBundle,
               continuation: Continuation | None) -> TrainConfig:
    """``config`` with what its data source records as found (a folder's classes and
    channels); a continuation needs the classes its model learnt."""
    names = list(bundle.info.class_names)
    if continuation is not None:
        saved = continuation.state["config"].get("class_names")
        if saved is not None and list(saved) != names:
            raise LaunchError("dataset", f"the folder's classes changed since the checkpoint "
                                         f"(it learnt {', '.join(saved)}; the folder now has "
                                         f"{', '.join(names)})")
    return resolve(config).recorded(config, bundle)


def _data_changes(bundle: DataBundle, continuation: Continuation | None) -> str:
    """What changed in a folder since the checkpoint ("dark: 40 -> 52 pictures, +12"), for
    the person to know; the pictures it had keep their side of the split."""
    if continuation is None:
        return ""
    saved = checkpoint_dataset(continuation.state).class_counts
    now = bundle.info.class_counts
    if not saved or len(saved) != len(now) or saved == now:
        return ""
    changes = "; ".join(f"{name}: {a:,} -> {b:,} pictures, {b - a:+,}"
                        for name, a, b in zip(bundle.info.class_names, saved, now) if a != b)
    return (f"the folder changed since the checkpoint ({changes}): pictures added join the "
            "split by the run's rule, and the others stay on their side")


def _claim(run_dir: Path, resumed: Continuation | None) -> RunLock:
    """Take the run folder's writer lock; a new run (``resumed`` None) also needs the
    folder to hold nothing yet, so no run is ever overwritten. A resume refused for the
    lock says so as the window and the command line do before loading."""
    lock_file = run_dir / WRITER_LOCK
    had_lock_file = lock_file.exists()
    try:
        lock = RunLock.acquire(run_dir)
    except RunBusyError:
        if resumed is None:
            raise
        raise RunBeingWritten(run_dir, resumed.name) from None
    if resumed is None and holds_files(run_dir):
        if not had_lock_file:  # a refused folder is left as it was found
            lock_file.unlink(missing_ok=True)
        lock.release()
        what = "a run" if is_run_dir(run_dir) else "other files"
        raise LaunchError("run_dir", f"{run_dir} already holds {what}; choose a new folder "
                                     "(or resume the run from its checkpoint)")
    return lock


def _let_go(lock: RunLock) -> None:
    """Release a folder claimed for a run that never started, and remove it if this
    claim is all it holds."""
    empty = not holds_files(lock.run_dir)
    if empty:
        (lock.run_dir / WRITER_LOCK).unlink(missing_ok=True)
    lock.release()
    if empty:
        try:
            lock.run_dir.rmdir()
        except OSError:
            pass  # someone else's by now: theirs to keep


def _where(config: TrainConfig, continuation: Continuation | None, runs_dir: Path | None,
           run_dir: Path | None) -> tuple[Path | None, Path | None, str]:
    """(the folder to record in, the parent run, a note) for this kind of run."""
    def new_folder() -> Path:
        return new_run_dir(runs_dir or default_runs_dir(), config)

    if continuation is None:
        return run_dir or new_folder(), None, ""
    source = continuation.source_run
    if continuation.kind == RunKind.INSPECT:
        return None, None, ""
    if continuation.kind == RunKind.BRANCH:
        if run_dir is not None and source is not None and _same(run_dir, source):
            raise LaunchError("run_dir", "a branch needs a folder of its own, not its parent's")
        return run_dir or new_folder(), source, ""
    target = run_dir or source
    if target is None:  # a checkpoint outside any run folder starts a run of its own
        return new_folder(), None, ""
    if source is not None and _same(target, source) and _went_on_past(source, continuation):
        branch = new_folder()
        return branch, source, (f"{source.name} went on past epoch {continuation.epoch}: "
                                f"branching into {branch}")
    return target, None, ""


def _same(a: Path, b: Path) -> bool:
    return a.resolve() == b.resolve()


def _went_on_past(run: Path, continuation: Continuation) -> bool:
    """Whether continuing in ``run`` would overwrite epochs recorded after the checkpoint."""
    try:
        return read_summary(run).epochs_done > continuation.epoch
    except RunError:
        return False


def _overrides(config: TrainConfig, continuation: Continuation) -> dict[str, Any]:
    """What ``config`` sets for the continued run: what the continuation lets a person edit
    and the data folder (where this machine keeps the data, not a setting of the run), and
    (unless only inspecting) the total of epochs."""
    offered = continuation.config()
    keys = (*continuation.editable, "data_dir")
    changed = {k: getattr(config, k) for k in keys if getattr(config, k) != getattr(offered, k)}
    if continuation.kind != RunKind.INSPECT:
        changed["epochs"] = config.epochs
    return changed


def trainer_from_checkpoint(state: dict[str, Any], callbacks: Sequence[Callback] = (), *,
                            data: DataBundle, report_interval: float = REPORT_INTERVAL,
                            group: Group | None = None, **overrides: Any) -> Trainer:
    """A :class:`Trainer` that continues a checkpointed run on ``data``.

    ``overrides`` may set ``epochs`` (the new total), ``device``, ``data_dir`` and
    ``augment`` (from this checkpoint on), and edit
    any of the trainer's ``EDITABLE`` settings (learning rate, optimizer, ...): those edits
    take effect at once and are recorded in ``trainer.changes``, like edits made while
    paused (the callbacks hear of them before ``on_train_start``).
    """
    fixed = {k: v for k, v in overrides.items()
             if k in ("epochs", "device", "data_dir", "augment")}
    edits = {k: v for k, v in overrides.items() if k in EDITABLE and k != "epochs"}
    others = sorted(set(overrides) - set(fixed) - set(edits))
    if others:
        raise LaunchError(others[0], "cannot change when continuing from a checkpoint")
    try:
        config = TrainConfig.from_dict({**state["config"], **fixed})
        config.validate()
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"the checkpoint's settings are not usable: {exc}") from None
    trainer = Trainer(config, callbacks, data=data, report_interval=report_interval,
                      group=group)
    try:
        trainer.load_state_dict(state)
    except Exception as exc:  # load_checkpoint checked the weights; this is the rest
        raise CheckpointError(f"the checkpoint's training state is not usable: "
                              f"{first_line(exc)}") from None
    if edits:
        trainer.request_changes(**edits)  # ValueError("field: reason") for a bad edit
        trainer.apply_pending_changes(epoch_start=True)
    return trainer
