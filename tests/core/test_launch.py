"""Starting a run: fresh, resumed, branched or inspected; where it records and what it
refuses (the decisions the command line and the window share)."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from cnn_core.data import BuiltinSource
from cnn_core.data.datasets import DataBundle, Split
from cnn_core.runs.checkpoint import CheckpointError, checkpoint_lr, save_checkpoint
from cnn_core.runs.store import read_config, read_metrics, read_summary
from cnn_core.train.callbacks import Callback, SettingsChange
from cnn_core.train.config import TrainConfig
from cnn_core.runs.lock import RunLock
from cnn_core.train.launch import (FIXED, Continuation, LaunchError, RunBeingWritten, RunKind,
                                   check_resumable, launch, open_continuation, run_name)
from cnn_core.train.live_edits import EDITABLE


def cfg(**kw) -> TrainConfig:
    return TrainConfig(**{"arch": "lenet5", "epochs": 2, "device": "cpu", "seed": 7,
                          "step_size": 1, "gamma": 0.5, **kw})


@pytest.fixture(scope="module")
def data(sample: DataBundle) -> DataBundle:
    return DataBundle(sample.info, Split(sample.train.images[:320], sample.train.labels[:320]),
                      Split(sample.test.images[:100], sample.test.labels[:100]))


class KeepEpoch1(Callback):
    """Saves the epoch-1 state inside the run, as an older checkpoint to continue from."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def on_epoch_end(self, trainer, metrics) -> None:
        if metrics.epoch == 1:
            save_checkpoint(trainer.state_dict(), self.path)


@pytest.fixture(scope="module")
def trained(tmp_path_factory, data: DataBundle) -> Path:
    """A 2-epoch LeNet-5 run, with an extra checkpoint of its epoch 1."""
    run = tmp_path_factory.mktemp("trained") / "run"
    launch(cfg(), [KeepEpoch1(run / "checkpoints" / "epoch1.pt")], run_dir=run,
           data=data).trainer.fit()
    return run


@pytest.fixture
def run(trained: Path, tmp_path: Path) -> Path:
    """A copy of the trained run that a test may continue in place."""
    return Path(shutil.copytree(trained, tmp_path / "runs" / "run"))


def files_under(folder: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_a_fresh_run_records_in_a_new_folder_before_the_others_hear(tmp_path, data) -> None:
    heard = []

    class Listener(Callback):
        def on_train_start(self, trainer) -> None:
            [folder] = (tmp_path / "runs").iterdir()
            heard.append(sorted(p.name for p in folder.iterdir()))

    started = launch(cfg(epochs=1), [Listener()], runs_dir=tmp_path / "runs", data=data)
    assert (started.kind, started.parent, started.note) == (RunKind.FRESH, None, "")
    assert started.run_dir.parent == tmp_path / "runs"
    started.trainer.fit()
    assert {"config.json", "summary.json"} <= set(heard[0])  # written before Listener heard
    assert read_summary(started.run_dir).epochs_done == 1


def test_launch_loads_the_dataset_the_config_names(tmp_path, data, monkeypatch) -> None:
    asked = []
    monkeypatch.setattr(BuiltinSource, "load",
                        lambda source, folder, **_: asked.append((source.name, folder)) or data)
    launch(cfg(data_dir=str(tmp_path)), run_dir=tmp_path / "run")
    assert asked == [("mnist-sample", str(tmp_path))]


def test_a_bad_setting_is_refused_before_anything_is_written(tmp_path, data) -> None:
    with pytest.raises(ValueError, match="^lr: "):
        launch(cfg(lr=0), runs_dir=tmp_path / "runs", data=data)
    assert not (tmp_path / "runs").exists()


def test_resume_goes_on_in_the_runs_own_folder(run: Path, data) -> None:
    cont = open_continuation(run, RunKind.RESUME)  # a run folder: its last checkpoint
    assert cont.path == (run / "checkpoints" / "last.pt").resolve() and cont.epoch == 2
    assert cont.source_run == run.resolve() and cont.name == read_summary(run).name
    started = launch(dataclasses.replace(cont.config(), epochs=3), continuation=cont, data=data)
    assert (started.kind, started.run_dir, started.parent) == (RunKind.RESUME, run.resolve(), None)
    assert started.trainer.epoch == 2 and started.trainer.changes == []
    started.trainer.fit()
    assert [m.epoch for m in read_metrics(run)] == [1, 2, 3]
    assert read_summary(run).epochs_done == 3 and read_summary(run).parent is None


def test_resume_from_before_where_the_run_went_on_branches_instead(run: Path, data) -> None:
    before = files_under(run)
    cont = open_continuation(run / "checkpoints" / "epoch1.pt", RunKind.RESUME)
    started = launch(dataclasses.replace(cont.config(), epochs=3), continuation=cont,
                     runs_dir=run.parent, data=data)
    assert started.kind == RunKind.BRANCH and started.parent == run.resolve()
    assert started.run_dir.parent == run.parent and started.run_dir != run.resolve()
    assert started.note == f"run went on past epoch 1: branching into {started.run_dir}"
    started.trainer.fit()
    assert files_under(run) == before  # the epochs after the checkpoint are kept
    branch = read_summary(started.run_dir)
    assert (branch.parent["run"], branch.parent["epoch"]) == ("run", 1)
    assert [m.epoch for m in read_metrics(started.run_dir)] == [1, 2, 3]


def test_a_branch_records_its_parent_and_its_edits_as_changes(run: Path, data) -> None:
    cont = open_continuation(run, RunKind.BRANCH)  # a run folder: its shown (best) checkpoint
    k, reached = cont.epoch, checkpoint_lr(cont.state)
    offered = cont.config()
    assert (offered.lr, offered.epochs) == (reached, k + 5)
    config = dataclasses.replace(offered, lr=1e-4, batch_size=32, epochs=k + 1)
    with pytest.raises(LaunchError, match="^run_dir: a branch needs a folder of its own"):
        launch(config, continuation=cont, run_dir=run, data=data)
    started = launch(config, continuation=cont, runs_dir=run.parent, data=data)
    assert (started.kind, started.parent) == (RunKind.BRANCH, run.resolve())
    assert started.run_dir.parent == run.parent and started.run_dir != run.resolve()
    # the learning rate it changes from is the one the run had reached; epochs is no edit
    assert started.trainer.changes == [SettingsChange(
        step=started.trainer.global_step, epoch=float(k),
        changes={"lr": (reached, 1e-4), "batch_size": (64, 32)})]
    started.trainer.fit()
    summary = read_summary(started.run_dir)
    assert summary.parent["run"] == "run" and summary.changes == started.trainer.changes
    assert read_config(started.run_dir).batch_size == 32
    assert read_summary(run).epochs_done == 2  # the parent is untouched


def test_inspecting_writes_nothing_and_edits_only_device_and_data(tmp_path, run, data) -> None:
    before = files_under(tmp_path)
    cont = open_continuation(run / "checkpoints" / "last.pt", RunKind.INSPECT)
    assert cont.config().epochs == 2  # unchanged: nothing more is trained
    config = dataclasses.replace(cont.config(), lr=0.5, data_dir=str(tmp_path))
    started = launch(config, continuation=cont, runs_dir=tmp_path / "elsewhere", data=data)
    assert (started.kind, started.run_dir, started.parent) == (RunKind.INSPECT, None, None)
    trainer = started.trainer
    assert trainer.epoch == 2 and trainer.changes == [] and trainer.lr == checkpoint_lr(cont.state)
    assert trainer.config.data_dir == str(tmp_path)
    assert files_under(tmp_path) == before


@pytest.mark.parametrize("kind,edit,message", [
    (RunKind.RESUME, {"arch": "simplecnn"},
     r"^arch: cannot change when resuming \(the checkpoint is lenet5\)$"),
    (RunKind.BRANCH, {"seed": 8}, r"^seed: cannot change when branching \(the checkpoint is 7\)$"),
    (RunKind.RESUME, {"epochs": 2}, r"^epochs: the checkpoint already has 2 epochs; ask for"),
    (RunKind.BRANCH, {"epochs": 1}, r"^epochs: the checkpoint already has 2 epochs; ask for"),
])
def test_a_continuation_that_cannot_go_on_is_refused_and_writes_nothing(
        run: Path, data, kind: RunKind, edit: dict, message: str) -> None:
    before = files_under(run.parent)
    cont = open_continuation(run / "checkpoints" / "last.pt", kind)
    with pytest.raises(LaunchError, match=message) as refused:
        launch(dataclasses.replace(cont.config(), **edit), continuation=cont,
               runs_dir=run.parent, data=data)
    assert refused.value.field == next(iter(edit))
    assert files_under(run.parent) == before


def test_open_continuation_refuses_what_is_not_a_checkpoint(tmp_path) -> None:
    (tmp_path / "folder").mkdir()
    with pytest.raises(CheckpointError, match="not a run folder or a checkpoint"):
        open_continuation(tmp_path / "folder", RunKind.BRANCH)
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        open_continuation(tmp_path / "missing.pt", RunKind.RESUME)


def test_a_checkpoint_outside_a_run_resumes_into_a_new_folder(tmp_path, trained, data) -> None:
    loose = tmp_path / "loose.pt"
    shutil.copy(trained / "checkpoints" / "last.pt", loose)
    cont = open_continuation(loose, RunKind.RESUME)
    assert isinstance(cont, Continuation) and (cont.source_run, cont.name) == (None, "loose.pt")
    assert cont.config().epochs == 3  # one more than it has, at least
    started = launch(cont.config(), continuation=cont, runs_dir=tmp_path / "runs", data=data)
    assert started.run_dir.parent == tmp_path / "runs" and started.parent is None


# -- the rules a continuation answers, asked by the window and the command line alike ---


def test_every_setting_is_kept_or_editable_on_a_continuation(run: Path) -> None:
    every = {f.name for f in dataclasses.fields(TrainConfig)}
    recorded_at_load = {"data_dir", "class_names"}  # this machine's, or found in the data
    # whatever is asked, the run goes on with its own (a sweep's trial stays that trial)
    the_runs_own = {"split", "sweep"}
    for kind in (RunKind.RESUME, RunKind.BRANCH):
        editable = open_continuation(run, kind).editable
        assert set(editable) == {*EDITABLE, "device", "augment"}
        assert set(editable) | set(FIXED) | recorded_at_load | the_runs_own == every
        assert not set(editable) & set(FIXED)
    assert open_continuation(run, RunKind.INSPECT).editable == ("device",)


def test_check_refuses_before_anything_is_loaded_or_written(run: Path) -> None:
    cont = open_continuation(run, RunKind.RESUME)
    before = files_under(run.parent)
    cont.check(dataclasses.replace(cont.config(), lr=0.5, device="cpu", augment="flip"))
    with pytest.raises(LaunchError, match="^epochs: the checkpoint already has 2 epochs"):
        cont.check(dataclasses.replace(cont.config(), epochs=2))
    with pytest.raises(LaunchError, match=r"^network: .*\(the checkpoint is another network\)"):
        cont.check(dataclasses.replace(cont.config(), network={"layers": []}))
    inspected = open_continuation(run, RunKind.INSPECT)
    inspected.check(dataclasses.replace(inspected.config(), epochs=1))  # nothing is trained
    assert files_under(run.parent) == before


def test_a_resume_without_epochs_goes_on_to_its_runs_own_total(run: Path) -> None:
    older = open_continuation(run / "checkpoints" / "epoch1.pt", RunKind.RESUME)
    assert (older.epoch, older.planned_epochs) == (1, 2)
    assert older.next_config({}).epochs == 2  # the run's total, not one more than offered
    assert older.next_config({"epochs": 4, "lr": 0.01}).epochs == 4
    assert older.next_config({"lr": 0.01}).lr == 0.01
    finished = open_continuation(run, RunKind.RESUME)
    assert finished.config().epochs == 3  # offered (the window): room for one more
    with pytest.raises(LaunchError, match="^epochs: "):  # asked for nothing more
        finished.check(finished.next_config({}))
    branch = open_continuation(run, RunKind.BRANCH)
    assert branch.next_config({}).epochs == branch.epoch + 5


def test_inspection_shows_the_checkpoint_on_the_cpu_with_this_machines_data(
        tmp_path, run: Path, data) -> None:
    cont = open_continuation(run, RunKind.INSPECT)
    config = cont.inspection(tmp_path / "datasets")
    assert (config.device, config.data_dir) == ("cpu", str(tmp_path / "datasets"))
    assert dataclasses.replace(config, device=cont.config().device,
                               data_dir=cont.config().data_dir) == cont.config()
    started = launch(config, continuation=cont, data=data)
    assert (started.kind, started.run_dir, started.trainer.device.type) == (RunKind.INSPECT,
                                                                             None, "cpu")


def test_run_name_is_the_summarys_else_the_folders(run: Path, tmp_path) -> None:
    assert run_name(run, "x") == read_summary(run).name
    (tmp_path / "bare").mkdir()
    assert run_name(tmp_path / "bare", "x") == "bare"  # no summary to read
    assert run_name(None, "loose.pt") == "loose.pt"


WRITTEN = ("Cannot resume “{}”: another process is writing it. Wait for it to finish, or "
           "branch from it instead.")


def test_a_run_another_process_writes_cannot_be_resumed_into(run: Path, tmp_path, data) -> None:
    name = read_summary(run).name
    last = run / "checkpoints" / "last.pt"
    check_resumable(last)  # nobody writes it
    with RunLock.acquire(run):
        for asked in (last, run):  # the checkpoint, or the run folder for it
            with pytest.raises(RunBeingWritten) as refused:
                check_resumable(asked)
            assert refused.value.sentence == WRITTEN.format(name)
            assert (refused.value.field, refused.value.run) == ("resume", run)
        check_resumable(last, run_dir=tmp_path / "elsewhere")  # the run is left alone
        # the lock taken between the check and the launch: the same refusal, nothing written
        cont = open_continuation(last, RunKind.RESUME)
        before = files_under(run)
        with pytest.raises(RunBeingWritten, match="another process is writing it"):
            launch(dataclasses.replace(cont.config(), epochs=3), continuation=cont, data=data)
        assert files_under(run) == before


def test_the_command_line_refuses_the_same_resume_before_reading_the_checkpoint(
        run: Path, capsys, monkeypatch) -> None:
    from cnn_core import cli

    read = []
    monkeypatch.setattr(cli, "open_continuation", lambda *a: read.append(a))
    before = files_under(run)
    with RunLock.acquire(run):
        code = cli.main(["train", "--resume", str(run / "checkpoints" / "last.pt"),
                         "--epochs", "3", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and read == [] and files_under(run) == before
    assert err.count("\n") == 1 and "--resume: cannot resume “" in err
    assert "another process is writing it. Wait for it to finish" in err
