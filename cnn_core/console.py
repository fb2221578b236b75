"""What the command line draws on a terminal: a progress bar that rewrites itself on
stderr, and one line per epoch on stdout."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from .data.datasets import ProgressFn
from .train.callbacks import BatchProgress, Callback, EpochMetrics, TrainerView


class ConsoleReporter(Callback):
    """A progress bar on a terminal (stderr) and one summary line per epoch (stdout)."""

    def __init__(self, out: TextIO, bar: TextIO | None) -> None:
        self.out, self.bar = out, bar

    def on_batch_end(self, trainer: TrainerView, p: BatchProgress) -> None:
        if self.bar is None:
            return
        width = 30
        filled = int(width * p.batch / p.num_batches)
        loss = sum(p.losses) / max(len(p.losses), 1)
        self.bar.write(f"\repoch {p.epoch}/{p.epochs} [{'#' * filled}{'.' * (width - filled)}] "
                       f"{p.batch}/{p.num_batches} loss {loss:.4f} {p.images_per_sec:,.0f} img/s ")
        self.bar.flush()

    def on_prepare(self, trainer: TrainerView, done: int, total: int, what: str) -> None:
        if self.bar is not None:
            self.bar.write(f"\r{what}: {done:,}/{total:,} pictures\033[K")
            self.bar.flush()

    def on_epoch_end(self, trainer: TrainerView, m: EpochMetrics) -> None:
        if self.bar is not None:
            self.bar.write("\r\033[K")
        width = len(str(trainer.config.epochs))
        self.out.write(
            f"epoch {m.epoch:>{width}}/{trainer.config.epochs}  "
            f"train_loss {m.train_loss:.4f}  train_acc {m.train_acc:6.2%}  "
            f"test_loss {m.test_loss:.4f}  test_acc {m.test_acc:6.2%}  "
            f"lr {m.lr:.1e}  {m.seconds:.1f}s ({m.images_per_sec:,.0f} img/s)\n")
        self.out.flush()


def progress_bar(verb: str, unit: str) -> ProgressFn:
    """A line on stderr that rewrites itself, at most five times a second."""
    last = [0.0]
    scale = 1e6 if unit == "MB" else 1

    def progress(done: int, total: int | None, message: str) -> None:
        now = time.monotonic()
        if now - last[0] < 0.2 and (total is None or done < total):
            return
        last[0] = now
        amount = f"{done / scale:,.{1 if scale > 1 else 0}f}" + (
            f"/{total / scale:,.{1 if scale > 1 else 0}f}" if total else "")
        sys.stderr.write(f"\r{verb}{message}: {amount} {unit}\033[K")
        sys.stderr.flush()

    return progress
