from __future__ import annotations

import threading
import time

import pytest
import torch

from cnn_core.train.callbacks import BatchProgress, Callback, RunStatus, SettingsChange
from cnn_core.train.config import TrainConfig
from cnn_core.data.datasets import DataBundle, Split
from cnn_core.train.trainer import Trainer, TrainingError


class Recorder(Callback):
    def __init__(self) -> None:
        self.events: list[str] = []
        self.progress = []
        self.epochs = []
        self.errors = []

    def on_train_start(self, trainer):
        self.events.append("start")

    def on_epoch_start(self, trainer, epoch):
        self.events.append(f"epoch{epoch}")

    def on_batch_end(self, trainer, progress):
        self.progress.append(progress)

    def on_epoch_end(self, trainer, metrics):
        self.epochs.append(metrics)
        self.events.append(f"end{metrics.epoch}")

    def on_train_end(self, trainer, result):
        self.events.append(result.status)

    def on_exception(self, trainer, exc):
        self.errors.append(exc)


def cfg(**kw) -> TrainConfig:
    return TrainConfig(**{"arch": "lenet5", "epochs": 2, "device": "cpu", "batch_size": 64, **kw})


def test_fit_calls_every_hook_in_order_and_learns(small: DataBundle) -> None:
    rec = Recorder()
    result = Trainer(cfg(epochs=3), [rec], data=small, report_interval=0.0).fit()
    assert result.status == RunStatus.COMPLETED and result.epochs_done == 3
    assert rec.events == ["start", "epoch1", "end1", "epoch2", "end2", "epoch3", "end3",
                          "completed"]
    assert rec.epochs[-1].train_loss < rec.epochs[0].train_loss
    assert rec.epochs[-1].test_acc > 0.5
    # with report_interval=0 every batch is reported, each with exactly its own loss
    assert [p.global_step for p in rec.progress] == list(range(1, 31))
    assert all(len(p.losses) == 1 for p in rec.progress)


def test_batch_reports_are_rate_limited_but_lose_no_batch_loss(small: DataBundle) -> None:
    rec = Recorder()
    Trainer(cfg(epochs=1, batch_size=16), [rec], data=small, report_interval=3600.0).fit()
    # 40 batches, one report (the epoch's last batch) carrying all 40 losses
    assert len(rec.progress) == 1
    assert len(rec.progress[0].losses) == 40 and rec.progress[0].first_step == 1


def test_same_seed_same_numbers_different_seed_different(small: DataBundle) -> None:
    runs = [Trainer(cfg(seed=s), data=small).fit().history for s in (3, 3, 4)]
    key = lambda h: [(m.train_loss, m.train_acc, m.test_loss, m.test_acc) for m in h]  # noqa: E731
    assert key(runs[0]) == key(runs[1])
    assert key(runs[0]) != key(runs[2])


def test_stop_takes_effect_within_one_batch(small: DataBundle) -> None:
    class StopAt(Callback):
        def on_batch_end(self, trainer, progress):
            if progress.global_step == 3:
                trainer.request_stop()

    trainer = Trainer(cfg(epochs=5), [StopAt()], data=small, report_interval=0.0)
    result = trainer.fit()
    assert result.status == RunStatus.STOPPED
    assert trainer.global_step == 3  # no batch ran after the request
    assert result.epochs_done == 0


def test_pause_blocks_training_until_resumed(small: DataBundle) -> None:
    class PauseAt(Callback):
        def on_batch_end(self, trainer, progress):
            if progress.global_step == 2:
                trainer.pause()

    trainer = Trainer(cfg(epochs=1), [PauseAt()], data=small, report_interval=0.0)
    thread = threading.Thread(target=trainer.fit)
    thread.start()
    deadline = time.monotonic() + 5
    while not trainer.paused and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.3)
    assert trainer.paused and trainer.global_step == 2
    trainer.resume()
    thread.join(10)
    assert not thread.is_alive() and trainer.epoch == 1


def test_stop_while_paused_ends_the_run(small: DataBundle) -> None:
    trainer = Trainer(cfg(epochs=3), data=small)
    trainer.pause()
    thread = threading.Thread(target=trainer.fit)
    thread.start()
    time.sleep(0.2)
    trainer.request_stop()
    thread.join(5)
    assert not thread.is_alive() and trainer.global_step == 0


def test_nan_loss_stops_with_a_clear_error_and_restores_good_weights(small: DataBundle) -> None:
    own = DataBundle(small.info, Split(small.train.images.clone(), small.train.labels), small.test)
    rec = Recorder()
    trainer = Trainer(cfg(epochs=3, seed=1), [rec], data=own, report_interval=0.0)
    trainer.fit()  # clean data first: 3 good epochs
    good = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    trainer.data.train.images[100:] = float("nan")  # poison (our own copy) from batch 2 on
    trainer.config.epochs = 4
    with pytest.raises(TrainingError, match="loss became nan at epoch 4"):
        trainer.fit()
    assert isinstance(rec.errors[-1], TrainingError)
    state = trainer.model.state_dict()
    assert all(torch.equal(state[k], good[k]) for k in good)
    assert trainer.epoch == 3 and len(trainer.history) == 3


def test_sgd_with_momentum_and_weight_decay_trains(small: DataBundle) -> None:
    trainer = Trainer(cfg(optimizer="sgd", lr=0.05, momentum=0.9, weight_decay=1e-4),
                      data=small)
    assert isinstance(trainer.optimizer, torch.optim.SGD)
    assert trainer.optimizer.param_groups[0]["momentum"] == 0.9
    history = trainer.fit().history
    assert history[-1].train_loss < history[0].train_loss


def test_step_lr_schedule(small: DataBundle) -> None:
    history = Trainer(cfg(epochs=3, step_size=1, gamma=0.1), data=small).fit().history
    assert [m.lr for m in history] == pytest.approx([1e-3, 1e-4, 1e-5])


def test_invalid_config_is_refused_before_anything_runs(small: DataBundle) -> None:
    with pytest.raises(ValueError, match="^lr: "):
        Trainer(cfg(lr=-1), data=small)


class EditAt(Callback):
    """Queues setting edits when a given batch has been reported; records every report."""

    def __init__(self, step: int, **changes) -> None:
        self.step, self.changes = step, changes
        self.progress = []
        self.applied = []

    def on_batch_end(self, trainer, progress):
        self.progress.append(progress)
        if progress.global_step == self.step:
            trainer.request_changes(**self.changes)

    def on_settings_changed(self, trainer, change):
        self.applied.append(change)


def test_a_new_learning_rate_applies_from_the_next_batch(small: DataBundle) -> None:
    edit = EditAt(3, lr=0.05)
    trainer = Trainer(cfg(epochs=2, optimizer="sgd", momentum=0.0), [edit], data=small,
                      report_interval=0.0)
    trainer.fit()
    lrs = {p.global_step: p.lr for p in edit.progress}
    assert lrs[3] == pytest.approx(1e-3) and lrs[4] == pytest.approx(0.05)
    assert lrs[20] == pytest.approx(0.05)
    assert edit.applied == [SettingsChange(step=3, epoch=pytest.approx(3 * 64 / 640),
                                           changes={"lr": (pytest.approx(1e-3), 0.05)})]
    assert trainer.config.lr == 0.05 and trainer.changes == edit.applied
    assert trainer.state_dict()["changes"] == [c.to_dict() for c in edit.applied]


def test_the_update_of_the_next_batch_uses_the_new_learning_rate(small: DataBundle) -> None:
    """Plain SGD: after the edit, one batch moves the weights by exactly lr * gradient."""

    trainer = Trainer(cfg(epochs=1, optimizer="sgd", momentum=0.0), [EditAt(2, lr=0.5)],
                      data=small, report_interval=0.0)
    seen = []
    real_step = trainer.optimizer.step

    def step():
        if trainer.global_step == 2:  # the third batch, the first after the edit
            seen.append(({k: p.detach().clone() for k, p in trainer.model.named_parameters()},
                         {k: p.grad.clone() for k, p in trainer.model.named_parameters()}))
        real_step()
        if trainer.global_step == 2:
            trainer.request_stop()

    trainer.optimizer.step = step
    trainer.fit()
    [(before, grads)] = seen
    for k, p in trainer.model.named_parameters():
        assert torch.allclose(p.detach(), before[k] - 0.5 * grads[k], atol=1e-6), k


def test_optimizer_batch_size_epochs_and_schedule_change_mid_run(small: DataBundle) -> None:
    edit = EditAt(2, optimizer="sgd", batch_size=128, epochs=3, step_size=1, gamma=0.1)
    trainer = Trainer(cfg(epochs=2), [edit], data=small, report_interval=0.0)
    result = trainer.fit()
    assert result.epochs_done == 3
    assert isinstance(trainer.optimizer, torch.optim.SGD)
    # the new batch size waits for the next epoch: 10 batches of 64, then 5 of 128 twice
    epoch1 = [p for p in edit.progress if p.epoch == 1]
    assert len(epoch1) == 10 and {p.num_batches for p in epoch1} == {10}
    assert trainer.global_step == 10 + 5 + 5
    assert [c.changes.keys() for c in edit.applied] == [
        {"optimizer", "epochs", "step_size", "gamma"}, {"batch_size"}]
    assert edit.applied[1].epoch == 1.0
    # the schedule now cuts the lr tenfold every epoch
    assert [round(m.lr, 8) for m in trainer.history] == [1e-3, 1e-4, 1e-5]


def test_a_batch_size_waiting_for_the_next_epoch_keeps_reports_rate_limited(
        small: DataBundle) -> None:
    class Resize(Callback):
        def __init__(self) -> None:
            self.progress: list[BatchProgress] = []

        def on_epoch_start(self, trainer, epoch):  # edited once the epoch has begun
            if epoch == 1:
                trainer.request_changes(batch_size=32)

        def on_batch_end(self, trainer, progress):
            self.progress.append(progress)

    resize = Resize()
    trainer = Trainer(cfg(epochs=2, batch_size=16), [resize], data=small, report_interval=3600.0)
    trainer.fit()
    # epoch 1 keeps its 40 batches of 16 and reports once, at its end: the waiting batch
    # size does not turn every remaining batch into a report
    assert [(p.batch, p.num_batches) for p in resize.progress] == [(40, 40), (20, 20)]
    assert sum(len(p.losses) for p in resize.progress) == 40 + 20


def test_fewer_epochs_asked_for_as_an_epoch_ends_stop_the_run_there(small: DataBundle) -> None:
    class Shorten(Callback):  # as if paused during the last batch or the evaluation
        def on_batch_end(self, trainer, progress):
            if progress.epoch == 2 and progress.batch == progress.num_batches:
                trainer.request_changes(epochs=2)

    trainer = Trainer(cfg(epochs=5), [Shorten()], data=small)
    assert trainer.fit().status == "completed" and trainer.epoch == 2


def test_bad_edits_are_refused_at_once_and_nothing_is_queued(small: DataBundle) -> None:
    trainer = Trainer(cfg(epochs=2), data=small)
    with pytest.raises(ValueError, match="^lr: "):
        trainer.request_changes(lr=0)
    with pytest.raises(ValueError, match="^arch: cannot change"):
        trainer.request_changes(arch="deepcnn")
    trainer.fit()
    with pytest.raises(ValueError, match="^epochs: must be more than the 2"):
        trainer.request_changes(epochs=2)
    trainer.apply_pending_changes()
    assert trainer.changes == [] and trainer.lr == 1e-3
