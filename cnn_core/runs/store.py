"""The run history on disk: one folder per run, read back for listing, comparing,
resuming, branching and export.

Layout of a run folder (written by :class:`cnn_core.runs.recorder.RunRecorder`)::

    config.json               the TrainConfig (after any edits made while paused)
    metrics.csv               one row per finished epoch (METRIC_COLUMNS)
    batches.csv               one row per training batch: step, epoch, loss, lr
    summary.json              name, status, best test accuracy and epoch, time, device,
                              parent (for a branch), settings changed during the run
    checkpoints/last.pt       the end of the latest epoch (the resume point)
    checkpoints/best.pt       the epoch with the best test accuracy
    snapshots/epoch-NNNN.npz  the weights (float16, float32 beyond its range) after epoch
                              NNNN: ``filters/<conv layer>`` and ``state/<state_dict
                              key>``, for the time-lapse (runs/snapshots.py)
    snapshots/fixed.npz       what does not train (a frozen backbone), once per run
    .writer.lock              locked by the one process writing the run (runs/lock.py)

Every file is replaced atomically, so a run killed at any moment leaves each file it had
already written readable.
"""

from __future__ import annotations

import csv
import json
import math
import re
import shutil
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from .errors import RunError  # also imported from here, as it always was
from .lock import WRITER_LOCK, RunLock
# also imported from here, as they always were
from .snapshots import Snapshot, read_snapshot, read_snapshots, snapshot_epoch  # noqa: F401
from ..train.callbacks import EpochMetrics, RunStatus, SettingsChange
from ..train.config import TrainConfig, is_start_record

METRIC_COLUMNS = ("epoch", "train_loss", "train_acc", "test_loss", "test_acc", "lr", "seconds",
                  "images_per_sec")
BATCH_COLUMNS = ("step", "epoch", "loss", "lr")
SUMMARY = "summary.json"
SWEEP_FILE = "sweep.json"  # marks a sweep's folder: its trials' runs (cnn_core.sweep)


@dataclass
class RunSummary:
    """What the runs list shows about one run (the contents of ``summary.json``)."""

    path: Path
    name: str
    arch: str
    dataset: str
    device: str = ""
    created: str = ""  # ISO 8601, local time
    updated: str = ""
    status: RunStatus = RunStatus.RUNNING
    epochs_done: int = 0
    epochs: int = 0
    best_test_acc: float | None = None
    best_epoch: int | None = None
    train_seconds: float = 0.0
    parent: dict[str, Any] | None = None  # {"run": folder name, "epoch": k} for a branch
    changes: list[SettingsChange] = field(default_factory=list)  # see Trainer.changes
    class_names: list[str] = field(default_factory=list)  # what the model tells apart
    note: str = ""  # how the run ended, where that needs saying (an early stop)
    sweep: dict[str, Any] | None = None  # a sweep's trial: {"name": sweep, "trial": number}
    # a fine-tuned run's start, as its config records it: {"path", "sha256", "copied", "fresh"}
    init_from: dict[str, Any] | None = None
    problem: str = ""  # why the run's record is unreadable (its checkpoints may still open)

    @property
    def damaged(self) -> bool:
        return bool(self.problem)

    def to_json(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if k not in ("path", "problem")}
        return {**data, "status": RunStatus(self.status).value,
                "changes": [c.to_dict() for c in self.changes]}

    @property
    def last_checkpoint(self) -> Path:
        return self.path / "checkpoints" / "last.pt"

    @property
    def best_checkpoint(self) -> Path:
        return self.path / "checkpoints" / "best.pt"


def is_run_dir(path: str | Path) -> bool:
    path = Path(path)
    return (path / SUMMARY).is_file() or (path / "config.json").is_file()


def enclosing_run(path: str | Path) -> Path | None:
    """The run folder that ``path`` is or lies in (links followed), or None: what must
    never be written over from outside the run. A folder counts by its summary, or by a
    config with a run's checkpoints or metrics beside it (a home folder holding some other
    tool's config.json is not a run)."""
    def is_run(folder: Path) -> bool:
        return (folder / SUMMARY).is_file() or ((folder / "config.json").is_file() and (
            (folder / "checkpoints").is_dir() or (folder / "metrics.csv").is_file()))

    resolved = Path(path).resolve()
    return next((p for p in (resolved, *resolved.parents) if is_run(p)), None)


def holds_files(folder: str | Path) -> bool:
    """Whether ``folder`` holds anything besides a writer's lock file."""
    folder = Path(folder)
    return folder.is_dir() and any(p.name != WRITER_LOCK for p in folder.iterdir())


def run_of_checkpoint(checkpoint: str | Path) -> Path | None:
    """The run folder a checkpoint lives in (``RUN/checkpoints/x.pt``), or None."""
    run = Path(checkpoint).parent.parent
    return run if Path(checkpoint).parent.name == "checkpoints" and is_run_dir(run) else None


def shown_checkpoint(run_dir: str | Path) -> Path:
    """The checkpoint that stands for a run when it is opened or exported: the best one,
    else the last (a run that stopped before best.pt existed)."""
    best = Path(run_dir) / "checkpoints" / "best.pt"
    return best if best.is_file() else Path(run_dir) / "checkpoints" / "last.pt"


def new_run_dir(runs_dir: str | Path, config: TrainConfig) -> Path:
    """A fresh, not yet existing folder named after the time, architecture and dataset."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    arch, dataset = (re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-.") or fallback
                     for name, fallback in ((config.arch, "network"),
                                            (Path(config.dataset).name, "pictures")))
    base = Path(runs_dir) / f"{stamp}-{arch[:40]}-{dataset[:40]}"
    path, n = base, 1
    while path.exists():
        n += 1
        path = base.with_name(f"{base.name}-{n}")
    return path


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RunError(f"{path}: unreadable ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise RunError(f"{path}: not a JSON object")
    return data


def read_config(run_dir: str | Path) -> TrainConfig:
    """The run's settings, checked as a new run's would be (but for the device: a run
    trained on a GPU stays readable without one)."""
    path = Path(run_dir) / "config.json"
    try:
        config = TrainConfig.from_dict(_read_json(path))
        replace(config, device="cpu").validate()
    except (TypeError, ValueError) as exc:
        raise RunError(f"{path}: {exc}") from None
    return config


def read_summary(run_dir: str | Path) -> RunSummary:
    """The run's summary, every field checked; a run recorded before summaries existed
    gets one from its config. Raises :class:`RunError` naming the first bad field."""
    run_dir = Path(run_dir)
    known = set(_SUMMARY_TYPES)
    if (run_dir / SUMMARY).is_file():
        data = {k: v for k, v in _read_json(run_dir / SUMMARY).items() if k in known}
    else:
        config = read_config(run_dir)
        data = {"arch": config.arch, "dataset": config.dataset, "epochs": config.epochs}
    data.setdefault("name", run_dir.name)
    if "arch" not in data or "dataset" not in data:
        raise RunError(f"{run_dir}: the summary names no architecture or dataset")
    try:
        for key, value in data.items():
            _check_field(key, value)
        if "status" in data:
            data["status"] = RunStatus(data["status"])
        data["changes"] = [SettingsChange.from_dict(c) for c in data.get("changes", [])]
        return RunSummary(path=run_dir, **data)
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise RunError(f"{run_dir / SUMMARY}: {exc}") from None


_SUMMARY_TYPES: dict[str, tuple[type, ...]] = {
    "name": (str,), "arch": (str,), "dataset": (str,), "device": (str,), "created": (str,),
    "updated": (str,), "status": (str,), "epochs_done": (int,), "epochs": (int,),
    "best_test_acc": (float, int, type(None)), "best_epoch": (int, type(None)),
    "train_seconds": (float, int), "parent": (dict, type(None)), "changes": (list,),
    "class_names": (list,), "note": (str,), "sweep": (dict, type(None)),
    "init_from": (dict, type(None)),
}


def _check_field(key: str, value: Any) -> None:
    """Raise ValueError unless ``value`` is what ``summary.json`` keeps under ``key``."""
    if not isinstance(value, _SUMMARY_TYPES[key]) or isinstance(value, bool):
        raise ValueError(f"{key}: expected {' or '.join(t.__name__ for t in _SUMMARY_TYPES[key])},"
                         f" got {value!r:.40}")
    if isinstance(value, (int, float)) and not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{key}: must be a number of at least 0, got {value!r}")
    if key == "best_test_acc" and value is not None and value > 1:
        raise ValueError(f"{key}: must be a fraction between 0 and 1, got {value!r}")
    if key == "parent" and value is not None:
        if not isinstance(value.get("run"), str):
            raise ValueError("parent: names no run folder")
        for part, missing in (("epoch", None), ("step", 0)):  # older branches have no step
            number = value.get(part, missing)
            if not isinstance(number, int) or isinstance(number, bool) or number < 0:
                raise ValueError(f"parent: {part} must be a whole number, got {number!r:.40}")
    if key == "init_from" and value is not None and not is_start_record(value):
        raise ValueError(f"init_from: expected {{path, sha256, copied, fresh}}, got "
                         f"{value!r:.60}")


def write_summary(summary: RunSummary) -> None:
    from .atomic import atomic_write_text

    atomic_write_text(summary.path / SUMMARY, json.dumps(summary.to_json(), indent=2) + "\n")


def list_runs(runs_dir: str | Path) -> list[RunSummary]:
    """Every run under ``runs_dir`` (a sweep's trials, in ``runs_dir/NAME``, included),
    newest first; one whose record cannot be read is listed as damaged (``problem`` says
    why), so it is never silently hidden."""
    runs_dir = Path(runs_dir)
    try:
        folders = [p for p in runs_dir.iterdir() if p.is_dir() and is_run_dir(p)]
        for sweep in (p for p in runs_dir.iterdir() if (p / SWEEP_FILE).is_file()):
            folders += [p for p in sweep.iterdir() if p.is_dir() and is_run_dir(p)]
    except OSError:
        return []
    runs = []
    for path in folders:
        try:
            runs.append(read_summary(path))
        except RunError as exc:
            runs.append(damaged_run(path, str(exc)))
    runs.sort(key=lambda r: (r.created or r.path.name, r.path.name), reverse=True)
    return runs


def damaged_run(path: Path, problem: str) -> RunSummary:
    """What is known of a run whose record cannot be read: its folder and the reason."""
    try:
        created = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(path.stat().st_mtime))
    except OSError:
        created = ""
    return RunSummary(path=path, name=path.name, arch="?", dataset="?", created=created,
                      status=RunStatus.FAILED, problem=problem)


def read_metrics(run_dir: str | Path) -> list[EpochMetrics]:
    """The per-epoch metrics of a run ([] before its first epoch has finished)."""
    path = Path(run_dir) / "metrics.csv"
    if not path.is_file():
        return []
    try:
        with path.open(newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        return [metrics_row(r) for r in rows]
    except (OSError, KeyError, TypeError, ValueError) as exc:
        raise RunError(f"{path}: unreadable ({type(exc).__name__}: {exc})") from None


def metrics_row(row: dict[str, str]) -> EpochMetrics:
    """One row of ``metrics.csv``, by column name; KeyError or ValueError if damaged."""
    return EpochMetrics(epoch=int(row["epoch"]),
                        **{k: float(row[k]) for k in METRIC_COLUMNS if k != "epoch"})


@dataclass
class BatchLog:
    """Every training batch of a run, as columns."""

    step: np.ndarray  # int64, 1-based global step
    epoch: np.ndarray  # int64, 1-based epoch the batch belongs to
    loss: np.ndarray  # float64
    lr: np.ndarray  # float64

    @classmethod
    def empty(cls) -> BatchLog:
        return cls(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0))

    def __len__(self) -> int:
        return len(self.step)

    def upto(self, step: int) -> BatchLog:
        """The batches up to global step ``step``: what a checkpoint made then had seen."""
        keep = self.step <= step
        return BatchLog(self.step[keep], self.epoch[keep], self.loss[keep], self.lr[keep])


def read_batches(run_dir: str | Path) -> BatchLog:
    path = Path(run_dir) / "batches.csv"
    if not path.is_file():
        return BatchLog.empty()
    try:
        table = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    except (OSError, ValueError) as exc:
        raise RunError(f"{path}: unreadable ({type(exc).__name__})") from None
    if table.size == 0:
        table = np.zeros((0, len(BATCH_COLUMNS)))
    if table.shape[1] != len(BATCH_COLUMNS):
        raise RunError(f"{path}: {table.shape[1]} columns, not {len(BATCH_COLUMNS)}")
    return BatchLog(table[:, 0].astype(np.int64), table[:, 1].astype(np.int64),
                    table[:, 2], table[:, 3])


def batches_csv(log: BatchLog) -> str:
    lines = [",".join(BATCH_COLUMNS)]
    lines += [f"{s},{e},{loss!r},{lr!r}" for s, e, loss, lr in
              zip(log.step.tolist(), log.epoch.tolist(), log.loss.tolist(), log.lr.tolist())]
    return "\n".join(lines) + "\n"


def rename_run(run_dir: str | Path, name: str) -> RunSummary:
    """Give a run a display name (its folder keeps its name, so links to it still work)."""
    name = name.strip()
    if not name:
        raise RunError("a run's name cannot be empty")
    if len(name) > 200:
        raise RunError("a run's name can be at most 200 characters")
    with RunLock.acquire(run_dir):  # not while a run writes its summary
        summary = read_summary(run_dir)
        summary.name = name
        write_summary(summary)
    return summary


def delete_run(run_dir: str | Path) -> None:
    """Remove a run folder; refuses anything that does not look like a run."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir() or not is_run_dir(run_dir):
        raise RunError(f"{run_dir}: not a run folder, left alone")
    with RunLock.acquire(run_dir):  # never from under a process writing it
        shutil.rmtree(run_dir)
