"""The one way to start a run: fresh, resumed, branched from a checkpoint, or only opened
for inspection. The command line and the window both call :func:`launch`, so a run folder
means the same whichever started it."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from .callbacks import Callback
from .config import TrainConfig
from .distributed import DistributedError, Group
from .trainer import EDITABLE, REPORT_INTERVAL, Trainer
from ..data.bundle import DataBundle, ProgressFn
from ..data.source import from_text, resolve
from ..paths import default_runs_dir
from ..runs.checkpoint import CheckpointError, checkpoint_dataset, checkpoint_lr, load_checkpoint
from ..runs.errors import first_line
from ..runs.lock import WRITER_LOCK, RunLock
from ..runs.recorder import RunRecorder
from ..runs.store import (RunError, holds_files, is_run_dir, new_run_dir, read_summary,
                          run_of_checkpoint, shown_checkpoint)

# What makes a run that run: a continuation keeps them, whatever else is edited.
FIXED = ("arch", "network", "dataset", "seed", "image_size", "channels", "test_fraction")


class LaunchError(ValueError):
    """A run that cannot start as asked; the message says why (one line), as
    ``"field: reason"`` with ``field`` the setting (or path) at fault."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field, self.reason = field, reason


class RunKind(str, Enum):
    FRESH = "fresh"
    RESUME = "resume"  # the same run goes on, in its own folder
    BRANCH = "branch"  # a new run that starts from another run's checkpoint
    INSPECT = "inspect"  # a checkpoint shown, not trained: nothing is written

    @property
    def verb(self) -> str:
        return {"fresh": "starting", "resume": "resuming", "branch": "branching",
                "inspect": "inspecting"}[self.value]


@dataclass(frozen=True)
class Continuation:
    """A loaded checkpoint the next run continues from."""

    kind: RunKind  # RESUME, BRANCH or INSPECT (never FRESH)
    state: dict[str, Any]  # load_checkpoint(path)
    path: Path  # the checkpoint file
    source_run: Path | None  # the run folder the checkpoint lives in, if any
    name: str  # the source run's name, else the file's

    @property
    def epoch(self) -> int:
        return int(self.state["epoch"])

    def config(self) -> TrainConfig:
        """The settings to offer for the next run: the checkpoint's, with the learning rate
        it had reached and room for more epochs (a branch gets five)."""
        config = TrainConfig.from_dict({**self.state["config"], "lr": checkpoint_lr(self.state)})
        if self.kind == RunKind.RESUME:
            config.epochs = max(config.epochs, self.epoch + 1)
        elif self.kind == RunKind.BRANCH:
            config.epochs = self.epoch + 5
        return config


def relocated(continuation: Continuation, folder: str | Path) -> Continuation:
    """``continuation`` reading its pictures from ``folder``, where the folder it was
    trained on now is (the run's own files stay as recorded). LaunchError if its data is
    not a folder of pictures, or ``folder`` is not one."""
    source = resolve(continuation.state["config"]["dataset"])
    if not source.has_picture_settings:
        raise LaunchError("dataset", f"{source.display_name} is not a folder of pictures")
    moved = from_text(str(folder))
    if not moved.has_picture_settings:
        raise LaunchError("dataset", f"{folder} is a built-in dataset, not a folder")
    state = {**continuation.state,
             "config": {**continuation.state["config"], "dataset": moved.name}}
    return dataclasses.replace(continuation, state=state)


def open_continuation(path: str | Path, kind: RunKind) -> Continuation:
    """Load the checkpoint at ``path`` (a ``.pt`` file or a run folder) to continue from.

    A run folder stands for its last checkpoint when resuming (the run goes on from where
    it is), else for its shown one (the best). Slow: it reads the whole file. Raises
    :class:`CheckpointError` or :class:`LaunchError` with the reason.
    """
    kind = RunKind(kind)
    if kind == RunKind.FRESH:
        raise LaunchError("kind", "a fresh run continues from no checkpoint")
    path = Path(path)
    if path.is_dir():
        if not is_run_dir(path):
            raise CheckpointError(f"{path}: not a run folder or a checkpoint")
        path = (path / "checkpoints" / "last.pt" if kind == RunKind.RESUME
                else shown_checkpoint(path))
    state = load_checkpoint(path)
    path = path.resolve()
    source_run = run_of_checkpoint(path)
    return Continuation(kind, state, path, source_run, _run_name(source_run, path.name))


def _run_name(run: Path | None, fallback: str) -> str:
    if run is None:
        return fallback
    try:
        return read_summary(run).name
    except RunError:
        return run.name


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
    config.validate()
    if continuation is not None:
        _check_continuation(config, continuation)
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
            lock = _claim(run_dir, continues_it)
            # first: the files are written before the other callbacks hear
            hooks.insert(0, RunRecorder(run_dir, parent=parent, lock=lock))
        bundle, missing = ((data, "") if data is not None else
                           _data_for(config, continuation, progress, cancel))
        config = _as_loaded(config, bundle, continuation)
        if group is not None and not group.all(True):
            raise DistributedError("another process of this run could not start it "
                                   "(its message says why)")
        interval = REPORT_INTERVAL if report_interval is None else report_interval
        if continuation is None:
            trainer = Trainer(config, hooks, data=bundle, report_interval=interval,
                              group=group)
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


def _claim(run_dir: Path, continues_it: bool) -> RunLock:
    """Take the run folder's writer lock; a new run also needs the folder to hold nothing
    yet, so no run is ever overwritten."""
    lock = RunLock.acquire(run_dir)
    if not continues_it and holds_files(run_dir):
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


def _check_continuation(config: TrainConfig, continuation: Continuation) -> None:
    saved = continuation.config()
    for key in FIXED:
        if getattr(config, key) != getattr(saved, key):
            was = "another network" if key == "network" else getattr(saved, key)
            raise LaunchError(key, f"cannot change when {continuation.kind.verb} "
                                   f"(the checkpoint is {was})")
    if continuation.kind != RunKind.INSPECT and config.epochs <= continuation.epoch:
        raise LaunchError("epochs", f"the checkpoint already has {continuation.epoch} epochs; "
                                    "ask for more")


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
    """What ``config`` sets for the continued run: device and data folder, and (unless only
    inspecting) the total of epochs and the settings edited from what was offered."""
    offered = continuation.config()
    keys: tuple[str, ...] = ("device", "data_dir")
    if continuation.kind != RunKind.INSPECT:
        keys += (*EDITABLE, "augment")
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
