"""Settings, changes and durations as a person reads them (shared by the status bar, the
curves' markers and the runs' comparison)."""

from __future__ import annotations

from typing import Any

from cnn_core.train.callbacks import SettingsChange


def format_number(value: float) -> str:
    """Short, and exact enough to tell settings apart: 64, 0.5, 1e-3, 3e-4, 2.5e-5."""
    if isinstance(value, int):
        return str(value)
    if value != 0 and abs(value) < 0.01:
        mantissa, exponent = f"{value:.3e}".split("e")
        return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"
    return f"{value:.6g}"


def format_value(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return format_number(value)
    return str(value)


def describe_change(change: SettingsChange) -> str:
    """e.g. ``lr 1e-3 → 3e-4, batch size 64 → 128`` (also the label of its curve marker)."""
    return ", ".join(f"{name.replace('_', ' ')} {format_value(old)} → {format_value(new)}"
                     for name, (old, new) in change.changes.items())


def format_duration(seconds: float) -> str:
    """``83`` -> ``1:23``; ``3723`` -> ``1:02:03``."""
    seconds = int(round(max(seconds, 0)))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def epochs_text(n: int) -> str:
    return f"{n} epoch{'' if n == 1 else 's'}"
