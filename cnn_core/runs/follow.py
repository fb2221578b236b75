"""Following a run folder that another process writes: what is new since the last look.

The writer replaces each file atomically, and its CSV files only ever grow, so each look
reads just the bytes appended since the previous one. A disk synced from elsewhere may
show a file part-written: a last line without its newline is held back until complete.
A file that got shorter, or whose bytes before the point read so far changed (a resume
rewrote it), is read again from the top, and the follower says so.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import BinaryIO

import numpy as np

from .atomic import TEMP_SUFFIX
from .lock import WRITER_LOCK
from .store import (BATCH_COLUMNS, METRIC_COLUMNS, SUMMARY, BatchLog, RunError, RunSummary,
                    is_run_dir, metrics_row, read_summary)
from ..train.callbacks import EpochMetrics, RunStatus

TAIL = 64  # bytes before the point read so far that must not change between looks


class AppendedLines:
    """The complete lines appended to a text file since the last :meth:`read`."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.offset = 0  # bytes consumed: every line before it has been returned
        self.reset = False  # the last read started again from the top
        self._tail = b""  # the last bytes before ``offset``, as they were read

    def read(self) -> list[str]:
        """New complete lines (without their newline); [] for a missing file."""
        self.reset = False
        try:
            with self.path.open("rb") as f:
                if os.fstat(f.fileno()).st_size < self.offset or not self._tail_unchanged(f):
                    self.offset, self._tail, self.reset = 0, b"", True
                f.seek(self.offset)
                data = f.read()
        except OSError:
            return []  # missing, or gone between two calls: look again later
        end = data.rfind(b"\n") + 1  # a partial last line waits for its newline
        if not end:
            return []
        complete = data[:end]
        self.offset += end
        self._tail = (self._tail + complete)[-TAIL:]
        return [line.decode("utf-8", errors="replace").rstrip("\r")
                for line in complete.split(b"\n")[:-1]]

    def _tail_unchanged(self, f: BinaryIO) -> bool:
        if not self._tail:
            return True
        f.seek(self.offset - len(self._tail))
        return f.read(len(self._tail)) == self._tail


@dataclass
class RunUpdate:
    """What changed in a run folder since the previous :meth:`RunFollower.poll`."""

    metrics: list[EpochMetrics] = field(default_factory=list)  # new rows of metrics.csv
    batches: BatchLog = field(default_factory=BatchLog.empty)  # new rows of batches.csv
    snapshots: list[Path] = field(default_factory=list)  # new or rewritten, oldest first
    summary: RunSummary | None = None  # as it is now; None when unreadable or missing
    checkpoint: Path | None = None  # checkpoints/last.pt, when it changed
    reset: bool = False  # the files were rewritten: everything is reported from the top
    updated: float = 0.0  # the latest modification time of the run's files (time.time())

    @property
    def finished(self) -> bool:
        """Whether the run's summary says it is no longer running."""
        return self.summary is not None and self.summary.status != RunStatus.RUNNING


class RunFollower:
    """Looks at ``run_dir`` on each :meth:`poll`, reading only what was appended."""

    def __init__(self, run_dir: str | Path) -> None:
        self.run_dir = Path(run_dir)
        self._restart()

    def _restart(self) -> None:
        self._metrics = AppendedLines(self.run_dir / "metrics.csv")
        self._batches = AppendedLines(self.run_dir / "batches.csv")
        self._metric_columns: list[str] = list(METRIC_COLUMNS)
        self._seen: dict[Path, tuple[int, int]] = {}  # file -> (mtime_ns, size) reported

    def poll(self) -> RunUpdate:
        """What is new. The summary is read first: the writer saves it last, so whatever
        it claims is already on disk when the other files are read."""
        update = RunUpdate(summary=self._summary())
        fresh = self._metrics.offset == 0
        metric_lines = self._metrics.read()
        batch_lines = self._batches.read()
        if self._metrics.reset or self._batches.reset:
            self._restart()
            update = self.poll()
            update.reset = True
            return update
        if fresh and metric_lines:  # the header names the columns
            self._metric_columns = next(csv.reader([metric_lines.pop(0)]))
        update.metrics = [m for m in map(self._metric, metric_lines) if m is not None]
        update.batches = _batch_rows(batch_lines)
        update.snapshots = [p for p in sorted((self.run_dir / "snapshots").glob("epoch-*.npz"))
                            if self._changed(p)]
        last = self.run_dir / "checkpoints" / "last.pt"
        update.checkpoint = last if self._changed(last) else None
        update.updated = max((_mtime(self.run_dir / name) for name in
                              (SUMMARY, "metrics.csv", "batches.csv", "checkpoints/last.pt")),
                             default=0.0)
        return update

    def _summary(self) -> RunSummary | None:
        try:
            return read_summary(self.run_dir)
        except RunError:
            return None  # not there yet, or caught part-written: read at the next poll

    def _metric(self, line: str) -> EpochMetrics | None:
        row = dict(zip(self._metric_columns, next(csv.reader([line]), [])))
        try:
            return metrics_row(row)
        except (KeyError, ValueError):
            return None  # a damaged row: the curves go on without it

    def _changed(self, path: Path) -> bool:
        """Whether ``path`` exists and differs from when it was last reported."""
        try:
            stat = path.stat()
        except OSError:
            return False
        key = (stat.st_mtime_ns, stat.st_size)
        if self._seen.get(path) == key:
            return False
        self._seen[path] = key
        return True


def _batch_rows(lines: list[str]) -> BatchLog:
    rows = []
    for line in lines:
        parts = line.split(",")
        try:
            if len(parts) == len(BATCH_COLUMNS):
                rows.append((int(parts[0]), int(parts[1]), float(parts[2]), float(parts[3])))
        except ValueError:
            continue  # the header, or a damaged row
    if not rows:
        return BatchLog.empty()
    step, epoch, loss, lr = zip(*rows)
    return BatchLog(np.array(step, np.int64), np.array(epoch, np.int64), np.array(loss),
                    np.array(lr))


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


class FolderKind(str, Enum):
    RUN = "run"  # holds a run (its config or summary)
    EMPTY = "empty"  # missing, or nothing yet but a writer's lock and temp files
    RUNS = "runs"  # a runs folder: runs, each in a folder of its own
    OTHER = "other"  # holds files that are not a run's
    FILE = "file"  # not a folder at all


def folder_kind(folder: str | Path) -> FolderKind:
    """What ``folder`` holds, for a watcher that waits for a run to start in it."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        return FolderKind.FILE
    if is_run_dir(folder):
        return FolderKind.RUN
    try:
        paths = list(folder.iterdir())
    except OSError:
        return FolderKind.EMPTY if not folder.exists() else FolderKind.OTHER
    starting = {WRITER_LOCK, "checkpoints", "snapshots"}
    if all(p.name in starting or (p.name.startswith(".") and p.name.endswith(TEMP_SUFFIX))
           for p in paths):
        return FolderKind.EMPTY
    return FolderKind.RUNS if any(is_run_dir(p) for p in paths) else FolderKind.OTHER
