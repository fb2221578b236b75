"""``make bench ARGS="--section sweep"``: what a sweep costs and what its parts gain, on the
bundled sample, every run a fresh process as a person starts it.

1. a trial against ``train`` of the same settings: seconds per epoch (epochs 1 -> 6 from
   snapshot mtimes), and what the sweep's process costs once more, alternating rounds;
2. pruning: a 16-trial sweep over ``lr`` in [1e-5, 1] (log) with the median pruner against
   none: epochs run, and the best trial's test accuracy;
3. time to 98% test accuracy with SimpleCNN: the defaults against ``lr-find``'s suggestion
   with ``--schedule onecycle`` (and one-cycle at the default rate);
4. one worker against two (``--jobs 2``): finished trials per hour.
"""

from __future__ import annotations

import csv
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from cnn_core.sweep import read_sweep

from .launch import REPO, _env, _supervise
from .run_folder import LAST_EPOCH, BenchError, seconds_per_epoch

ARCH = "simplecnn"
PRUNING_TRIALS, PRUNING_EPOCHS = 16, 4
JOBS_TRIALS, JOBS_EPOCHS = 8, 2
TARGET = 0.98
TARGET_EPOCHS = 15


def section(rounds: int, timeout: float) -> bool:
    print(f"\n8. Sweeps on the bundled sample ({ARCH}, CPU)")
    ok = True
    try:
        ok &= trial_overhead(rounds, timeout)
        pruning(timeout)
        time_to_target(timeout)
        workers(timeout)
    except BenchError as error:
        print(f"  not measured: {error}")
        return False
    return ok


def _timed(label: str, command: Sequence[str], home: Path, timeout: float) -> float:
    started = time.monotonic()
    _supervise(label, [sys.executable, "-m", "cnn_core", *command], _env(home), home, timeout)
    return time.monotonic() - started


def _sweep(home: Path, name: str, trials: int, space: dict, options: Sequence[str],
           timeout: float) -> float:
    space_file = home / f"{name}.json"
    space_file.write_text(json.dumps(space))
    return _timed("sweep", ["sweep", name, "--trials", str(trials), "--space", str(space_file),
                            "--device", "cpu", "--arch", ARCH, *options], home, timeout)


def trial_overhead(rounds: int, timeout: float) -> bool:
    """A one-trial sweep whose space fixes the CLI run's settings, against that run."""
    print(f"  a trial against train, {LAST_EPOCH} epochs, {rounds} alternating round(s)")
    walls: dict[str, list[float]] = {"train": [], "trial": []}
    epochs: dict[str, list[float]] = {"train": [], "trial": []}
    for i in range(rounds):
        with tempfile.TemporaryDirectory(prefix="bench-sweep-") as folder:
            home = Path(folder)
            walls["train"].append(_timed("train", [
                "train", "--arch", ARCH, "--epochs", str(LAST_EPOCH), "--device", "cpu",
                "--quiet", "--out", str(home / "train")], home, timeout))
            epochs["train"].append(seconds_per_epoch(home / "train"))
            walls["trial"].append(_sweep(home, "one", 1, {"lr": {"log": [1e-3, 1.0001e-3]},
                                                          "epochs": LAST_EPOCH},
                                         ["--pruner", "none"], timeout))
            [trial] = read_sweep("one", runs_dir=home / "runs").trials
            epochs["trial"].append(seconds_per_epoch(trial.run_dir))
        print(f"    round {i + 1}: train {walls['train'][-1]:.2f} s "
              f"({epochs['train'][-1]:.3f} s/epoch), trial {walls['trial'][-1]:.2f} s "
              f"({epochs['trial'][-1]:.3f} s/epoch)", flush=True)
    ratios = [t / c for t, c in zip(epochs["trial"], epochs["train"])]
    ratio = statistics.median(ratios)
    extra = statistics.median(t - c for t, c in zip(walls["trial"], walls["train"]))
    print(f"  per epoch: trial/train {ratio:.3f}x ({min(ratios):.3f}-{max(ratios):.3f}), "
          f"target at most 1.05x: {'PASS' if ratio <= 1.05 else 'FAIL'}; the sweep process "
          f"costs {extra:+.1f} s more once (importing Optuna, making the study)")
    return ratio <= 1.05


def pruning(timeout: float) -> None:
    space = {"lr": {"log": [1e-5, 1.0]}, "epochs": PRUNING_EPOCHS}
    print(f"  pruning: {PRUNING_TRIALS} trials over lr in [1e-5, 1] (log), "
          f"{PRUNING_EPOCHS} epochs each")
    found = {}
    for pruner in ("none", "median"):
        with tempfile.TemporaryDirectory(prefix="bench-prune-") as folder:
            home = Path(folder)
            wall = _sweep(home, pruner, PRUNING_TRIALS, space, ["--pruner", pruner], timeout)
            report = read_sweep(pruner, runs_dir=home / "runs")
            epochs = sum(t.epochs for t in report.trials)
            best = report.best.value if report.best else float("nan")
            found[pruner] = (epochs, best)
            print(f"    {pruner:>6}: {epochs} epochs, {report.count('pruned')} pruned, best "
                  f"test accuracy {best:.2%} (lr {report.best.params['lr']:.2g}), {wall:.0f} s",
                  flush=True)
    saved = 1 - found["median"][0] / found["none"][0]
    gap = 100 * (found["none"][1] - found["median"][1])
    print(f"  the median pruner ran {saved:.0%} fewer epochs (target 30%), its best "
          f"{gap:+.2f} points from the unpruned best (target within 0.5)")


def _epochs_to(run: Path, target: float) -> tuple[int | None, float]:
    """The first epoch at ``target`` test accuracy, and the training seconds up to it."""
    seconds = 0.0
    for row in csv.DictReader((run / "metrics.csv").open()):
        seconds += float(row["seconds"])
        if float(row["test_acc"]) >= target:
            return int(row["epoch"]), seconds
    return None, seconds


def _suggestion(home: Path, timeout: float) -> float:
    out = subprocess.run([sys.executable, "-m", "cnn_core", "lr-find", "--arch", ARCH,
                          "--device", "cpu"], cwd=REPO, env=_env(home), capture_output=True,
                         text=True, timeout=timeout)
    match = re.search(r"suggested learning rate: (\S+)", out.stdout)
    if out.returncode != 0 or match is None:
        raise BenchError(f"lr-find failed: {(out.stderr or out.stdout).strip()[-200:]}")
    return float(match.group(1))


def time_to_target(timeout: float) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-t98-") as folder:
        home = Path(folder)
        started = time.monotonic()
        suggested = _suggestion(home, timeout)
        finding = time.monotonic() - started
        print(f"  time to {TARGET:.0%} test accuracy ({TARGET_EPOCHS} epochs at most); "
              f"lr-find suggests {suggested:.2g} in {finding:.1f} s")
        for label, options in (("defaults (step, lr 1e-3)", []),
                               (f"onecycle, lr-find's {suggested:.2g}",
                                ["--schedule", "onecycle", "--lr", str(suggested)]),
                               ("onecycle, lr 1e-3", ["--schedule", "onecycle"])):
            out = home / re.sub(r"\W+", "-", label)
            _timed("train", ["train", "--arch", ARCH, "--epochs", str(TARGET_EPOCHS),
                             "--device", "cpu", "--quiet", "--out", str(out), *options],
                   home, timeout)
            epoch, seconds = _epochs_to(out, TARGET)
            reached = (f"epoch {epoch}, {seconds:.1f} s of training" if epoch
                       else f"not within {TARGET_EPOCHS} epochs")
            print(f"    {label:<28} {reached}", flush=True)


def workers(timeout: float) -> None:
    space = {"lr": {"log": [1e-4, 1e-2]}, "epochs": JOBS_EPOCHS}
    print(f"  workers: {JOBS_TRIALS} trials of {JOBS_EPOCHS} epochs, no pruning")
    rates = {}
    for jobs in (1, 2):
        with tempfile.TemporaryDirectory(prefix="bench-jobs-") as folder:
            wall = _sweep(Path(folder), f"jobs{jobs}", JOBS_TRIALS, space,
                          ["--pruner", "none", "--jobs", str(jobs)], timeout)
            finished = sum(t.finished for t in read_sweep(
                f"jobs{jobs}", runs_dir=Path(folder) / "runs").trials)
            rates[jobs] = finished / wall * 3600
            print(f"    --jobs {jobs}: {finished} trials in {wall:.0f} s, "
                  f"{rates[jobs]:.0f} trials per hour", flush=True)
    print(f"  two workers: {rates[2] / rates[1]:.2f}x the trials per hour of one")
