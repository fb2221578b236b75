"""The run folder: what the recorder writes, what cnn_core.runs reads back."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from cnn_core.runs.checkpoint import CheckpointError, load_checkpoint
from cnn_core.train.callbacks import RunStatus, SettingsChange
from cnn_core.train.config import TrainConfig
from cnn_core.data.datasets import DataBundle
from cnn_core.runs.recorder import RunRecorder
from cnn_core.runs.store import (RunError, delete_run, list_runs, read_batches, read_config,
                           read_metrics, read_snapshots, read_summary, rename_run)
from cnn_core.train.launch import trainer_from_checkpoint
from cnn_core.train.trainer import Trainer


def cfg(**kw) -> TrainConfig:
    return TrainConfig(**{"arch": "lenet5", "epochs": 2, "device": "cpu", "seed": 2, **kw})


def test_a_run_folder_has_every_file_and_reads_back(tmp_path, small) -> None:
    run = tmp_path / "run"
    trainer = Trainer(cfg(), [RunRecorder(run, name="first try")], data=small)
    trainer.fit()
    summary = read_summary(run)
    assert (summary.name, summary.arch, summary.dataset, summary.status) == (
        "first try", "lenet5", "mnist-sample", RunStatus.COMPLETED)
    assert summary.epochs_done == 2 and summary.device == "cpu" and summary.created
    best = max(trainer.history, key=lambda m: m.test_acc)
    assert (summary.best_test_acc, summary.best_epoch) == (best.test_acc, best.epoch)
    assert read_metrics(run) == trainer.history
    assert read_config(run) == trainer.config
    log = read_batches(run)
    assert log.step.tolist() == list(range(1, 21))  # 640 images / 64, twice
    assert log.epoch.tolist() == [1] * 10 + [2] * 10
    assert np.isfinite(log.loss).all() and (log.lr == 1e-3).all()
    snaps = list(read_snapshots(run))
    assert [s.epoch for s in snaps] == [0, 1, 2]
    conv1 = dict(trainer.model.conv_layers())["conv1"].weight.detach().numpy()
    assert snaps[2].filters["conv1"].shape == (6, 1, 5, 5)
    np.testing.assert_allclose(snaps[2].filters["conv1"], conv1, atol=2e-3)
    state = trainer.model.state_dict()
    assert set(snaps[2].state) == set(state)  # the whole model, for replaying the run
    for key, value in state.items():
        np.testing.assert_allclose(snaps[2].state[key], value.numpy(), rtol=1e-3, atol=1e-3)
    for name in ("last.pt", "best.pt"):
        assert load_checkpoint(run / "checkpoints" / name)["epoch"] >= 1
    assert not list(run.rglob("*.tmp"))


def test_resuming_in_the_same_folder_continues_every_file(tmp_path, small) -> None:
    unbroken = tmp_path / "unbroken"
    Trainer(cfg(epochs=3), [RunRecorder(unbroken)], data=small).fit()
    run = tmp_path / "run"
    Trainer(cfg(epochs=2), [RunRecorder(run)], data=small).fit()
    state = load_checkpoint(run / "checkpoints" / "last.pt")
    trainer_from_checkpoint(state, [RunRecorder(run)], data=small, epochs=3).fit()

    key = lambda ms: [(m.train_loss, m.train_acc, m.test_loss, m.test_acc) for m in ms]  # noqa: E731
    assert key(read_metrics(run)) == key(read_metrics(unbroken))
    assert read_batches(run).loss.tolist() == read_batches(unbroken).loss.tolist()
    a = load_checkpoint(run / "checkpoints" / "last.pt")["model"]
    b = load_checkpoint(unbroken / "checkpoints" / "last.pt")["model"]
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert read_summary(run).epochs_done == 3


def test_a_branch_starts_from_its_parents_checkpoint(tmp_path, small) -> None:
    parent = tmp_path / "parent"
    Trainer(cfg(epochs=3), [RunRecorder(parent)], data=small).fit()
    state = load_checkpoint(parent / "checkpoints" / "best.pt")
    k = state["epoch"]
    branch = tmp_path / "branch"
    trainer = trainer_from_checkpoint(state, [RunRecorder(branch, parent=parent)],
                                      data=small, epochs=k + 2, lr=3e-4)
    for name, tensor in trainer.model.state_dict().items():
        assert torch.equal(tensor, state["model"][name]), name
    trainer.fit()
    summary = read_summary(branch)
    assert summary.parent == {"run": "parent", "epoch": k, "step": 10 * k}
    metrics = read_metrics(branch)
    assert metrics[:k] == read_metrics(parent)[:k]  # drawn from the parent's curve
    assert [m.lr for m in metrics[k:]] == [3e-4, 3e-4]
    assert read_batches(branch).step.tolist() == list(range(1, 10 * (k + 2) + 1))
    assert read_summary(parent).epochs_done == 3  # the parent is untouched


def test_settings_changed_during_a_run_are_recorded(tmp_path, small) -> None:
    from cnn_core.train.callbacks import Callback

    class Edit(Callback):
        def on_batch_end(self, trainer, progress):
            if progress.global_step == 5:
                trainer.request_changes(lr=2e-3)

    run = tmp_path / "run"
    Trainer(cfg(), [Edit(), RunRecorder(run)], data=small, report_interval=0.0).fit()
    change = SettingsChange(step=5, epoch=0.5, changes={"lr": (1e-3, 2e-3)})
    assert read_summary(run).changes == [change]
    assert json.loads((run / "summary.json").read_text())["changes"] == [change.to_dict()]
    assert read_config(run).lr == 2e-3
    state = load_checkpoint(run / "checkpoints" / "last.pt")
    assert state["changes"] == [change.to_dict()]
    assert trainer_from_checkpoint(state, data=small).changes == [change]


def test_malformed_changes_or_status_are_refused_with_the_file_named(tmp_path, small) -> None:
    run = tmp_path / "run"
    Trainer(cfg(epochs=1), [RunRecorder(run)], data=small).fit()
    summary = json.loads((run / "summary.json").read_text())
    for bad in ({"changes": [{"step": 1}]}, {"status": "exploded"}):
        (run / "summary.json").write_text(json.dumps({**summary, **bad}))
        with pytest.raises(RunError, match="summary.json"):
            read_summary(run)
    state = load_checkpoint(run / "checkpoints" / "last.pt")
    state["changes"] = [{"step": 1, "epoch": 0.1, "changes": {"lr": [1e-3]}}]
    torch.save(state, tmp_path / "bad.pt")
    with pytest.raises(CheckpointError, match="bad.pt"):
        load_checkpoint(tmp_path / "bad.pt")


def test_list_rename_and_delete(tmp_path, small) -> None:
    for i in range(2):
        Trainer(cfg(epochs=1, seed=i), [RunRecorder(tmp_path / f"run{i}")], data=small).fit()
    (tmp_path / "not-a-run").mkdir()
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "summary.json").write_text("{ nope")
    runs = {r.path.name: r for r in list_runs(tmp_path)}
    assert sorted(runs) == ["broken", "run0", "run1"]
    assert runs["broken"].damaged and not runs["run0"].damaged

    rename_run(tmp_path / "run0", "  baseline  ")
    assert read_summary(tmp_path / "run0").name == "baseline"
    assert json.loads((tmp_path / "run0" / "summary.json").read_text())["name"] == "baseline"
    with pytest.raises(RunError, match="empty"):
        rename_run(tmp_path / "run0", "   ")

    delete_run(tmp_path / "run1")
    assert not (tmp_path / "run1").exists()
    with pytest.raises(RunError, match="not a run folder"):
        delete_run(tmp_path / "not-a-run")
    assert (tmp_path / "not-a-run").exists()


def test_a_run_killed_mid_write_leaves_the_completed_files_readable(tmp_path, small,
                                                                    monkeypatch) -> None:
    import cnn_core.runs.recorder as recorder
    run = tmp_path / "run"
    Trainer(cfg(epochs=1), [RunRecorder(run)], data=small).fit()
    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}

    def crash(*args, **kwargs):
        raise KeyboardInterrupt  # as if the process were killed while writing

    state = load_checkpoint(run / "checkpoints" / "last.pt")
    monkeypatch.setattr(recorder, "metrics_csv", crash)
    with pytest.raises(KeyboardInterrupt):
        trainer_from_checkpoint(state, [RunRecorder(run)], data=small, epochs=2).fit()
    # epoch 2's files come before its checkpoint: the run stays at epoch 1, and says so
    assert load_checkpoint(run / "checkpoints" / "last.pt")["epoch"] == 1
    assert (run / "metrics.csv").read_bytes() == before[run / "metrics.csv"]
    summary = read_summary(run)
    assert len(read_metrics(run)) == 1 and summary.epochs_done == 1
    assert summary.status == RunStatus.STOPPED
    assert not list(run.rglob("*.tmp")) and not list(run.rglob(".*.tmp"))
