"""The one error of sweeps a person can fix: its message is one line that says what."""

from __future__ import annotations


class SweepError(ValueError):
    """A sweep that cannot start or be read as asked (a bad space file, a storage that
    cannot be opened, settings that differ from the study's). A ValueError, so the command
    line reports it as it reports a refused setting: one line, exit status 2."""
