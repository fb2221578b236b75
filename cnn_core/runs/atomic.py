"""Crash-safe file writes: a reader sees the old file or the new one, never half of one."""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

TEMP_SUFFIX = ".tmp"
# mkstemp makes 0600 files; give the final file the permissions any new file would get.
_UMASK = os.umask(0)
os.umask(_UMASK)


def atomic_write(path: str | Path, write: Callable[[BinaryIO], None]) -> None:
    """Call ``write(f)`` on a temp file beside ``path``, then ``os.replace`` it into place.

    If ``write`` raises, the temp file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, "is a folder; give a file name", str(path))
    make_folder(path.parent)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TEMP_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write(path, lambda f: f.write(text.encode("utf-8")))


def remove_orphans(folder: str | Path) -> None:
    """Remove the temp files of writes that were killed midway (call only as the folder's
    one writer: another writer's temp files are not orphans)."""
    folder = Path(folder)
    if folder.is_dir():
        for orphan in folder.glob(f".*{TEMP_SUFFIX}"):
            orphan.unlink(missing_ok=True)


def make_folder(folder: Path) -> None:
    """``mkdir -p``, naming the file in the way when part of the path is a file."""
    for part in (folder, *folder.parents):
        if part.exists():
            if not part.is_dir():
                what = "is a file" if part == folder else f"{part} is a file"
                raise NotADirectoryError(errno.ENOTDIR, f"{what}, not a folder", str(folder))
            break
    folder.mkdir(parents=True, exist_ok=True)
