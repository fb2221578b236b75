"""Learning-rate schedules: their shapes, per-batch stepping, and that a resume, an edit
and an older checkpoint keep them exact."""

from __future__ import annotations

import math

import pytest
import torch

from cnn_core.data.datasets import DataBundle
from cnn_core.train.callbacks import Callback
from cnn_core.train.config import TrainConfig
from cnn_core.train.launch import trainer_from_checkpoint
from cnn_core.train.schedules import lr_factor
from cnn_core.train.trainer import Trainer


def cfg(**kw) -> TrainConfig:
    return TrainConfig(**{"arch": "lenet5", "epochs": 4, "batch_size": 64, "device": "cpu",
                          "seed": 2, "lr": 2e-3, **kw})


class Rates(Callback):
    """Every batch's learning rate, and a stop after ``stop_after`` epochs."""

    def __init__(self, stop_after: int | None = None, edit_at: tuple[int, dict] | None = None):
        self.lrs: list[float] = []
        self.stop_after, self.edit_at = stop_after, edit_at

    def on_batch_end(self, trainer, progress):
        self.lrs.extend(progress.lrs)
        if self.edit_at and trainer.global_step == self.edit_at[0]:
            trainer.request_changes(**self.edit_at[1])

    def on_epoch_end(self, trainer, metrics):
        if metrics.epoch == self.stop_after:
            trainer.request_stop()


def test_onecycle_rises_to_the_peak_at_30_percent_then_falls_far_below_it() -> None:
    config = cfg(schedule="onecycle", epochs=10)
    assert lr_factor(config, 0) == pytest.approx(1 / 25)
    assert lr_factor(config, 3) == pytest.approx(1.0)
    assert lr_factor(config, 10) == pytest.approx(1 / 25 / 1e4)
    rising = [lr_factor(config, t / 10) for t in range(31)]
    assert rising == sorted(rising)


def test_cosine_warms_up_linearly_then_falls_to_zero() -> None:
    config = cfg(schedule="cosine", epochs=10, warmup_epochs=2)
    assert lr_factor(config, 0) == pytest.approx(0.01)
    assert lr_factor(config, 1) == pytest.approx(0.505)
    assert lr_factor(config, 2) == pytest.approx(1.0)
    assert lr_factor(config, 6) == pytest.approx(0.5)
    assert lr_factor(config, 10) == pytest.approx(0.0, abs=1e-12)


def test_step_matches_pytorchs_steplr_epoch_by_epoch() -> None:
    config = cfg(schedule="step", epochs=12, step_size=3, gamma=0.5)
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    steplr = torch.optim.lr_scheduler.StepLR(optimizer, step_size=3, gamma=0.5)
    for epoch in range(12):
        assert lr_factor(config, epoch + 0.5) == pytest.approx(optimizer.param_groups[0]["lr"])
        optimizer.step()
        steplr.step()


def test_constant_stays() -> None:
    assert {lr_factor(cfg(schedule="constant"), t) for t in (0, 1.5, 4)} == {1.0}


@pytest.mark.parametrize("bad, field", [(dict(schedule="linear"), "schedule"),
                                        (dict(schedule="cosine", warmup_epochs=4),
                                         "warmup_epochs")])
def test_bad_schedules_are_refused_naming_the_field(bad, field) -> None:
    with pytest.raises(ValueError, match=f"^{field}:"):
        cfg(**bad).validate()


def test_onecycle_moves_every_batch_along_its_curve(small: DataBundle) -> None:
    rates = Rates()
    Trainer(cfg(schedule="onecycle", epochs=2), [rates], data=small).fit()
    per_epoch = math.ceil(len(small.train) / 64)
    assert len(rates.lrs) == 2 * per_epoch == len(set(rates.lrs))
    peak = rates.lrs.index(max(rates.lrs))
    assert max(rates.lrs) == pytest.approx(2e-3, rel=0.01)
    assert peak == pytest.approx(0.3 * len(rates.lrs), abs=1)
    assert rates.lrs[0] == pytest.approx(2e-3 / 25) and rates.lrs[-1] < 2e-3 / 50


def test_a_onecycle_run_resumed_midway_is_the_unbroken_run(small: DataBundle) -> None:
    whole = Rates()
    unbroken = Trainer(cfg(schedule="onecycle"), [whole], data=small)
    unbroken.fit()

    first = Rates(stop_after=2)
    broken = Trainer(cfg(schedule="onecycle"), [first], data=small)
    broken.fit()
    assert broken.epoch == 2
    second = Rates()
    resumed = trainer_from_checkpoint(broken.state_dict(), [second], data=small, epochs=4)
    resumed.fit()

    assert first.lrs + second.lrs == whole.lrs
    for key, value in unbroken.model.state_dict().items():
        assert torch.equal(resumed.model.state_dict()[key], value), key


def test_an_edited_rate_rescales_the_rest_of_the_curve(small: DataBundle) -> None:
    plain, edited = Rates(), Rates(edit_at=(5, {"lr": 1e-3}))
    Trainer(cfg(schedule="cosine", epochs=2), [plain], data=small, report_interval=0).fit()
    trainer = Trainer(cfg(schedule="cosine", epochs=2), [edited], data=small,
                      report_interval=0)
    trainer.fit()
    # asked for after batch 5, it takes effect before batch 6
    assert [c.changes for c in trainer.changes] == [{"lr": (plain.lrs[4], 1e-3)}]
    assert edited.lrs[:5] == plain.lrs[:5]
    scale = 1e-3 / plain.lrs[5]
    assert edited.lrs[5:] == pytest.approx([scale * lr for lr in plain.lrs[5:]], rel=1e-9)
    assert edited.lrs[5] == pytest.approx(1e-3)


def test_a_checkpoint_of_an_older_version_goes_on_with_its_steplr(small: DataBundle) -> None:
    """Before schedules, checkpoints kept a StepLR's state; the rate reached is in the
    optimizer's state, and the cuts go on from it."""
    whole = Rates()
    Trainer(cfg(step_size=1, gamma=0.5, epochs=3), [whole], data=small).fit()
    broken = Trainer(cfg(step_size=1, gamma=0.5, epochs=3), [Rates(stop_after=1)], data=small)
    broken.fit()
    state = broken.state_dict()
    state["scheduler"] = {"step_size": 1, "gamma": 0.5, "base_lrs": [2e-3], "last_epoch": 1,
                          "_step_count": 2, "_last_lr": [1e-3]}
    state["config"] = {k: v for k, v in state["config"].items()
                       if k not in ("schedule", "warmup_epochs", "early_stop", "monitor",
                                    "min_delta")}
    later = Rates()
    trainer_from_checkpoint(state, [later], data=small, epochs=3).fit()
    assert later.lrs == pytest.approx(whole.lrs[len(whole.lrs) - len(later.lrs):], rel=1e-12)
    assert sorted(set(later.lrs), reverse=True) == pytest.approx([1e-3, 5e-4])
