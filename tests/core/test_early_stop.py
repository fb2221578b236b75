"""Early stopping: a plateau ends the run after exactly its patience, the best epoch's
checkpoint is kept, the summary says why, and a resume goes on past it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from cnn_core.runs.checkpoint import load_checkpoint
from cnn_core.runs.store import read_summary
from cnn_core.train.callbacks import EpochMetrics, RunStatus
from cnn_core.train.config import TrainConfig
from cnn_core.train.continuation import RunKind, open_continuation
from cnn_core.train.early_stop import plateau
from cnn_core.train.launch import launch


def history(*accs: float, losses: tuple[float, ...] = ()) -> list[EpochMetrics]:
    losses = losses or tuple(1 - a for a in accs)
    return [EpochMetrics(epoch=i, train_loss=0.0, train_acc=0.0, test_loss=loss, test_acc=acc,
                         lr=1e-3, seconds=1.0, images_per_sec=1.0)
            for i, (acc, loss) in enumerate(zip(accs, losses), start=1)]


def test_a_plateau_stops_after_exactly_the_patience() -> None:
    config = TrainConfig(early_stop=3)
    accs = [0.5, 0.8, 0.9, 0.9, 0.89, 0.9]
    assert [plateau(history(*accs[:n]), config) is not None for n in range(1, 7)] == [
        False] * 5 + [True]
    stop = plateau(history(*accs), config)
    assert (stop.epoch, stop.best, stop.kept) == (6, 3, 3)
    assert stop.describe() == ("stopped early at epoch 6: no better test accuracy for 3 "
                               "epochs; best epoch 3 kept as best.pt")


def test_min_delta_and_the_loss_are_watched_as_asked() -> None:
    small_gains = history(0.90, 0.901, 0.902, 0.903)
    assert plateau(small_gains, TrainConfig(early_stop=3)) is None
    assert plateau(small_gains, TrainConfig(early_stop=3, min_delta=0.005)).best == 1
    by_loss = history(0.5, 0.6, 0.7, 0.8, losses=(1.0, 0.9, 0.95, 0.97))
    stop = plateau(by_loss, TrainConfig(early_stop=2, monitor="test_loss"))
    assert (stop.best, stop.kept) == (2, 4)
    assert "no lower test loss for 2 epochs" in stop.describe()
    assert "best.pt keeps epoch 4" in stop.describe()


def test_off_by_default_and_after_an_earlier_stop_the_count_starts_again() -> None:
    flat = history(0.9, 0.9, 0.9, 0.9, 0.9)
    assert plateau(flat, TrainConfig()) is None
    config = TrainConfig(early_stop=2)
    assert plateau(flat[:3], config).epoch == 3
    assert plateau(flat[:4], config, after=3) is None
    assert plateau(flat[:5], config, after=3).epoch == 5


def test_a_run_on_a_plateau_stops_keeps_its_best_epoch_and_resumes_past_it(tmp_path) -> None:
    """A learning rate too small to change a prediction: the accuracy stays flat after
    the first epoch."""
    config = TrainConfig(arch="lenet5", epochs=10, lr=1e-9, schedule="constant", seed=1,
                         device="cpu", early_stop=2)
    run = launch(config, run_dir=tmp_path / "flat")
    result = run.trainer.fit()
    assert result.status == RunStatus.STOPPED_EARLY and result.epochs_done == 3
    summary = read_summary(tmp_path / "flat")
    assert summary.status == RunStatus.STOPPED_EARLY and summary.epochs_done == 3
    assert summary.note == ("stopped early at epoch 3: no better test accuracy for 2 epochs; "
                            "best epoch 1 kept as best.pt")
    assert load_checkpoint(summary.best_checkpoint)["epoch"] == 1

    continued = open_continuation(tmp_path / "flat", RunKind.RESUME)
    again = launch(continued.next_config({"epochs": 10}), continuation=continued)
    assert again.trainer.fit().epochs_done == 5  # two more epochs of patience
    assert read_summary(tmp_path / "flat").note.startswith("stopped early at epoch 5")


def test_the_command_line_stops_early_with_status_0_and_says_why(tmp_path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "cnn_core", "train", "--arch", "lenet5", "--epochs", "6",
         "--lr", "1e-9", "--schedule", "constant", "--early-stop", "1", "--device", "cpu",
         "--out", str(tmp_path / "run")], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "stopped early at epoch 2: no better test accuracy for 1 epochs" in proc.stdout
    assert read_summary(tmp_path / "run").epochs_done == 2


@pytest.mark.parametrize("flag, value, field", [("--early-stop", "-1", "early_stop"),
                                                ("--min-delta", "2", "min_delta")])
def test_bad_early_stopping_settings_are_refused_in_one_line(flag, value, field) -> None:
    proc = subprocess.run([sys.executable, "-m", "cnn_core", "train", flag, value],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and field in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
