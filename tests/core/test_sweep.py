"""Sweeps: the space file, a sweep's trials as ordinary runs, Optuna reading the study,
pruning, stopping and the command line's refusals. Runs train on a few hundred bundled
digits for an epoch or two (the ``small`` fixture), so the whole file takes seconds."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from pathlib import Path

import optuna
import pytest

from cnn_core import cli
from cnn_core.callbacks import Callback
from cnn_core.config import TrainConfig
from cnn_core.data.datasets import DataBundle, Split
from cnn_core.nn.models import network_spec
from cnn_core.nn.spec import spec_text
from cnn_core.paths import default_runs_dir
from cnn_core.runs.store import list_runs, read_config, read_summary
from cnn_core.sweep import (SweepError, SweepRequest, SweepRunner, TrialFinished,
                            list_sweeps, load_space, prepare_sweep, read_sweep, storage_url)
from cnn_core.train.callbacks import RunStatus
from cnn_core.train.launch import RunKind, launch, open_continuation

ISSUE_SPACE = {"lr": {"log": [1e-4, 1e-1]},
               "batch_size": {"choice": [32, 64, 128]},
               "optimizer": {"choice": ["adam", "sgd"]},
               "weight_decay": {"log": [1e-6, 1e-2]},
               "arch": {"choice": ["simplecnn", "lenet5", "my_net.json"]},
               "epochs": 5}


@pytest.fixture
def tiny(sample: DataBundle) -> DataBundle:
    """A few hundred digits of every class (the sample is sorted by class): a trial's
    epoch in a fraction of a second."""
    return DataBundle(sample.info, Split(sample.train.images[::12], sample.train.labels[::12]),
                      Split(sample.test.images[::10], sample.test.labels[::10]))


def sweep(name: str, tiny: DataBundle, *, trials: int, space: dict, pruner: str = "median",
          given: dict | None = None, **runner: object) -> tuple[SweepRunner, str]:
    url = storage_url(name)
    settings = prepare_sweep(SweepRequest(name, trials, space, {"device": "cpu", "arch": "lenet5",
                                                              **(given or {})},
                                          pruner=pruner), url)
    return SweepRunner(settings, url, data=tiny, **runner), url


def test_the_space_file_of_the_issue_reads_with_its_network_file(tmp_path: Path) -> None:
    (tmp_path / "my_net.json").write_text(spec_text(dataclasses.replace(
        network_spec("lenet5"), name="my_net")))
    (tmp_path / "space.json").write_text(json.dumps(ISSUE_SPACE))
    space = load_space(tmp_path / "space.json", TrainConfig(device="cpu"))
    assert [p.key for p in space.varied] == ["lr", "batch_size", "optimizer", "weight_decay",
                                             "arch"]
    assert [p.key for p in space.varied if p.log] == ["lr", "weight_decay"]
    settings = space.settings({"arch": "my_net.json", "lr": 0.01})
    assert settings["arch"] == "my_net" and settings["network"]["name"] == "my_net"
    assert settings["epochs"] == 5 and settings["lr"] == 0.01
    assert space.settings({"arch": "lenet5"})["network"] is None
    trial = optuna.create_study().ask()
    drawn = space.suggest(trial)
    assert 1e-4 <= drawn["lr"] <= 1e-1 and drawn["batch_size"] in (32, 64, 128)
    assert set(trial.params) == {"lr", "batch_size", "optimizer", "weight_decay", "arch"}


@pytest.mark.parametrize("space, key", [
    ({"lr": {"log": [1e-4, 1e-1]}, "learning_rate": {"log": [1e-4, 1e-1]}}, "learning_rate"),
    ({"lr": {"log": [1e-1, 1e-4]}}, "lr"),
    ({"weight_decay": {"uniform": [0.5, 0.5]}}, "weight_decay"),
    ({"lr": {"log": [0, 1e-1]}}, "lr"),
    ({"lr": {"log": [1e-3, 50]}}, "lr"),
    ({"batch_size": {"choice": [32, 0]}}, "batch_size"),
    ({"optimizer": {"choice": ["adam", "rmsprop"]}}, "optimizer"),
    ({"epochs": {"uniform": [1, 3]}}, "epochs"),
    ({"arch": {"choice": ["lenet5", "missing.json"]}}, "arch"),
    ({"dataset": "cifar10"}, "dataset"),
    ({"momentum": {"between": [0, 1]}}, "momentum"),
])
def test_a_bad_space_is_refused_in_one_line_before_anything_trains(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], space: dict, key: str) -> None:
    (tmp_path / "space.json").write_text(json.dumps(space))
    code = cli.main(["sweep", "bad", "--trials", "2", "--space", str(tmp_path / "space.json"),
                     "--device", "cpu"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and f"error: {key}:" in err, err
    assert not default_runs_dir().exists()  # no study, no folder, no run


@pytest.mark.parametrize("args, needle", [
    (["sweep", "x"], "--trials: a new sweep (x) needs"),
    (["sweep", "x", "--trials", "2", "--jobs", "0"], "--jobs:"),
    (["sweep", "x", "--trials", "2", "--timeout", "-1"], "--timeout:"),
    (["sweep", "x", "--trials", "2", "--storage", "nowhere"], "--storage:"),
    (["sweep", "a/b", "--trials", "2"], "sweep name 'a/b'"),
    (["sweep", "x", "--trials", "2", "--lr", "20"], "lr:"),
    (["sweep", "show"], "sweep show: give"),
    (["sweep", "show", "x"], "there is no sweep x"),
])
def test_a_bad_sweep_command_is_one_line_and_makes_nothing(
        capsys: pytest.CaptureFixture[str], args: list[str], needle: str) -> None:
    assert cli.main(args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and needle in err, err
    assert not default_runs_dir().exists()


def test_a_four_trial_sweep_is_four_runs_that_open_resume_and_optuna_reads(
        tiny: DataBundle, capsys: pytest.CaptureFixture[str]) -> None:
    events: list[object] = []
    runner, url = sweep("four", tiny, trials=4, space={"lr": {"log": [1e-3, 1e-2]},
                                                       "batch_size": {"choice": [32, 64]},
                                                       "epochs": 1},
                        on_event=events.append)
    outcome = runner.run()
    assert outcome.finished == 4 and not outcome.stopped
    folder = default_runs_dir() / "four"
    runs = sorted(p for p in folder.iterdir() if p.is_dir())
    assert [p.name[:10] for p in runs] == [f"trial-{n:04d}" for n in range(4)]

    study = optuna.load_study(study_name="four", storage=url)
    assert len(study.trials) == 4
    for trial, run in zip(study.trials, runs):
        summary, config = read_summary(run), read_config(run)
        assert summary.status == RunStatus.COMPLETED
        assert summary.sweep == config.sweep == {"name": "four", "trial": trial.number}
        assert (config.lr, config.batch_size) == (trial.params["lr"], trial.params["batch_size"])
        assert trial.value == summary.best_test_acc
        assert Path(trial.user_attrs["run_dir"]) == run.resolve()
        # resumable, as any run: one more epoch in its own folder
        cont = open_continuation(run, RunKind.RESUME)
        resumed = launch(cont.next_config({"epochs": 2}), continuation=cont, data=tiny)
        assert resumed.run_dir == run and resumed.trainer.fit().epochs_done == 2
        assert read_summary(run).epochs_done == 2
    finished = [e for e in events if isinstance(e, TrialFinished)]
    assert [(e.number, e.state) for e in finished] == [(n, "complete") for n in range(4)]
    assert {r.path for r in list_runs(default_runs_dir())} == set(runs)  # in the Runs panel

    assert list_sweeps() == [folder]
    report = read_sweep("four")
    assert report.log_params == ("lr",)
    for row in report.trials:
        trial = study.trials[row.number]
        assert row.values == trial.intermediate_values and row.epochs == 1
        assert row.run_dir == Path(trial.user_attrs["run_dir"]) and row.seconds > 0
    values = [t.value for t in report.trials]
    assert values == sorted(values, reverse=True) and report.best.value == study.best_value
    assert cli.main(["sweep", "show", "four"]) == 0
    out = capsys.readouterr().out
    lines = [line.split() for line in out.splitlines()]
    shown = [int(cells[0]) for cells in lines if cells and cells[0].isdigit()]
    assert shown == [t.number for t in report.trials]
    assert "parameter importances (fANOVA over 4 complete trials)" in out
    assert set(report.importances) == {"lr", "batch_size"}


def test_pruning_stops_a_hopeless_trial_and_its_run_says_pruned(tiny: DataBundle) -> None:
    runner, url = sweep("prune", tiny, trials=4, space={"lr": {"log": [1e-7, 1e-2]},
                                                        "epochs": 2})
    study = optuna.load_study(study_name="prune", storage=url)
    for lr in (3e-3, 4e-3, 5e-3, 1e-7):  # three good trials, then a hopeless one
        study.enqueue_trial({"lr": lr})
    runner.run()
    trials = optuna.load_study(study_name="prune", storage=url).trials
    assert [t.state for t in trials] == [optuna.trial.TrialState.COMPLETE] * 3 + [
        optuna.trial.TrialState.PRUNED]
    hopeless = read_summary(trials[3].user_attrs["run_dir"])
    assert hopeless.status == RunStatus.PRUNED and hopeless.epochs_done == 1
    assert read_sweep("prune").trials[-1].state == "pruned"


def test_a_trial_that_stops_early_is_complete_with_its_best_epoch(tiny: DataBundle) -> None:
    runner, url = sweep("early", tiny, trials=2, pruner="none", space={
        "lr": {"log": [1e-10, 1e-9]}, "epochs": 6},
        given={"early_stop": 1, "schedule": "constant"})
    outcome = runner.run()
    assert outcome.finished == 2 and not outcome.stopped
    for trial in optuna.load_study(study_name="early", storage=url).trials:
        assert trial.state == optuna.trial.TrialState.COMPLETE
        summary = read_summary(trial.user_attrs["run_dir"])
        assert summary.status == RunStatus.STOPPED_EARLY and summary.epochs_done == 2


def test_stop_records_the_running_trial_as_stopped_and_the_study_trial_failed(
        tiny: DataBundle) -> None:
    class StopAfterAnEpoch(Callback):
        def on_epoch_end(self, trainer, metrics) -> None:  # noqa: ANN001
            runner.stop()

    runner, url = sweep("stop", tiny, trials=3, space={"lr": {"log": [1e-3, 1e-2]},
                                                       "epochs": 2},
                        callbacks=lambda started: [StopAfterAnEpoch()])
    outcome = runner.run()
    assert outcome.stopped and outcome.finished == 0
    [trial] = optuna.load_study(study_name="stop", storage=url).trials
    assert trial.state == optuna.trial.TrialState.FAIL
    assert read_summary(trial.user_attrs["run_dir"]).status == RunStatus.STOPPED


def test_trials_stopped_by_something_else_are_failures_and_the_worker_gives_up(
        tiny: DataBundle) -> None:
    """A run that ends short of its epochs, not by the sweep's Stop, does not send the
    worker round and round: after three in a row it gives up, saying why."""
    class StopTheRun(Callback):
        def on_epoch_end(self, trainer, metrics) -> None:  # noqa: ANN001
            trainer.request_stop()

    runner, url = sweep("elsewhere", tiny, trials=5, space={"lr": {"log": [1e-3, 1e-2]},
                                                            "epochs": 2},
                        callbacks=lambda started: [StopTheRun()])
    outcome = runner.run()
    assert outcome.ran == [0, 1, 2] and outcome.finished == 0
    assert outcome.reason.startswith("3 trials failed in a row")


def test_a_resumed_trial_stays_that_trial_and_a_branch_is_a_run_of_its_own(
        tiny: DataBundle) -> None:
    runner, url = sweep("kin", tiny, trials=1, pruner="none",
                        space={"lr": {"log": [1e-3, 1e-2]}, "epochs": 1})
    runner.run()
    [trial] = read_sweep("kin").trials
    assert open_continuation(trial.run_dir, RunKind.RESUME).config().sweep == {
        "name": "kin", "trial": 0}
    assert open_continuation(trial.run_dir, RunKind.BRANCH).config().sweep is None


def test_a_restart_takes_the_studys_settings_and_refuses_other_ones(tiny: DataBundle) -> None:
    space = {"lr": {"log": [1e-3, 1e-2]}, "epochs": 1}
    url = storage_url("same")
    first = prepare_sweep(SweepRequest("same", 2, space, {"device": "cpu", "seed": 3}), url)
    again = prepare_sweep(SweepRequest("same"), url)  # nothing given: the study's settings
    assert again.record() == first.record()
    assert prepare_sweep(SweepRequest("same", trials=5), url).trials == 5
    for request, flag in ((SweepRequest("same", given={"seed": 4}), "--seed"),
                          (SweepRequest("same", space={"lr": {"log": [1e-4, 1e-2]}}), "--space"),
                          (SweepRequest("same", objective="test_loss"), "--objective")):
        with pytest.raises(SweepError, match=f"^{flag}: "):
            prepare_sweep(request, url)
    with pytest.raises(SweepError, match="no sweep"):
        read_sweep("other")


def test_a_trial_whose_worker_on_another_machine_died_is_failed_by_its_heartbeat(
        tiny: DataBundle) -> None:
    runner, url = sweep("beat", tiny, trials=1, space={"lr": {"log": [1e-3, 1e-2]},
                                                       "epochs": 1},
                        on_event=(notes := []).append)
    study = optuna.load_study(study_name="beat", storage=url)
    lost = study.ask()  # a worker elsewhere took it, beat a while ago, and died
    lost.set_user_attr("host", "another-machine")
    lost.set_user_attr("pid", 1)
    with sqlite3.connect(url[len("sqlite:///"):]) as db:  # its last heartbeat: long ago
        db.execute("INSERT INTO trial_heartbeats (trial_id, heartbeat) SELECT trial_id, "
                   "'2000-01-01 00:00:00' FROM trials WHERE number = 0")
    outcome = runner.run()
    assert outcome.finished == 1 and outcome.ran == [1]
    states = [t.state for t in optuna.load_study(study_name="beat", storage=url).trials]
    assert states == [optuna.trial.TrialState.FAIL, optuna.trial.TrialState.COMPLETE]
    assert any("trial 0 had no heartbeat" in getattr(n, "text", "") for n in notes)
