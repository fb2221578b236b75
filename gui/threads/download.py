"""A dataset download as a task: progress about ten times a second, cancel between chunks."""

from __future__ import annotations

from pathlib import Path

from cnn_core.data import DatasetError, DatasetSource, DownloadCancelled

from .tasks import TaskState


def download(state: TaskState, source: DatasetSource, root: Path) -> Path:
    """The dataset's folder once it is there; raises DatasetError (DownloadCancelled if
    cancelled) with the reason."""
    return source.download(root, cancel=state.cancel_event, progress=state.throttled_progress())


def describe_failure(exc: Exception) -> str:
    if isinstance(exc, DownloadCancelled):
        return "Download cancelled."
    if isinstance(exc, DatasetError):
        return str(exc)
    return f"Download failed: {type(exc).__name__}: {exc}"
