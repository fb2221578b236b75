"""One writer per run folder: an OS lock on ``RUN/.writer.lock``.

The kernel drops the lock when its holder exits, however it exits, so a crashed or
killed run never leaves a folder locked.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from .atomic import make_folder
from .errors import RunError

WRITER_LOCK = ".writer.lock"
# A reader probing the lock holds it for microseconds; a writer retries this long first.
_ACQUIRE_PATIENCE = 1.0

if os.name == "nt":
    import msvcrt

    def _try_lock(fd: int, shared: bool) -> bool:
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
else:
    import fcntl

    def _try_lock(fd: int, shared: bool) -> bool:
        try:
            fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


class RunBusyError(RunError):
    """Another process is writing the run folder."""


class RunLock:
    """Held while one process writes a run folder; :meth:`release` (or exiting) ends it."""

    def __init__(self, run_dir: Path, fd: int) -> None:
        self.run_dir = run_dir
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, run_dir: str | Path) -> RunLock:
        """Lock ``run_dir`` (made if missing) for writing; raises :class:`RunBusyError` when
        another process holds it, :class:`RunError` when the folder cannot be made."""
        run_dir = Path(run_dir)
        make_run_folder(run_dir)
        try:
            fd = os.open(run_dir / WRITER_LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise RunError(f"{run_dir}: cannot write here ({exc.strerror})") from None
        deadline = time.monotonic() + _ACQUIRE_PATIENCE
        while not _try_lock(fd, shared=False):
            if time.monotonic() >= deadline:
                os.close(fd)
                raise RunBusyError(f"{run_dir}: another process is writing this run "
                                   "(wait for it to finish, or choose another folder)")
            time.sleep(0.05)
        return cls(run_dir, fd)

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            _unlock(fd)
        finally:
            os.close(fd)

    def __enter__(self) -> RunLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def is_being_written(run_dir: str | Path) -> bool:
    """Whether some process (this one included) holds ``run_dir``'s writer lock."""
    try:
        fd = os.open(Path(run_dir) / WRITER_LOCK, os.O_RDONLY)
    except OSError:
        return False  # no lock file: never written by a locking writer
    try:
        if not _try_lock(fd, shared=True):
            return True
        _unlock(fd)
        return False
    finally:
        os.close(fd)


def make_run_folder(run_dir: Path) -> None:
    """Make ``run_dir`` and its parents, or say in one line why it cannot be."""
    try:
        make_folder(run_dir)
    except OSError as exc:
        raise RunError(f"{run_dir}: cannot make this folder ({exc.strerror})") from None
