from __future__ import annotations

import pickle

import pytest
import torch

from cnn_core.runs.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from cnn_core.train.config import TrainConfig
from cnn_core.data.datasets import DataBundle
from cnn_core.runs.recorder import RunRecorder
from cnn_core.train.launch import trainer_from_checkpoint
from cnn_core.train.trainer import Trainer
from tests.exploit import Exploit


def cfg(**kw) -> TrainConfig:
    return TrainConfig(**{"arch": "simplecnn", "epochs": 3, "device": "cpu", "step_size": 1,
                          "gamma": 0.7, "seed": 5, **kw})


def test_round_trip_keeps_everything(tmp_path, small: DataBundle) -> None:
    trainer = Trainer(cfg(epochs=1), data=small)
    trainer.fit()
    save_checkpoint(trainer.state_dict(), tmp_path / "a.pt")
    state = load_checkpoint(tmp_path / "a.pt")
    assert state["epoch"] == 1 and state["config"]["arch"] == "simplecnn"
    assert len(state["history"]) == 1
    for k, v in trainer.model.state_dict().items():
        assert torch.equal(state["model"][k], v)
    assert state["optimizer"]["state"]  # Adam moments are there
    assert state["scheduler"] == {"schedule": "step", "peak_lr": 1e-3, "stopped_early_at": 0}


@pytest.mark.parametrize("arch", ["simplecnn", "deepcnn"])
def test_resume_after_epoch_k_equals_an_unbroken_run(tmp_path, small: DataBundle,
                                                     arch: str) -> None:
    unbroken = Trainer(cfg(arch=arch), data=small)
    unbroken.fit()

    first = Trainer(cfg(arch=arch, epochs=2), [RunRecorder(tmp_path / "run")], data=small)
    first.fit()
    state = load_checkpoint(tmp_path / "run" / "checkpoints" / "last.pt")
    resumed = trainer_from_checkpoint(state, data=small, epochs=3)
    assert resumed.epoch == 2
    resumed.fit()

    for k, v in unbroken.model.state_dict().items():
        assert torch.equal(resumed.model.state_dict()[k], v), k
    assert [m.test_loss for m in resumed.history] == [m.test_loss for m in unbroken.history]
    assert [m.train_loss for m in resumed.history] == [m.train_loss for m in unbroken.history]


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_malicious_pickle_does_not_execute_and_is_refused(tmp_path) -> None:
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.pt"
    torch.save({"format": "cnn-studio-checkpoint", "model": Exploit(str(marker))}, evil)
    with pytest.raises(CheckpointError, match="refused"):
        load_checkpoint(evil)
    assert not marker.exists()
    # and a raw pickle stream (not torch's zip format) is refused the same way
    raw = tmp_path / "raw.pt"
    raw.write_bytes(pickle.dumps(Exploit(str(marker))))
    with pytest.raises(CheckpointError):
        load_checkpoint(raw)
    assert not marker.exists()


def test_truncated_empty_foreign_and_missing_files_are_refused(tmp_path, small) -> None:
    trainer = Trainer(cfg(epochs=1), data=small)
    good = tmp_path / "good.pt"
    save_checkpoint(trainer.state_dict(), good)
    data = good.read_bytes()
    cases = {
        "truncated.pt": data[: len(data) // 2],
        "empty.pt": b"",
        "text.pt": b"hello, not a checkpoint",
        "junk.pt": b"junk",  # too short for a pickle header: struct.error inside torch
    }
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(CheckpointError):
            load_checkpoint(tmp_path / name)
    torch.save({"weights": torch.zeros(3)}, tmp_path / "foreign.pt")
    with pytest.raises(CheckpointError, match="not a CNN Studio checkpoint"):
        load_checkpoint(tmp_path / "foreign.pt")
    with pytest.raises(CheckpointError, match="no such"):
        load_checkpoint(tmp_path / "missing.pt")


def test_interrupted_save_leaves_previous_checkpoint_intact(tmp_path, small, monkeypatch) -> None:
    trainer = Trainer(cfg(epochs=1), data=small)
    path = tmp_path / "last.pt"
    save_checkpoint(trainer.state_dict(), path)
    before = path.read_bytes()
    trainer.fit()

    real_save = torch.save

    def save_half_then_fail(obj, f, *a, **k):
        real_save(obj, f, *a, **k)
        f.truncate(f.tell() // 2)
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", save_half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(trainer.state_dict(), path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.pt"]
