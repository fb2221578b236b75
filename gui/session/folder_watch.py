"""File events of a run folder that another process writes, as the wake-up call of the
task that follows it. The task looks every few seconds anyway: events do not cross
network disks, and a watch is lost when its folder is removed."""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QObject


class FolderWatch(QObject):
    """Sets ``wake`` whenever ``run_dir``, its ``checkpoints/`` or ``snapshots/`` change
    (every file there is replaced by a rename, which a folder's watch sees); until
    ``run_dir`` exists, whenever its parent changes."""

    def __init__(self, run_dir: Path, wake: threading.Event,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._wake = wake
        self._run_dir = run_dir
        self._watcher = QFileSystemWatcher(self)
        self._watcher.directoryChanged.connect(self._on_changed)
        self.update()

    @property
    def watched(self) -> list[str]:
        return self._watcher.directories()

    def update(self) -> None:
        """Watch the folders that exist now (a new folder, or one made again, has no
        watch yet)."""
        run = self._run_dir
        wanted = {str(p) for p in (run, run / "checkpoints", run / "snapshots") if p.is_dir()}
        if not wanted and run.parent.is_dir():
            wanted = {str(run.parent)}
        have = set(self._watcher.directories())
        if have - wanted:
            self._watcher.removePaths(sorted(have - wanted))
        if wanted - have:
            self._watcher.addPaths(sorted(wanted - have))

    def stop(self) -> None:
        if self._watcher.directories():
            self._watcher.removePaths(self._watcher.directories())

    def _on_changed(self, _path: str) -> None:
        self._wake.set()
        self.update()
