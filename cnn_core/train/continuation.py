"""Every rule about going on from a checkpoint: what a resume, a branch or an inspection
keeps, what a person may edit first, how many epochs it runs, which run it continues and
when another process's run may not be resumed. The command line and the window both ask
these, and :func:`cnn_core.train.launch.launch` applies them."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from .config import TrainConfig
from ..data.source import from_text, resolve
from .live_edits import EDITABLE
from ..runs.checkpoint import CheckpointError, checkpoint_lr, load_checkpoint
from ..runs.lock import is_being_written
from ..runs.store import (RunError, is_run_dir, read_summary, run_of_checkpoint,
                          shown_checkpoint)

# What makes a run that run: a continuation keeps them, whatever else is edited.
FIXED = ("arch", "network", "dataset", "seed", "image_size", "channels", "test_fraction",
         "schedule", "warmup_epochs", "init_from", "freeze", "backbone_lr_scale")
BRANCH_EPOCHS = 5  # the epochs a branch offers beyond its checkpoint


class LaunchError(ValueError):
    """A run that cannot start as asked; the message says why (one line), as
    ``"field: reason"`` with ``field`` the setting (or path) at fault."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field, self.reason = field, reason


class RunBeingWritten(LaunchError):
    """A resume refused because another process is writing the run it would go on in."""

    def __init__(self, run: Path, name: str) -> None:
        super().__init__("resume", f"cannot resume “{name}”: another process is writing it. "
                                   "Wait for it to finish, or branch from it instead")
        self.run, self.name = run, name

    @property
    def sentence(self) -> str:
        """The refusal as a sentence on its own (the window's banner)."""
        return f"{self.reason[0].upper()}{self.reason[1:]}."


class RunKind(str, Enum):
    FRESH = "fresh"
    RESUME = "resume"  # the same run goes on, in its own folder
    BRANCH = "branch"  # a new run that starts from another run's checkpoint
    INSPECT = "inspect"  # a checkpoint shown, not trained: nothing is written

    @property
    def verb(self) -> str:
        return {"fresh": "starting", "resume": "resuming", "branch": "branching",
                "inspect": "inspecting"}[self.value]


def run_name(run: Path | None, fallback: str) -> str:
    """What a person calls ``run``: its summary's name, else its folder's (``fallback``
    when there is no run)."""
    if run is None:
        return fallback
    try:
        return read_summary(run).name
    except RunError:
        return run.name


def run_of(path: str | Path) -> Path | None:
    """The run folder a checkpoint, or a run folder given for its checkpoint, belongs to."""
    path = Path(path)
    return path if path.is_dir() and is_run_dir(path) else run_of_checkpoint(path)


def check_resumable(checkpoint: str | Path, run_dir: Path | None = None) -> None:
    """Refuse, before the checkpoint is read, to resume into a run another process is
    writing: it goes on writing epochs that the resume would overwrite or race.

    ``run_dir`` is where the resume was asked to record (None: the checkpoint's own run);
    resuming into another folder leaves the run alone and is allowed. Raises
    :class:`RunBeingWritten`.
    """
    run = run_of(checkpoint)
    if run is None or (run_dir is not None and run_dir.resolve() != run.resolve()):
        return
    if is_being_written(run):
        raise RunBeingWritten(run, run_name(run, run.name))


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

    @property
    def planned_epochs(self) -> int:
        """The epochs in total the checkpoint's run was started for."""
        return int(self.state["config"]["epochs"])

    @property
    def editable(self) -> tuple[str, ...]:
        """The settings a person may change before it starts: those a run may change
        along the way (the trainer's ``EDITABLE``), the device and augmentation; only the
        device when inspecting. Everything else stays the checkpoint's."""
        if self.kind == RunKind.INSPECT:
            return ("device",)
        return (*EDITABLE, "device", "augment")

    def config(self) -> TrainConfig:
        """The settings to offer for the next run: the checkpoint's, with the learning rate
        it had reached and room for more epochs (a resume at least one, a branch five). A
        branch of a sweep's trial is a run of its own, not that trial."""
        config = TrainConfig.from_dict({**self.state["config"], "lr": checkpoint_lr(self.state)})
        if self.kind == RunKind.RESUME:
            config.epochs = max(config.epochs, self.epoch + 1)
        elif self.kind == RunKind.BRANCH:
            config.epochs, config.sweep = self.epoch + BRANCH_EPOCHS, None
        return config

    def next_config(self, given: Mapping[str, Any]) -> TrainConfig:
        """The offered settings with those ``given`` by name (a command line's flags).
        Without ``epochs`` a resume goes on to its run's own total, not one epoch more: a
        run that has finished must then be given more."""
        given = dict(given)
        if self.kind == RunKind.RESUME:
            given.setdefault("epochs", self.planned_epochs)
        return dataclasses.replace(self.config(), **given)

    def inspection(self, data_dir: str | Path) -> TrainConfig:
        """The settings that show the checkpoint without training it: its own, evaluated
        on the CPU with the data in ``data_dir``."""
        return dataclasses.replace(self.config(), device="cpu", data_dir=str(data_dir))

    def relocated(self, folder: str | Path) -> Continuation:
        """This checkpoint reading its pictures from ``folder``, where the folder it was
        trained on now is (the run's own files stay as recorded). LaunchError if its data
        is not a folder of pictures, or ``folder`` is not one."""
        source = resolve(self.state["config"]["dataset"])
        if not source.has_picture_settings:
            raise LaunchError("dataset", f"{source.display_name} is not a folder of pictures")
        try:
            moved = from_text(str(folder))
        except ValueError as exc:
            raise LaunchError("dataset", str(exc)) from None
        if not moved.has_picture_settings:
            raise LaunchError("dataset", f"{folder} is a built-in dataset, not a folder")
        state = {**self.state, "config": {**self.state["config"], "dataset": moved.name}}
        return dataclasses.replace(self, state=state)

    def check(self, config: TrainConfig) -> None:
        """Raise :class:`LaunchError` if ``config`` cannot continue this checkpoint: it
        changes what makes the run that run, or asks for no epochs beyond it."""
        saved = self.config()
        for key in FIXED:
            if getattr(config, key) != getattr(saved, key):
                was = {"network": "another network",  # these two: too long to show
                       "init_from": "a run started from " + (
                           "another's weights" if saved.init_from else "scratch"),
                       }.get(key, getattr(saved, key))
                raise LaunchError(key, f"cannot change when {self.kind.verb} "
                                       f"(the checkpoint is {was})")
        if self.kind != RunKind.INSPECT and config.epochs <= self.epoch:
            raise LaunchError("epochs", f"the checkpoint already has {self.epoch} epochs; "
                                        "ask for more")


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
    return Continuation(kind, state, path, source_run, run_name(source_run, path.name))
