"""Early stopping, after Keras' ``EarlyStopping``: a run ends when the value it watches
(test accuracy or test loss) has not improved by more than ``min_delta`` for ``early_stop``
epochs in a row. The checkpoint of the best test accuracy stays ``best.pt`` as always."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .callbacks import EpochMetrics, best_epoch
from .config import TrainConfig

WATCHED = {"test_acc": "test accuracy", "test_loss": "test loss"}
BETTER = {"test_acc": "better", "test_loss": "lower"}


@dataclass(frozen=True)
class EarlyStop:
    """Why a run stopped early: at ``epoch``, after ``patience`` epochs without a
    ``monitor`` better than at ``best`` (the epoch that had it)."""

    epoch: int
    best: int
    patience: int
    monitor: str
    kept: int  # the epoch best.pt holds (the best test accuracy)

    def describe(self) -> str:
        said = (f"stopped early at epoch {self.epoch}: no {BETTER[self.monitor]} "
                f"{WATCHED[self.monitor]} for {self.patience} epochs; ")
        if self.kept == self.best:
            return said + f"best epoch {self.best} kept as best.pt"
        return said + (f"the last clear improvement was at epoch {self.best}; best.pt keeps "
                       f"epoch {self.kept}, the best test accuracy")


def plateau(history: Sequence[EpochMetrics], config: TrainConfig,
            after: int = 0) -> EarlyStop | None:
    """An :class:`EarlyStop` when the run should stop after its last epoch, else None.
    Epochs up to ``after`` (where an earlier fit stopped early) do not count towards the
    patience, so a resumed run can go on past an early stop."""
    if config.early_stop <= 0 or not history:
        return None
    sign = 1.0 if config.monitor == "test_acc" else -1.0
    best: EpochMetrics | None = None
    waited = 0
    for m in history:
        value = sign * getattr(m, config.monitor)
        if best is None or value > sign * getattr(best, config.monitor) + config.min_delta:
            best, waited = m, 0
        elif m.epoch > after:
            waited += 1
    if best is None or waited < config.early_stop:
        return None
    kept = best_epoch(history)
    return EarlyStop(history[-1].epoch, best.epoch, config.early_stop, config.monitor,
                     kept.epoch if kept else best.epoch)
