"""Section 6 of ``make bench``: one process against several under ``torchrun``, fresh
processes alternating, on the CPU (gloo) and, where there are GPUs, on CUDA (NCCL).

Every run trains SimpleCNN on the bundled sample at a global batch of 64 through
:func:`cnn_core.train.launch.launch`, recording its run folder as the CLI does. Rank 0
reports the wall seconds per epoch from the end of epoch 1 to the end of the last
(training, evaluation and recording: what a person waits for), and the all-reduce share:
the time in which gradients were being all-reduced (a DDP communication hook times every
bucket), over the epochs' training time. On a 2-core machine two processes cannot be
faster than one: each has one core, where one process had both.
"""

# No ``from __future__ import annotations`` here: DDP reads the hook's annotations.
import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist

from .launch import REPO
from .run_folder import BenchError

EPOCHS = 4
ARCH = "simplecnn"


def union(intervals: list[tuple[float, float]], after: float) -> float:
    """Seconds covered by ``intervals`` (which may overlap) after the time ``after``."""
    covered, reach = 0.0, after
    for start, end in sorted(intervals):
        start = max(start, reach)
        if end > start:
            covered += end - start
            reach = end
    return covered


def timed_all_reduce(intervals: list[tuple[float, float]],
                     bucket: dist.GradBucket) -> torch.futures.Future[torch.Tensor]:
    """DDP's default hook (average the bucket over the ranks), timed."""
    start = time.perf_counter()
    work = dist.all_reduce(bucket.buffer().div_(dist.get_world_size()), async_op=True)

    def finished(future: torch.futures.Future[list[torch.Tensor]]) -> torch.Tensor:
        intervals.append((start, time.perf_counter()))
        return future.value()[0]

    return work.get_future().then(finished)


def worker(device: str) -> dict[str, Any] | None:
    """Train in this process (one of torchrun's, or alone); rank 0's figures."""
    from cnn_core.train.callbacks import Callback
    from cnn_core.train.config import TrainConfig
    from cnn_core.train.distributed import join, leave
    from cnn_core.train.launch import launch

    class EpochClock(Callback):
        def __init__(self) -> None:
            self.ends: list[float] = []
            self.seconds: list[float] = []

        def on_epoch_end(self, trainer: Any, metrics: Any) -> None:
            self.ends.append(time.perf_counter())
            self.seconds.append(metrics.seconds)

    group = join(device)
    clock, intervals = EpochClock(), []
    try:
        with tempfile.TemporaryDirectory(prefix="bench-ddp-") as home:
            run = launch(TrainConfig(arch=ARCH, epochs=EPOCHS, batch_size=64, device=device),
                         [clock], run_dir=Path(home) / "run", group=group)
            if run.trainer.ddp is not None:
                run.trainer.ddp.register_comm_hook(intervals, timed_all_reduce)
            run.trainer.fit()
    finally:
        leave()
    if group is not None and not group.is_main:
        return None
    measured = clock.ends[-1] - clock.ends[0]
    return {"seconds_per_epoch": measured / (EPOCHS - 1),
            "all_reduce_share": union(intervals, clock.ends[0]) / sum(clock.seconds[1:])}


def fresh_run(processes: int, device: str, timeout: float) -> dict[str, Any]:
    """:func:`worker` in new processes: alone, or ``processes`` of them under torchrun."""
    own = ["-m", "benchmarks.distributed", "--worker", "--device", device]
    line = ([sys.executable, *own] if processes == 1 else
            [sys.executable, "-m", "torch.distributed.run", "--standalone",
             f"--nproc-per-node={processes}", *own])
    try:
        done = subprocess.run(line, cwd=REPO, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise BenchError(f"{processes} process(es) took over {timeout:.0f} s") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise BenchError(f"{processes} process(es) failed: {last}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def section(rounds: int, timeout: float) -> None:
    worlds = {"cpu": [1, 2]}
    gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if gpus:
        worlds["cuda"] = sorted({1, *([2] if gpus >= 2 else []), gpus})
    print(f"\n6. Distributed: {ARCH} on the bundled sample, global batch 64, seconds per "
          f"epoch from the end of epoch 1 to the end of epoch {EPOCHS}, {rounds} alternating "
          "round(s) of fresh processes")
    for device, sizes in worlds.items():
        results: dict[int, list[dict[str, Any]]] = {n: [] for n in sizes}
        try:
            for i in range(rounds):
                for n in sizes:
                    results[n].append(fresh_run(n, device, timeout))
                print(f"  {device} round {i + 1}/{rounds}: " + ", ".join(
                    f"{n} x {results[n][-1]['seconds_per_epoch']:.2f} s" for n in sizes),
                    flush=True)
        except BenchError as error:
            print(f"  {device}: not measured: {error}", flush=True)
            continue
        alone = [r["seconds_per_epoch"] for r in results[1]]
        print(f"{'device':<7} {'processes':>9} {'s/epoch':>8} {'spread':>12} "
              f"{'vs 1':>6} {'all-reduce share':>17}")
        for n in sizes:
            seconds = [r["seconds_per_epoch"] for r in results[n]]
            ratio = statistics.median(s / a for s, a in zip(seconds, alone))
            shares = [r["all_reduce_share"] for r in results[n]]
            share = (f"{statistics.median(shares):>6.0%} ({min(shares):.0%}-{max(shares):.0%})"
                     if n > 1 else "-")
            print(f"{device:<7} {n:>9} {statistics.median(seconds):>8.2f} "
                  f"{min(seconds):>5.2f}-{max(seconds):<6.2f} {ratio:>5.2f}x {share:>17}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m benchmarks.distributed")
    parser.add_argument("--worker", action="store_true", required=True)
    parser.add_argument("--device", default="cpu")
    figures = worker(parser.parse_args().device)
    if figures is not None:
        print(json.dumps(figures))
