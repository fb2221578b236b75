"""The runs folder, as the window sees it: the runs in it, which one is training here and
which another process is writing, and the only place the window renames or deletes a run."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from cnn_core.runs.lock import is_being_written
from cnn_core.runs.store import (BatchLog, RunError, RunSummary, delete_run, is_run_dir,
                                 list_runs, read_batches, read_metrics, read_summary, rename_run)
from cnn_core.train.callbacks import EpochMetrics


def same_run(a: Path | None, b: Path | None) -> bool:
    """Whether two spellings name one folder."""
    return a is not None and b is not None and Path(a).resolve() == Path(b).resolve()


@dataclass(frozen=True)
class RunCurves:
    """A recorded run's curves, read back from its folder."""

    key: str  # the run folder, as a stable identity
    name: str
    history: list[EpochMetrics]
    batches: BatchLog | None


class RunsModel(QObject):
    folderChanged = Signal(object)  # Path
    runsChanged = Signal()  # runs added, renamed or deleted: read the list again
    runUpdated = Signal(object)  # Path: one run's summary changed (an epoch ended)
    runDeleted = Signal(object)  # Path
    activeChanged = Signal(object)  # Path | None: the run being trained here
    curvesUnreadable = Signal(object, str)  # Path, why: its curves could not be read

    def __init__(self, folder: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._folder = Path(folder)
        self._active: Path | None = None

    @property
    def folder(self) -> Path:
        return self._folder

    @property
    def active(self) -> Path | None:
        return self._active

    def set_folder(self, path: Path) -> None:
        """Keep runs in ``path`` from now on; raises OSError if it cannot be made."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        self._folder = path
        self.folderChanged.emit(path)
        self.runsChanged.emit()

    def set_active(self, run: Path | None) -> None:
        self._active = run
        self.activeChanged.emit(run)
        self.runsChanged.emit()

    def runs(self) -> list[RunSummary]:
        return list_runs(self._folder)

    def problem(self) -> str:
        """Why the runs folder can hold no runs; '' when it can (or will, once the first
        run makes it)."""
        if self._folder.exists() and not self._folder.is_dir():
            return f"{self._folder} is a file, not a folder: change the runs folder"
        if self._folder.is_dir() and not os.access(self._folder, os.R_OK | os.X_OK):
            return f"{self._folder} cannot be read: change the runs folder"
        return ""

    def summary(self, run: Path) -> RunSummary | None:
        try:
            return read_summary(run)
        except RunError:
            return None

    def writers(self) -> set[Path]:
        """The run folders that some process, this one included, is writing now. Cheap
        enough to ask every few seconds: a directory listing and a lock probe per folder,
        no file is read."""
        try:
            with os.scandir(self._folder) as entries:
                folders = [Path(e.path) for e in entries if e.is_dir()]
        except OSError:
            return set()
        return {p for p in folders if is_being_written(p) and is_run_dir(p)}

    def written_elsewhere(self, run: Path) -> bool:
        """Whether another process (``python -m cnn_core train``, another window) is
        writing ``run``: it may be read, but not resumed, renamed or deleted meanwhile."""
        return not same_run(run, self._active) and is_being_written(run)

    def curves(self, run: Path) -> RunCurves:
        """Raises RunError if the run's files cannot be read (``curvesUnreadable`` says
        so first)."""
        try:
            summary = read_summary(run)
            return RunCurves(str(run), summary.name, read_metrics(run), read_batches(run))
        except RunError as exc:
            self.curvesUnreadable.emit(run, str(exc))
            raise

    def rename(self, run: Path, name: str) -> None:
        """Raises RunError or OSError with the reason; a run being written refuses (its
        writer rewrites the summary every epoch)."""
        if same_run(run, self._active):
            raise RunError("it is training: rename it when it has stopped")
        if self.written_elsewhere(run):
            raise RunError("another process is writing it: rename it when that has finished")
        rename_run(run, name)
        self.runsChanged.emit()

    def delete(self, runs: list[Path]) -> list[str]:
        """Delete ``runs``; the reasons for those that could not be deleted."""
        failures = []
        for run in runs:
            if same_run(run, self._active):
                failures.append(f"{run.name}: it is training, stop it first")
                continue
            if self.written_elsewhere(run):
                failures.append(f"{run.name}: another process is writing it, wait for that "
                                "to finish")
                continue
            try:
                delete_run(run)
            except (RunError, OSError) as exc:
                failures.append(f"{run.name}: {exc}")
                continue
            self.runDeleted.emit(run)
        self.runsChanged.emit()
        return failures

    def epoch_recorded(self, run: Path) -> None:
        self.runUpdated.emit(run)
