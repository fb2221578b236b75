"""Each measured run is a fresh process, launched as a person launches it, in a scratch home
(its own runs folder and a fresh settings file, so every panel is in its default state).

Every wait is bounded; a process that dies or overruns becomes a one-line ``BenchError``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cnn_core.nn.presets import PRESETS

from .run_folder import LAST_EPOCH, BenchError, find_run, is_done, seconds_per_epoch

REPO = Path(__file__).resolve().parent.parent  # where main.py is
POLL_S = 0.2
GRACE_S = 10.0  # between terminate and kill


@dataclass
class InProcessResult:
    seconds_per_epoch: float | None  # None for a run too short to time
    worst_stall_ms: float | None  # None unless stalls were probed


def cli(arch: str, timeout: float, dataset: str = "mnist-sample",
        options: Sequence[str] = ()) -> float:
    """``python -m cnn_core train`` (with ``options``, train's own flags); seconds per epoch."""
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as home:
        out = Path(home) / "run"
        _supervise("CLI", [sys.executable, "-m", "cnn_core", "train", "--arch", arch,
                           "--dataset", dataset, "--epochs", str(LAST_EPOCH), "--device", "cpu",
                           "--quiet", "--out", str(out), *options],
                   _env(Path(home)), Path(home), timeout)
        return seconds_per_epoch(out)


def spec_cli(arch: str, timeout: float) -> float:
    """The CLI on the built-in's spec written to a file, as a person's own network is
    trained; seconds per epoch."""
    with tempfile.TemporaryDirectory(prefix="bench-spec-") as folder:
        spec = Path(folder) / f"{arch}.json"
        spec.write_text(json.dumps(PRESETS[arch]))
        return cli(str(spec), timeout)


def window(arch: str, timeout: float) -> float:
    """``python main.py --start``, ended once epoch 6 is on disk; seconds per epoch."""
    with tempfile.TemporaryDirectory(prefix="bench-window-") as home:
        runs = Path(home) / "runs"

        def done() -> bool:
            run = find_run(runs)
            return run is not None and is_done(run)

        _supervise("window", [sys.executable, "main.py", "--start", "--arch", arch,
                              "--epochs", str(LAST_EPOCH), "--device", "cpu"],
                   _env(Path(home)), Path(home), timeout, done)
        return seconds_per_epoch(_the_run(runs))


def in_process(arch: str, timeout: float, panel: str | None = None, epochs: int = LAST_EPOCH,
               stalls: bool = False) -> InProcessResult:
    """``benchmarks.window_run``: the app driven from inside (a chosen panel, a stall probe)."""
    with tempfile.TemporaryDirectory(prefix="bench-inside-") as home:
        result = Path(home) / "result.json"
        command = [sys.executable, "-m", "benchmarks.window_run", "--arch", arch,
                   "--epochs", str(epochs), "--result", str(result)]
        command += (["--panel", panel] if panel else []) + (["--stalls"] if stalls else [])
        label = f"window ({panel} panel)" if panel else "window"
        try:
            _supervise(label, command, _env(Path(home)), Path(home), timeout)
        except BenchError as error:
            if not result.is_file():
                raise
            raise BenchError(f"{label} run: {_read(result)['outcome']}") from error
        run = _the_run(Path(home) / "runs")
        stall = _read(result).get("worst_stall_ms")
        timed = seconds_per_epoch(run) if epochs >= LAST_EPOCH else None
        return InProcessResult(timed, stall)


def _env(home: Path) -> dict[str, str]:
    return {**os.environ, "QT_QPA_PLATFORM": "offscreen", "CNN_STUDIO_RUNS": str(home / "runs"),
            "CNN_STUDIO_SETTINGS": str(home / "settings.ini")}


def _read(result: Path) -> dict:
    return json.loads(result.read_text())


def _the_run(runs: Path) -> Path:
    run = find_run(runs)
    if run is None:
        raise BenchError(f"no run folder was written under {runs}")
    return run


def _supervise(label: str, command: list[str], env: dict[str, str], home: Path,
               timeout: float, done: Callable[[], bool] | None = None) -> None:
    """Run ``command`` until it exits (status 0 expected) or ``done()``, then end it."""
    log_path = home / "output.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=log,
                                   stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout
    try:
        while process.poll() is None:
            if done is not None and done():
                return
            if time.monotonic() > deadline:
                raise BenchError(f"{label} run did not finish within {timeout:.0f} s "
                                 f"({_last_line(log_path)})")
            time.sleep(POLL_S)
        if done is not None and done():
            return
        if process.returncode != 0 or done is not None:
            raise BenchError(f"{label} process exited with status {process.returncode}: "
                             f"{_last_line(log_path)}")
    finally:
        _end(process)


def _end(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(GRACE_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _last_line(log_path: Path) -> str:
    lines = [line for line in log_path.read_text(errors="replace").splitlines() if line.strip()]
    return lines[-1].strip() if lines else "no output"
