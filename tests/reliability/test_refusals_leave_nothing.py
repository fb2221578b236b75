"""A refused command leaves nothing behind, and a run whose folder disappears stops
instead of writing a new one without its config or lock."""

from __future__ import annotations

from pathlib import Path

import pytest

from cnn_core.train.callbacks import Callback
from cnn_core.train.config import TrainConfig
from cnn_core.train.launch import launch
from cnn_core.train.trainer import TrainingError
from tests.reliability.helpers import assert_one_clean_line, cli


def test_a_refused_out_folder_is_left_as_it_was(tmp_path: Path) -> None:
    folder = tmp_path / "my-files"
    folder.mkdir()
    (folder / "notes.txt").write_text("a person's notes")
    result = cli("train", "--arch", "lenet5", "--epochs", "1", "--device", "cpu",
                 "--out", str(folder))
    assert result.returncode == 2
    assert_one_clean_line(result.stderr)
    assert "already holds other files" in result.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]


class RemoveTheFolder(Callback):
    """A person deletes the run's folder after the first epoch was saved."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir

    def on_epoch_end(self, trainer, metrics) -> None:
        if metrics.epoch == 1:
            for path in sorted(self.run_dir.rglob("*"), reverse=True):
                path.rmdir() if path.is_dir() else path.unlink()
            self.run_dir.rmdir()


def test_a_run_whose_folder_is_removed_stops_and_makes_no_new_one(tmp_path: Path,
                                                                  sample) -> None:
    run_dir = tmp_path / "run"
    run = launch(TrainConfig(arch="lenet5", epochs=3, device="cpu"),
                 [RemoveTheFolder(run_dir)], run_dir=run_dir, data=sample)
    with pytest.raises(TrainingError, match=f"the run folder {run_dir} was removed while "
                                            "training; nothing more is written"):
        run.trainer.fit()
    assert not run_dir.exists()
