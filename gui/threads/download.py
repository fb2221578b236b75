"""A dataset download as a task: progress about ten times a second, cancel between chunks."""

from __future__ import annotations

import time
from pathlib import Path

from cnn_core.data import DatasetError, DownloadCancelled, download_dataset

from .tasks import TaskState


def download(state: TaskState, name: str, root: Path) -> Path:
    """The dataset's folder once it is there; raises DatasetError (DownloadCancelled if
    cancelled) with the reason."""
    last = 0.0

    def report(done: int, total: int | None, what: str) -> None:
        nonlocal last
        now = time.monotonic()  # chunks can arrive thousands of times a second
        if now - last >= 0.1 or (total and done >= total) or not done:
            last = now
            state.progress(done, total or 0, what)

    return download_dataset(name, root, cancel=state.cancel_event, progress=report)


def describe_failure(exc: Exception) -> str:
    if isinstance(exc, DownloadCancelled):
        return "Download cancelled."
    if isinstance(exc, DatasetError):
        return str(exc)
    return f"Download failed: {type(exc).__name__}: {exc}"
