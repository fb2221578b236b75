"""Following a run folder another process writes: only what was appended, never half a
line, and a file rewritten from the top read again from the top."""

from __future__ import annotations

from pathlib import Path

from cnn_core.runs.follow import AppendedLines, FolderKind, RunFollower, folder_kind
from cnn_core.runs.recorder import RunRecorder, metrics_csv
from cnn_core.runs.store import read_metrics
from cnn_core.train.callbacks import Callback, EpochMetrics, RunStatus
from cnn_core.train.config import TrainConfig
from cnn_core.train.trainer import Trainer


def test_only_appended_lines_are_read(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text("a,b\n1,2\n")
    lines = AppendedLines(path)
    assert lines.read() == ["a,b", "1,2"]
    assert lines.read() == []
    path.write_text("a,b\n1,2\n3,4\n5,6\n")  # rewritten whole, as the recorder does
    assert lines.read() == ["3,4", "5,6"] and not lines.reset


def test_a_partial_last_line_is_held_back_until_complete(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_bytes(b"a,b\n1,2\n3,")  # a synced disk caught part-way
    lines = AppendedLines(path)
    assert lines.read() == ["a,b", "1,2"]
    assert lines.read() == []
    path.write_bytes(b"a,b\n1,2\n3,4\n")
    assert lines.read() == ["3,4"]


def test_a_file_rewritten_shorter_or_differently_is_read_again_from_the_top(
        tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text("a,b\n1,2\n3,4\n")
    lines = AppendedLines(path)
    lines.read()
    path.write_text("a,b\n1,9\n")  # a resume from an earlier checkpoint
    assert lines.read() == ["a,b", "1,9"] and lines.reset
    path.write_text("a,b\n1,8\n5,6\n")  # as long as before, and more, but not the same
    assert lines.read() == ["a,b", "1,8", "5,6"] and lines.reset
    assert lines.read() == [] and not lines.reset


def test_a_missing_file_is_fine(tmp_path: Path) -> None:
    lines = AppendedLines(tmp_path / "not-yet.csv")
    assert lines.read() == [] and not lines.reset
    (tmp_path / "not-yet.csv").write_text("a\n")
    assert lines.read() == ["a"] and not lines.reset


class Polls(Callback):
    """Polls a follower right after the recorder has saved each epoch."""

    def __init__(self, follower: RunFollower) -> None:
        self.follower = follower
        self.updates = []

    def on_epoch_end(self, trainer: Trainer, metrics: EpochMetrics) -> None:
        self.updates.append(self.follower.poll())


def test_a_recorded_run_is_followed_epoch_by_epoch(tmp_path: Path, small) -> None:
    run = tmp_path / "run"
    follower = RunFollower(run)
    before = follower.poll()  # the folder does not exist yet
    assert (before.metrics, len(before.batches), before.snapshots, before.summary,
            before.checkpoint) == ([], 0, [], None, None)
    polls = Polls(follower)
    config = TrainConfig(arch="lenet5", epochs=3, batch_size=64, device="cpu")
    trainer = Trainer(config, [RunRecorder(run), polls], data=small)
    trainer.fit()
    for epoch, update in enumerate(polls.updates, start=1):
        assert [m.epoch for m in update.metrics] == [epoch]
        assert update.metrics[0] == trainer.history[epoch - 1]
        assert set(update.batches.epoch.tolist()) == {epoch}
        assert len(update.batches) == 10  # 640 images in batches of 64
        first = ["epoch-0000.npz"] if epoch == 1 else []
        assert [p.name for p in update.snapshots] == [*first, f"epoch-{epoch:04d}.npz"]
        assert update.checkpoint == run / "checkpoints" / "last.pt"
        assert update.summary.epochs_done == epoch and not update.finished
        assert update.updated > 0 and not update.reset
    end = follower.poll()
    assert end.finished and end.summary.status == RunStatus.COMPLETED
    assert (end.metrics, len(end.batches), end.snapshots, end.checkpoint) == ([], 0, [], None)


def test_a_run_rewritten_by_a_resume_is_reported_again_from_the_top(tmp_path: Path,
                                                                      small) -> None:
    run = tmp_path / "run"
    Trainer(TrainConfig(arch="lenet5", epochs=2, device="cpu"), [RunRecorder(run)],
            data=small).fit()
    follower = RunFollower(run)
    assert len(follower.poll().metrics) == 2
    history = read_metrics(run)
    (run / "metrics.csv").write_text(metrics_csv(history[:1]))
    update = follower.poll()
    assert update.reset and update.metrics == history[:1]
    assert len(update.batches) == 20 and len(update.snapshots) == 3
    assert update.checkpoint is not None


def test_a_damaged_row_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "metrics.csv").write_text(
        "epoch,train_loss,train_acc,test_loss,test_acc,lr,seconds,images_per_sec\n"
        "1,0.5,0.8,0.4,0.9,0.001,1.0,100\nx,y\n2,0.3,0.9,0.3,0.92,0.001,1.0,100\n")
    assert [m.epoch for m in RunFollower(tmp_path).poll().metrics] == [1, 2]


def test_a_folder_holds_a_run_nothing_yet_or_other_things(tmp_path: Path) -> None:
    assert folder_kind(tmp_path / "missing") == FolderKind.EMPTY
    starting = tmp_path / "starting"
    starting.mkdir()
    (starting / ".writer.lock").touch()
    (starting / ".config.json.abc.tmp").touch()  # the writer's first file, on its way
    assert folder_kind(starting) == FolderKind.EMPTY
    (starting / "config.json").write_text("{}")
    assert folder_kind(starting) == FolderKind.RUN
    other = tmp_path / "other"
    other.mkdir()
    (other / "holiday.jpg").touch()
    assert folder_kind(other) == FolderKind.OTHER
    assert folder_kind(tmp_path) == FolderKind.RUNS  # "starting" holds a run
