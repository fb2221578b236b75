"""What a checkpoint holds of a trainer, how a trainer goes on from one, and how a fresh
one starts from another run's: a part of :class:`~cnn_core.train.trainer.Trainer` in a
module of its own."""

from __future__ import annotations

import dataclasses
from typing import Any

import torch

from .callbacks import EpochMetrics, SettingsChange
from .config import TrainConfig
from .init_from import Record
from .optimizers import make_optimizer
from .schedules import SHAPE, rescaled_peak


class Resumable:
    """The checkpoint side of :class:`~cnn_core.train.trainer.Trainer` (which sets the
    attributes these methods read)."""

    @property
    def model_meta(self) -> dict[str, Any]:
        """What rebuilds this model: architecture (and a custom network's spec) and
        input/output shape."""
        meta = {"arch": self.config.arch, "in_channels": self.info.in_channels,
                "num_classes": self.info.num_classes, "input_size": self.info.input_size}
        if self.config.network is not None:
            meta["network"] = self.config.network
        return meta

    def state_dict(self) -> dict[str, Any]:
        """Everything a checkpoint needs to continue exactly where this run is
        (:func:`cnn_core.runs.checkpoint.save_checkpoint` stamps the file format)."""
        rng: dict[str, Any] = {"torch": torch.get_rng_state(), "shuffle": self.shuffle.get_state(),
                               "augment": self.augment_rng.get_state()}
        if torch.cuda.is_available():
            rng["cuda"] = torch.cuda.get_rng_state_all()
        return {
            "config": self.config.to_dict(),
            "model_meta": self.model_meta,
            "dataset": dataclasses.asdict(self.info),
            "epoch": self.epoch,
            "global_step": self.global_step,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": {"schedule": self.config.schedule, "peak_lr": self.peak_lr,
                          "stopped_early_at": self.stopped_early_at},
            "history": [m.as_dict() for m in self.history],
            "changes": [c.to_dict() for c in self.changes],
            "rng": rng,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from a checkpoint made by :meth:`state_dict` (same architecture)."""
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.epoch = int(state["epoch"])
        self.global_step = int(state.get("global_step", 0))
        self.history = [EpochMetrics(**m) for m in state["history"]]
        self.changes = [SettingsChange.from_dict(c) for c in state.get("changes", [])]
        self._progress = float(self.epoch)
        self._load_schedule(state)
        rng = state["rng"]
        torch.set_rng_state(rng["torch"])
        self.shuffle.set_state(rng["shuffle"])
        if "augment" in rng:  # older checkpoints never augmented
            self.augment_rng.set_state(rng["augment"])
        if "cuda" in rng and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(rng["cuda"])
        self._seed_rank_streams()

    def _load_schedule(self, state: dict[str, Any]) -> None:
        """Go on with the checkpoint's schedule: its own peak rate where the run's length and
        schedule are as they were (the same rates, to the bit), else rescaled to go on from
        the rate it had reached. Checkpoints of older versions (a ``StepLR``) hold only that
        rate."""
        saved = state["scheduler"]
        self.stopped_early_at = int(saved.get("stopped_early_at", 0))
        reached = float(state["optimizer"]["param_groups"][0]["lr"])
        as_saved = TrainConfig.from_dict(state["config"])
        same = all(getattr(as_saved, k) == getattr(self.config, k) for k in SHAPE)
        self.peak_lr = (float(saved["peak_lr"]) if "peak_lr" in saved and same
                        else rescaled_peak(self.config, self.epoch, reached))
        self.follow_schedule(float(self.epoch))

    def start_from(self, record: Record) -> None:
        """Before a fresh run trains: record the weights it was given
        (:func:`~cnn_core.train.init_from.copy_weights`), and give the layers copied the
        optimizer group of their own that ``backbone_lr_scale`` sets the rate of."""
        self.config = dataclasses.replace(self.config, init_from=record)
        self.optimizer = make_optimizer(self.config, self.model, self.device)
        self.follow_schedule(0.0)
