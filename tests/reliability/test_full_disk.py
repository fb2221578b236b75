"""A full disk stops the run cleanly: the last complete checkpoint kept, a true summary,
no temp files, the folder free for the next writer."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess

import pytest

from cnn_core.runs.lock import is_being_written
from cnn_core.runs.store import read_summary
from cnn_core.train.callbacks import Callback
from cnn_core.train.config import TrainConfig
from cnn_core.train.launch import RunKind, launch, open_continuation
from cnn_core.train.trainer import TrainingError
from tests.reliability.helpers import assert_coherent, assert_one_clean_line, cli


class FullDiskAt(Callback):
    """Makes the ``n``-th file write (its fsync) after epoch ``epoch`` starts fail as a
    full disk would."""

    def __init__(self, n: int, epoch: int, monkeypatch: pytest.MonkeyPatch) -> None:
        self.n, self.epoch, self.writes, self.armed, self.failed = n, epoch, 0, False, False
        real_fsync = os.fsync

        def fsync(fd: int) -> None:
            if self.armed:
                self.writes += 1
                if self.writes == self.n:
                    self.failed = True
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            real_fsync(fd)

        monkeypatch.setattr(os, "fsync", fsync)

    def on_epoch_start(self, trainer, epoch: int) -> None:
        self.armed = self.armed or epoch == self.epoch


def test_a_failed_write_at_each_file_of_an_epoch_stops_the_run_cleanly(tmp_path, small,
                                                                       monkeypatch) -> None:
    config = TrainConfig(arch="lenet5", epochs=2, device="cpu")
    n = 1
    while True:
        run = tmp_path / f"run-{n}"
        with monkeypatch.context() as patch:
            disk = FullDiskAt(n, epoch=2, monkeypatch=patch)
            trainer = launch(config, [disk], run_dir=run, data=small).trainer
            try:
                trainer.fit()
            except TrainingError as exc:
                assert "no space left on the device" in str(exc) and str(run) in str(exc)
            else:
                assert not disk.failed
                break  # past the last write of the run: every file has had its turn
        assert disk.failed
        assert not is_being_written(run)
        assert assert_coherent(run) >= 1  # epoch 1 was complete before the disk filled
        assert read_summary(run).status != "running"
        n += 1
    assert n > 6  # metrics, batches, snapshot, checkpoints, summary: all had a turn

    # once there is room again, the run goes on from its last complete checkpoint
    damaged = tmp_path / "run-3"
    continuation = open_continuation(damaged, RunKind.RESUME)
    launch(TrainConfig(arch="lenet5", epochs=3, device="cpu"), continuation=continuation,
           run_dir=damaged, data=small).trainer.fit()
    assert assert_coherent(damaged) == 3


def test_orphaned_temp_files_are_removed_when_the_folder_is_next_written(tmp_path,
                                                                        small) -> None:
    run = tmp_path / "run"
    config = TrainConfig(arch="lenet5", epochs=1, device="cpu")
    launch(config, run_dir=run, data=small).trainer.fit()
    orphans = [run / ".summary.json.x1.tmp", run / "checkpoints" / ".last.pt.x2.tmp",
               run / "snapshots" / ".epoch-0002.npz.x3.tmp"]
    for orphan in orphans:
        orphan.write_bytes(b"half a file from a killed write")
    launch(TrainConfig(arch="lenet5", epochs=2, device="cpu"),
           continuation=open_continuation(run, RunKind.RESUME), run_dir=run,
           data=small).trainer.fit()
    assert not any(orphan.exists() for orphan in orphans)
    assert assert_coherent(run) == 2


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MiB tmpfs: room for LeNet-5's first epoch, not its second (root only)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("a real small disk needs root to mount a tmpfs")
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip()}")
    yield mount
    subprocess.run(["umount", str(mount)], check=True)


def test_the_cli_on_a_really_full_disk(small_disk) -> None:
    run = small_disk / "run"
    proc = cli("train", "--arch", "lenet5", "--device", "cpu", "--epochs", "4", "--quiet",
               "--out", str(run))
    assert proc.returncode == 1
    assert_one_clean_line(proc.stderr)
    assert "no space left on the device" in proc.stderr and str(run) in proc.stderr
    assert assert_coherent(run) >= 1
    assert read_summary(run).status == "failed"
