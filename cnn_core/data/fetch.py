"""Downloads with progress, Cancel and a checksum: a file is kept only whole and checked."""

from __future__ import annotations

import os
import threading
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .bundle import DatasetError, ProgressFn


class DownloadCancelled(DatasetError):
    """The person cancelled a download."""


def fetch(url: str, dest: Path, digest: Callable[[], Any], expected: str,
          progress: ProgressFn | None = None, cancel: threading.Event | None = None,
          timeout: float = 30.0) -> None:
    """Stream ``url`` to ``dest`` via a ``.part`` file; keep it only if its ``digest``
    (``hashlib.md5``, ``hashlib.sha256``...) starts with ``expected`` (a whole digest, or
    the prefix torch.hub's file names carry). Raises :class:`DownloadCancelled`, or
    ``DatasetError`` for a damaged file; a connection failure is urllib's ``URLError``."""
    part = dest.with_name(dest.name + ".part")
    hasher = digest()
    request = urllib.request.Request(url, headers={"User-Agent": "cnn-studio"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response, open(part, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0) or None
            done = 0
            while chunk := response.read(1 << 16):
                if cancel is not None and cancel.is_set():
                    raise DownloadCancelled("download cancelled")
                out.write(chunk)
                hasher.update(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done, total, f"{dest.name}")
        if not hasher.hexdigest().startswith(expected):
            raise DatasetError(f"{url} arrived damaged (checksum mismatch)")
        os.replace(part, dest)
    finally:
        part.unlink(missing_ok=True)
