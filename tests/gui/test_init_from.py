"""Fine-tuning in the window: the Model group's "Start from" lists your runs, Start trains
from the one chosen, and the Runs panel says where a run started."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PySide6.QtWidgets import QComboBox, QTreeWidget

from cnn_core.data.datasets import DataBundle
from cnn_core.runs.checkpoint import load_checkpoint
from cnn_core.runs.store import read_config, read_summary
from cnn_core.train.config import TrainConfig
from cnn_core.train.launch import RunKind, launch
from gui.panels.runs.runs_rows import NAME

from .conftest import find


@pytest.fixture
def source(tmp_path: Path, small: DataBundle) -> Path:
    """A runs folder holding one LeNet-5 run on the digits, to start from."""
    run = tmp_path / "runs" / "digits"
    launch(TrainConfig(arch="lenet5", epochs=1, device="cpu"), run_dir=run,
           data=small).trainer.fit()
    return run


def test_freeze_is_greyed_while_the_network_starts_from_scratch(window, source: Path) -> None:
    window.runs.set_folder(source.parent)
    starts = find(window, QComboBox, "initFromCombo")
    freeze = find(window, QComboBox, "freezeCombo")
    assert [starts.itemText(i) for i in range(starts.count())] == [
        "From scratch", read_summary(source).name]
    assert starts.currentIndex() == 0 and not freeze.isEnabled()
    starts.setCurrentIndex(1)
    assert freeze.isEnabled()
    freeze.setCurrentIndex(freeze.findData("features"))
    assert window.config_panel.config().freeze == "features"
    starts.setCurrentIndex(0)
    assert not freeze.isEnabled()
    config = window.config_panel.config()  # a greyed choice is no setting
    assert (config.init_from, config.freeze) == (None, "none")


def test_start_trains_from_the_run_chosen_and_records_it(qtbot, window, source: Path) -> None:
    window.runs.set_folder(source.parent)
    window.config_panel.set_config(TrainConfig(arch="lenet5", epochs=1, batch_size=256,
                                               device="cpu"))
    starts = find(window, QComboBox, "initFromCombo")
    starts.setCurrentIndex(starts.findText(read_summary(source).name))
    freeze = find(window, QComboBox, "freezeCombo")
    freeze.setCurrentIndex(freeze.findData("features"))
    with qtbot.waitSignal(window.session.runFinished, timeout=120_000):
        window.start_training()

    (tuned,) = [p for p in source.parent.iterdir() if p != source]
    best = (source / "checkpoints" / "best.pt").resolve()
    record = read_summary(tuned).init_from
    assert record["path"] == str(best) and record["fresh"] == []
    assert record["copied"] == ["conv1", "conv2", "fc1", "fc2", "fc3"]
    assert read_config(tuned).init_from == record and read_config(tuned).freeze == "features"
    given, after = load_checkpoint(best)["model"], load_checkpoint(
        tuned / "checkpoints" / "last.pt")["model"]
    for key in ("features.conv1.weight", "features.conv2.bias"):  # frozen
        assert torch.equal(after[key], given[key]), key
    assert not torch.equal(after["classifier.fc3.weight"], given["classifier.fc3.weight"])

    tree = find(window, QTreeWidget, "runsList")
    qtbot.waitUntil(lambda: tree.topLevelItemCount() == 2)
    row = next(tree.topLevelItem(i) for i in range(2)
               if tree.topLevelItem(i).text(NAME).startswith("↳ "))
    assert f"fine-tuned from {read_summary(source).name}" in row.toolTip(NAME)


def test_a_fine_tuned_run_resumes_with_its_start_and_its_frozen_layers(
        qtbot, window, source: Path, small: DataBundle) -> None:
    tuned = source.parent / "tuned"
    launch(TrainConfig(arch="lenet5", epochs=1, device="cpu", init_from=str(source),
                       freeze="all-but-head", backbone_lr_scale=0.5), run_dir=tuned,
           data=small).trainer.fit()
    window.runs.set_folder(source.parent)
    with qtbot.waitSignal(window.session.continuationChanged, timeout=30_000):
        window.session.prepare_continuation(RunKind.RESUME, tuned)
    starts = find(window, QComboBox, "initFromCombo")
    freeze = find(window, QComboBox, "freezeCombo")
    assert starts.currentText() == f"{read_summary(source).name} (as recorded)"
    assert freeze.currentData() == "all-but-head"
    assert not starts.isEnabled() and not freeze.isEnabled()  # what makes the run that run
    window.session.continuation.check(window.config_panel.config())  # as the run has them
    with qtbot.waitSignal(window.session.runFinished, timeout=120_000):
        window.start_training()
    assert read_summary(tuned).epochs_done == 2
    given = load_checkpoint(source / "checkpoints" / "best.pt")["model"]
    after = load_checkpoint(tuned / "checkpoints" / "last.pt")["model"]
    for key in ("features.conv1.weight", "classifier.fc2.weight"):  # frozen
        assert torch.equal(after[key], given[key]), key
    assert read_config(tuned).backbone_lr_scale == 0.5
