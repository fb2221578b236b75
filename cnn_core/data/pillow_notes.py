"""Pillow's warnings about a picture (corrupt EXIF data, a picture too large to trust) as
notes that name the file, instead of raw lines on the terminal that name none."""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType

from PIL import Image

TOO_LARGE = (Image.DecompressionBombWarning, Image.DecompressionBombError)


def too_large_reason() -> str:
    return f"too large to read safely: over {Image.MAX_IMAGE_PIXELS:,} pixels"


class PillowNotes:
    """While active, a warning raised in a thread that is ``reading(name)`` a picture is
    noted as "name (what Pillow said)"; a decompression-bomb warning is raised instead, so
    that the picture is skipped. Warnings of other threads pass through as before."""

    def __init__(self) -> None:
        self.notes: list[str] = []
        self._lock = threading.Lock()
        self._reading = threading.local()
        self._saved: warnings.catch_warnings | None = None

    def __enter__(self) -> PillowNotes:
        self._saved = warnings.catch_warnings()
        self._saved.__enter__()
        warnings.simplefilter("always")  # each picture's own note, not the first one only
        warnings.filterwarnings("error", category=Image.DecompressionBombWarning)
        self._show = warnings.showwarning
        warnings.showwarning = self._note
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self._saved.__exit__(kind, exc, traceback)

    @contextmanager
    def reading(self, name: str) -> Iterator[None]:
        self._reading.name = name
        try:
            yield
        finally:
            self._reading.name = None

    def _note(self, message: Warning | str, category: type[Warning], filename: str,
              lineno: int, file: object = None, line: str | None = None) -> None:
        name = getattr(self._reading, "name", None)
        if name is None:
            self._show(message, category, filename, lineno, file, line)
            return
        said = " ".join(str(message).split())[:80]
        with self._lock:
            self.notes.append(f"{name} ({said})")
