"""The one exception a long look inside a model raises when the person cancels it."""

from __future__ import annotations

from collections.abc import Callable


class Cancelled(Exception):
    """Raised between two steps when the caller's ``cancel()`` said so; nothing is returned."""


def check(cancel: Callable[[], bool] | None) -> None:
    """Raise :class:`Cancelled` if ``cancel`` is given and returns True."""
    if cancel is not None and cancel():
        raise Cancelled("cancelled")
