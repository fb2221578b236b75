"""What the reliability tests share: a command line run, and what a coherent run folder is."""

from __future__ import annotations

import csv
import signal
import subprocess
import sys
from pathlib import Path

from cnn_core.runs.checkpoint import load_checkpoint
from cnn_core.runs.store import read_summary


def cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cnn_core", *args], capture_output=True,
                          text=True, timeout=timeout)


def popen_cli(*args: str) -> subprocess.Popen:
    """The CLI as a terminal starts it: Ctrl+C interrupts it even when this runner was
    started in the background (a shell's background jobs inherit SIGINT ignored)."""
    return subprocess.Popen([sys.executable, "-m", "cnn_core", *args], text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=_ctrl_c_interrupts)


def _ctrl_c_interrupts() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def assert_one_clean_line(stderr: str) -> None:
    """A refusal is one line on stderr: no traceback, no warnings before it."""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr and "Warning" not in stderr, stderr


def metric_epochs(run: Path) -> list[int]:
    path = run / "metrics.csv"
    if not path.is_file():
        return []
    with path.open(newline="") as f:
        return [int(row["epoch"]) for row in csv.DictReader(f)]


def assert_coherent(run: Path) -> int:
    """The summary claims no epoch that the checkpoint and the metrics do not hold, and no
    temp file is left; returns the epochs the summary claims."""
    summary = read_summary(run)
    last = run / "checkpoints" / "last.pt"
    saved = load_checkpoint(last)["epoch"] if last.is_file() else 0
    assert summary.epochs_done <= saved, (summary.epochs_done, saved)
    assert summary.epochs_done <= len(metric_epochs(run))
    assert metric_epochs(run)[:summary.epochs_done] == list(range(1, summary.epochs_done + 1))
    assert not [p for p in run.rglob("*.tmp")], list(run.rglob("*.tmp"))
    return summary.epochs_done
