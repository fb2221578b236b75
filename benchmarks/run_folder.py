"""Read a benchmark figure from a run folder on disk, the same way for the CLI and the window.

The time per epoch is the gap between the ``snapshots/epoch-0001.npz`` and
``epoch-0006.npz`` mtimes over the five epochs between them: each snapshot is written at
the end of its epoch, so the gap holds training, evaluation and all epoch-end work.
"""

from __future__ import annotations

import json
from pathlib import Path

FIRST_EPOCH = 1
LAST_EPOCH = 6  # runs are launched with --epochs LAST_EPOCH
ENDED = ("completed", "stopped", "stopped_early", "pruned", "failed")


class BenchError(RuntimeError):
    """A benchmark run that could not be measured; the message says why, in one line."""


def snapshot(run_dir: Path, epoch: int) -> Path:
    return run_dir / "snapshots" / f"epoch-{epoch:04d}.npz"


def status(run_dir: Path) -> str | None:
    """``summary.json``'s status, or None while it is missing or half written."""
    try:
        return json.loads((run_dir / "summary.json").read_text()).get("status")
    except (OSError, ValueError):
        return None


def find_run(runs_dir: Path) -> Path | None:
    """The one run folder a fresh process made under ``runs_dir`` (None before it exists)."""
    runs = [p.parent for p in runs_dir.glob("*/summary.json")]
    if len(runs) > 1:
        raise BenchError(f"expected one run under {runs_dir}, found {len(runs)}")
    return runs[0] if runs else None


def is_done(run_dir: Path) -> bool:
    """The last measured epoch is on disk, or the run has ended for any reason."""
    return snapshot(run_dir, LAST_EPOCH).is_file() or status(run_dir) in ENDED


def seconds_per_epoch(run_dir: Path) -> float:
    first, last = snapshot(run_dir, FIRST_EPOCH), snapshot(run_dir, LAST_EPOCH)
    if not (first.is_file() and last.is_file()):
        raise BenchError(f"run {run_dir.name} ended with status {status(run_dir)!r} "
                         f"before epoch {LAST_EPOCH}'s snapshot was written")
    gap_ns = last.stat().st_mtime_ns - first.stat().st_mtime_ns
    return gap_ns / 1e9 / (LAST_EPOCH - FIRST_EPOCH)
