"""Sweeps across processes: a worker killed mid-trial and the command started again end
with the trials asked for and none left running; two workers on one storage never run the
same trial or write the same run folder. The trials train a few epochs on a small folder
of generated pictures, so each command takes seconds; the tests wait on the command's own
lines, never on the clock."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import optuna
import pytest
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState

from cnn_core.paths import default_runs_dir
from cnn_core.runs.store import read_summary
from cnn_core.sweep import storage_url
from tests.pictures import make_folder
from tests.reliability.helpers import assert_coherent, cli, popen_cli


@pytest.fixture(scope="module")
def shapes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_folder(tmp_path_factory.mktemp("shapes"), per_class=60, sizes=(28,))


def base(shapes: Path, epochs: int) -> list[str]:
    return ["--dataset", str(shapes), "--image-size", "28", "--arch", "lenet5",
            "--device", "cpu", "--epochs", str(epochs)]


def test_a_worker_killed_mid_trial_and_started_again_finishes_the_sweep(shapes: Path) -> None:
    command = ["sweep", "killed", "--trials", "2", *base(shapes, epochs=3)]
    worker = subprocess.Popen([sys.executable, "-m", "cnn_core", *command], text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for line in worker.stdout:  # the first epoch's results are saved: kill it now
            if line.startswith("  trial 0 epoch 1/3"):
                worker.send_signal(signal.SIGKILL)
                break
        assert worker.wait(timeout=60) == -signal.SIGKILL, worker.stderr.read()
    finally:
        worker.kill()
    study = optuna.load_study(study_name="killed", storage=storage_url("killed"))
    [killed] = study.trials
    assert killed.state == TrialState.RUNNING  # as the kill left it
    run = Path(killed.user_attrs["run_dir"])
    assert read_summary(run).status == "running" and assert_coherent(run) < 3

    again = cli(*command, timeout=300)
    assert again.returncode == 0, again.stderr
    assert "trial 0: its worker" in again.stdout and "marked failed" in again.stdout
    trials = optuna.load_study(study_name="killed", storage=storage_url("killed")).trials
    states = [t.state for t in trials]
    assert states[0] == TrialState.FAIL and TrialState.RUNNING not in states
    assert states.count(TrialState.COMPLETE) + states.count(TrialState.PRUNED) == 2
    assert read_summary(run).status == "running"  # its run keeps what it saved: interrupted


def test_ctrl_c_stops_the_running_trial_cleanly(shapes: Path) -> None:
    worker = popen_cli("sweep", "halted", "--trials", "3", *base(shapes, epochs=3))
    try:
        for line in worker.stdout:
            if line.startswith("  trial 0 epoch 1/3"):
                worker.send_signal(signal.SIGINT)
                break
        out, err = worker.communicate(timeout=120)
    finally:
        worker.kill()
    assert worker.returncode == 130 and "Traceback" not in err, err
    assert "trial 0 stopped" in out and "trial 1" not in out
    [trial] = optuna.load_study(study_name="halted", storage=storage_url("halted")).trials
    assert trial.state == TrialState.FAIL  # a restart runs another in its place
    run = Path(trial.user_attrs["run_dir"])
    assert read_summary(run).status == "stopped" and assert_coherent(run) >= 1


def test_two_workers_on_one_storage_never_share_a_trial_or_a_run_folder(
        shapes: Path, tmp_path: Path) -> None:
    """``--jobs 2``: the command starts a second worker process, which joins the study
    from its record alone. The first is frozen (SIGSTOP) in its trial 0, so the other
    must run the rest while trial 0 stays claimed, whatever the machine's speed."""
    journal = tmp_path / "shared" / "study.log"
    first = subprocess.Popen(
        [sys.executable, "-m", "cnn_core", "sweep", "pair", "--trials", "3", "--jobs", "2",
         "--storage", f"journal:{journal}", "--pruner", "none", *base(shapes, epochs=2)],
        text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        lines = iter(first.stdout)
        assert any(line.startswith("trial 0 started") for line in lines)
        first.send_signal(signal.SIGSTOP)  # between its writes to the study: in training
        assert any(line.startswith("[worker 1] trial 2 complete") for line in lines)
        first.send_signal(signal.SIGCONT)
        out = "".join(lines)
        assert first.wait(timeout=120) == 0, first.stderr.read()
    finally:
        first.kill()
    assert "\ntrial 0 complete" in out and "the study has 3 finished trial(s) of 3" in out
    study = optuna.load_study(study_name="pair",
                              storage=JournalStorage(JournalFileBackend(str(journal))))
    trials = study.trials
    assert [(t.number, t.state) for t in trials] == [(n, TrialState.COMPLETE) for n in range(3)]
    workers = [t.user_attrs["pid"] for t in trials]
    assert workers[0] == first.pid and workers[1] == workers[2] != first.pid
    folder = default_runs_dir() / "pair"
    runs = sorted(p for p in folder.iterdir() if p.is_dir())
    assert [Path(t.user_attrs["run_dir"]) for t in trials] == [r.resolve() for r in runs]
    for trial, run in zip(trials, runs):
        summary = read_summary(run)
        assert summary.status == "completed" and summary.epochs_done == 2
        assert summary.sweep == {"name": "pair", "trial": trial.number}
    recorded = json.loads((folder / "sweep.json").read_text())
    assert recorded == {"name": "pair", "storage": f"journal:{journal.resolve()}"}
    show = cli("sweep", "show", "pair")  # found through sweep.json, without --storage
    assert show.returncode == 0 and "3 of 3 trials finished" in show.stdout, show.stderr
