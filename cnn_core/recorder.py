"""Writes a run to its folder as it trains: config, metrics and checkpoints.

Layout of a run folder::

    config.json             the TrainConfig
    metrics.csv             one row per finished epoch
    summary.json            best test accuracy and epoch, time, device
    checkpoints/last.pt     the end of the latest epoch (resume point)
    checkpoints/best.pt     the epoch with the best test accuracy

Every file is replaced atomically, so a run killed at any moment leaves readable files.
"""

from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path

from .atomic import atomic_write_text
from .callbacks import Callback, EpochMetrics
from .checkpoint import save_checkpoint
from .trainer import Trainer

METRIC_COLUMNS = ("epoch", "train_loss", "train_acc", "test_loss", "test_acc", "lr", "seconds",
                  "images_per_sec")


def metrics_csv(history: list[EpochMetrics]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=METRIC_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for m in history:
        writer.writerow(m.as_dict())
    return buf.getvalue()


class RunRecorder(Callback):
    """Keeps ``run_dir`` up to date after every epoch."""

    def __init__(self, run_dir: str | Path) -> None:
        self.run_dir = Path(run_dir)
        self._started = time.time()

    @property
    def checkpoints(self) -> Path:
        return self.run_dir / "checkpoints"

    def on_train_start(self, trainer: Trainer) -> None:
        self._started = time.time()
        atomic_write_text(self.run_dir / "config.json",
                          json.dumps(trainer.config.to_dict(), indent=2) + "\n")

    def on_epoch_end(self, trainer: Trainer, metrics: EpochMetrics) -> None:
        state = trainer.state_dict()
        save_checkpoint(state, self.checkpoints / "last.pt")
        best = max(trainer.history, key=lambda m: m.test_acc)
        if best is metrics:
            save_checkpoint(state, self.checkpoints / "best.pt")
        atomic_write_text(self.run_dir / "metrics.csv", metrics_csv(trainer.history))
        summary = {
            "arch": trainer.config.arch, "dataset": trainer.config.dataset,
            "device": str(trainer.device), "epochs_done": trainer.epoch,
            "epochs": trainer.config.epochs, "best_test_acc": best.test_acc,
            "best_epoch": best.epoch, "train_seconds": sum(m.seconds for m in trainer.history),
            "updated": time.strftime("%Y-%m-%dT%H:%M:%S"),
        }
        atomic_write_text(self.run_dir / "summary.json", json.dumps(summary, indent=2) + "\n")
