"""Compare settings of runs that trained networks of their own: the network by name, and a
row for each layer that differs."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtWidgets import QTableWidget

from cnn_core.data.datasets import DataBundle, Split
from cnn_core.runs.recorder import RunRecorder
from cnn_core.runs.store import read_summary
from cnn_core.train.config import TrainConfig
from cnn_core.train.trainer import Trainer
from gui.widgets.config_diff import DIFFERENT_BACKGROUND, ConfigDiffDialog
from tests.core.test_spec import EXAMPLE as TINY


def record(run_dir: Path, data: DataBundle, network: dict | None, arch: str) -> None:
    Trainer(TrainConfig(arch=arch, network=network, epochs=1, batch_size=64, device="cpu"),
            [RunRecorder(run_dir, name=run_dir.name)], data=data).fit()


def test_the_settings_diff_names_the_layers_that_differ(qtbot, tmp_path: Path,
                                                        small: DataBundle) -> None:
    data = DataBundle(small.info, Split(small.train.images[:128], small.train.labels[:128]),
                      small.test)
    wider = json.loads(json.dumps(TINY))
    wider["layers"][3]["out_channels"] = 32
    wider["layers"].insert(9, {"type": "relu"})
    record(tmp_path / "a", data, TINY, "tiny")
    record(tmp_path / "b", data, wider, "tiny")
    record(tmp_path / "c", data, None, "lenet5")
    dialog = ConfigDiffDialog(read_summary(tmp_path / "a"), read_summary(tmp_path / "b"))
    qtbot.addWidget(dialog)
    table = dialog.findChild(QTableWidget, "configDiffTable")
    rows = {table.verticalHeaderItem(r).toolTip(): (table.item(r, 0).text(),
                                                    table.item(r, 1).text())
            for r in range(table.rowCount())}
    assert rows["network"] == ("own network “tiny”, 12 layers", "own network “tiny”, 13 layers")
    assert rows["layer 4"] == ("conv2d  out_channels=16, kernel_size=3, stride=1, padding=0",
                               "conv2d  out_channels=32, kernel_size=3, stride=1, padding=0")
    assert rows["layer 10"] == ("linear  out_features=64", "relu")
    assert rows["layer 13"] == ("—", "linear")
    assert {k for k in rows if k.startswith("layer")} == {"layer 4", "layer 10", "layer 11",
                                                          "layer 12", "layer 13"}
    assert "network" in dialog.differences() and "layer 4" in dialog.differences()
    assert all(table.item(r, 0).background().color() == DIFFERENT_BACKGROUND
               for r in range(table.rowCount())
               if table.verticalHeaderItem(r).toolTip().startswith("layer"))
    builtin = ConfigDiffDialog(read_summary(tmp_path / "c"), read_summary(tmp_path / "a"))
    qtbot.addWidget(builtin)
    table = builtin.findChild(QTableWidget, "configDiffTable")
    network_row = next(r for r in range(table.rowCount())
                       if table.verticalHeaderItem(r).toolTip() == "network")
    assert table.item(network_row, 0).text() == "built-in"
    assert "layer 1" in builtin.differences()  # LeNet-5's conv1 against tiny's
