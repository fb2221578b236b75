"""One writer per run folder: no run overwrites another, and two never write one folder."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from cnn_core.runs.lock import RunBusyError, RunLock, is_being_written
from cnn_core.runs.store import delete_run, read_summary, rename_run
from cnn_core.train.config import TrainConfig
from cnn_core.train.launch import LaunchError, RunKind, launch, open_continuation
from tests.reliability.helpers import (assert_coherent, assert_one_clean_line, cli,
                                       metric_epochs, popen_cli)

QUICK = ("--arch", "lenet5", "--device", "cpu", "--batch-size", "128", "--quiet")


def config(**kw) -> TrainConfig:
    return TrainConfig(**{"arch": "lenet5", "epochs": 1, "device": "cpu", **kw})


def files(run) -> dict[str, bytes]:
    return {str(p.relative_to(run)): p.read_bytes() for p in sorted(run.rglob("*"))
            if p.is_file()}


def test_a_new_run_never_writes_into_a_folder_that_holds_a_run(tmp_path, small) -> None:
    run = tmp_path / "run"
    launch(config(), run_dir=run, data=small).trainer.fit()
    before = files(run)
    with pytest.raises(LaunchError, match="already holds a run"):
        launch(config(seed=7), run_dir=run, data=small)
    other = tmp_path / "other"
    launch(config(seed=3), run_dir=other, data=small).trainer.fit()
    with pytest.raises(LaunchError, match="already holds a run"):  # a branch neither
        launch(config(seed=3, epochs=3), continuation=open_continuation(other, RunKind.BRANCH),
               run_dir=run, data=small)
    assert files(run) == before


def test_a_resume_may_not_write_into_another_runs_folder(tmp_path, small) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    launch(config(), run_dir=first, data=small).trainer.fit()
    launch(config(seed=1), run_dir=second, data=small).trainer.fit()
    before = files(second)
    with pytest.raises(LaunchError, match="already holds a run"):
        launch(config(epochs=2), continuation=open_continuation(first, RunKind.RESUME),
               run_dir=second, data=small)
    assert files(second) == before
    # into its own folder it goes on
    launch(config(epochs=2), continuation=open_continuation(first, RunKind.RESUME),
           run_dir=first, data=small).trainer.fit()
    assert metric_epochs(first) == [1, 2]


def test_cli_refuses_out_that_holds_a_run_before_loading_anything(tmp_path) -> None:
    run = tmp_path / "run"
    assert cli("train", *QUICK, "--epochs", "1", "--out", str(run)).returncode == 0
    before = files(run)
    # mnist is not downloaded here: the refusal must come before any data is looked for
    proc = cli("train", *QUICK, "--dataset", "mnist", "--epochs", "1", "--out", str(run))
    assert proc.returncode == 2
    assert_one_clean_line(proc.stderr)
    assert "--out" in proc.stderr and str(run) in proc.stderr and "holds a run" in proc.stderr
    assert files(run) == before


def test_cli_refuses_a_folder_another_process_is_writing(tmp_path) -> None:
    run = tmp_path / "run"
    with RunLock.acquire(run):
        started = time.monotonic()
        proc = cli("train", *QUICK, "--epochs", "1", "--out", str(run))
        elapsed = time.monotonic() - started
    assert proc.returncode == 1
    assert_one_clean_line(proc.stderr)
    assert str(run) in proc.stderr and "another process is writing" in proc.stderr
    assert elapsed < 30
    assert not (run / "summary.json").exists()


def test_two_trainings_on_one_out_exactly_one_runs(tmp_path) -> None:
    run = tmp_path / "run"
    first = popen_cli("train", *QUICK, "--epochs", "4", "--out", str(run))
    try:
        deadline = time.monotonic() + 120
        while not is_being_written(run):
            assert first.poll() is None, first.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.02)
        started = time.monotonic()
        second = cli("train", *QUICK, "--epochs", "2", "--seed", "9", "--out", str(run))
        elapsed = time.monotonic() - started
        out, err = first.communicate(timeout=300)
    finally:
        first.kill()
    assert first.returncode == 0, err
    assert second.returncode != 0 and str(run) in second.stderr
    assert_one_clean_line(second.stderr)
    assert elapsed < 30
    summary = read_summary(run)
    assert assert_coherent(run) == 4 and metric_epochs(run) == [1, 2, 3, 4]
    assert summary.status == "completed" and summary.epochs == 4
    assert sorted(p.name for p in (run / "snapshots").iterdir()) == [
        f"epoch-{k:04d}.npz" for k in range(5)]


def test_a_killed_writer_leaves_the_folder_free(tmp_path) -> None:
    run = tmp_path / "run"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom cnn_core.runs.lock import RunLock\n"
         "lock = RunLock.acquire(sys.argv[1]); print('held', flush=True); time.sleep(600)",
         str(run)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        assert is_being_written(run)
        with pytest.raises(RunBusyError, match="another process"):
            RunLock.acquire(run)
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
    finally:
        holder.kill()
    assert not is_being_written(run)
    with RunLock.acquire(run) as lock:
        assert lock.held


def test_a_run_being_written_is_neither_renamed_nor_deleted(tmp_path, small) -> None:
    run = tmp_path / "run"
    launch(config(), run_dir=run, data=small).trainer.fit()
    with RunLock.acquire(run):  # as a training in another process holds it
        with pytest.raises(RunBusyError, match="another process is writing"):
            delete_run(run)
        with pytest.raises(RunBusyError, match="another process is writing"):
            rename_run(run, "mine now")
    assert read_summary(run).name != "mine now"
    rename_run(run, "mine now")
    delete_run(run)
    assert not run.exists()
