"""Settings edited while a run is paused, or given to a resume: what may change, and how
the change takes effect between two batches. A part of
:class:`~cnn_core.train.trainer.Trainer` in a module of its own."""

from __future__ import annotations

import dataclasses
from typing import Any

from .callbacks import SettingsChange
from .optimizers import make_optimizer
from .schedules import rescaled_peak

# Settings that may change while a run is paused; everything else fixes what the run is.
EDITABLE = ("lr", "optimizer", "batch_size", "epochs", "step_size", "gamma", "momentum",
            "weight_decay", "early_stop", "monitor", "min_delta")
# Edits that move the schedule: the rest of it is rescaled to go on from the current rate
RESCHEDULING = ("lr", "epochs", "step_size", "gamma")


class LiveEdits:
    """The edit side of :class:`~cnn_core.train.trainer.Trainer` (which sets the
    attributes these methods read)."""

    def request_changes(self, **changes: Any) -> None:
        """Queue edits of the :data:`EDITABLE` settings (any thread); they apply before the
        next batch. ``lr`` is the learning rate from now on: the rest of the schedule is
        rescaled to go on from it (as it is to the current rate for a new length).

        Raises ``ValueError("field: reason")`` at once for a bad edit; nothing is queued then.
        """
        unknown = sorted(set(changes) - set(EDITABLE))
        if unknown:
            raise ValueError(f"{unknown[0]}: cannot change during a run")
        with self._pending_lock:
            merged = {**self._next_epoch, **self._pending, **changes}
            dataclasses.replace(self.config, **merged).validate()
            if merged.get("epochs", self.config.epochs) <= self.epoch:
                raise ValueError(f"epochs: must be more than the {self.epoch} already done")
            self._pending = {**self._pending, **changes}

    def apply_pending_changes(self, epoch_start: bool = True) -> None:
        """Apply queued edits now (``fit`` does so before every batch). A new batch size
        waits for the start of an epoch: an epoch is one pass over a shuffled order, in
        batches of one size, so its progress and curves stay in step."""
        with self._pending_lock:
            pending, self._pending = self._pending, {}
            if epoch_start:
                pending, self._next_epoch = {**self._next_epoch, **pending}, {}
            elif "batch_size" in pending:
                self._next_epoch["batch_size"] = pending.pop("batch_size")
        old = self.config
        current = {**dataclasses.asdict(old), "lr": self.lr}
        edits = {k: v for k, v in pending.items() if current[k] != v}
        if not edits:
            return
        self.config = dataclasses.replace(old, **edits)
        lr = edits.get("lr", current["lr"])
        if "optimizer" in edits:  # a new optimizer: its state (momentum, Adam moments) starts afresh
            self.optimizer = make_optimizer(dataclasses.replace(self.config, lr=lr),
                                            self.model, self.device)
        for group in self.optimizer.param_groups:
            for key in ("momentum", "weight_decay"):
                if key in edits and key in group:
                    group[key] = edits[key]
            if "lr" in edits:  # each group at its share of the run's rate
                group["lr"] = edits["lr"] * group.get("lr_scale", 1.0)
        if any(k in edits for k in RESCHEDULING):
            self.peak_lr = rescaled_peak(self.config, self._progress, lr)
        change = SettingsChange(self.global_step, round(self._progress, 4),
                                {k: (current[k], v) for k, v in edits.items()})
        self.changes.append(change)
        self._emit("on_settings_changed", self, change)
