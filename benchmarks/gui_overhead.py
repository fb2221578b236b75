"""Time per epoch through the window against the same run headless through the CLI.

Each run is a fresh process; window and CLI runs alternate so that both see the same
machine load. The figure is the median epoch time, epoch 1 (warm-up) excluded.
"""

from __future__ import annotations

import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path


def cli_epochs(arch: str, epochs: int) -> list[float]:
    with tempfile.TemporaryDirectory() as out:
        subprocess.run([sys.executable, "-m", "cnn_core", "train", "--arch", arch, "--epochs",
                        str(epochs), "--device", "cpu", "--quiet", "--out", out],
                       check=True, capture_output=True)
        with open(Path(out) / "metrics.csv") as f:
            return [float(row["seconds"]) for row in csv.DictReader(f)]


def window_epochs(arch: str, epochs: int, stalls: bool = False,
                  tab: int = 0) -> tuple[list[float], float]:
    args = [sys.executable, "-m", "benchmarks.window_run", arch, str(epochs), "--tab", str(tab)]
    with tempfile.TemporaryDirectory() as home:  # its runs and settings are not the user's
        env = {**os.environ, "CNN_STUDIO_RUNS": str(Path(home) / "runs"),
               "CNN_STUDIO_SETTINGS": str(Path(home) / "settings.ini")}
        proc = subprocess.run(args + (["--stalls"] if stalls else []), check=True,
                              capture_output=True, text=True, env=env)
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    return result["seconds"], result["worst_stall_ms"]


@dataclass
class OverheadResult:
    arch: str
    headless: float  # median seconds per epoch
    window: float
    worst_stall_ms: float

    @property
    def overhead(self) -> float:
        return self.window / self.headless - 1


def measure(arch: str = "simplecnn", epochs: int = 4, rounds: int = 3,
            tab: int = 0) -> OverheadResult:
    headless: list[float] = []
    window: list[float] = []
    stalls: list[float] = []
    for _ in range(rounds):
        headless += cli_epochs(arch, epochs)[1:]
        window += window_epochs(arch, epochs, tab=tab)[0][1:]
        stalls.append(window_epochs(arch, 2, stalls=True, tab=tab)[1])
    return OverheadResult(arch, statistics.median(headless), statistics.median(window),
                          max(stalls))
