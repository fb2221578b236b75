"""A dataset whose files are damaged stops the run before it starts, with a line that says
what to do, and no traceback."""

from __future__ import annotations

import random

from PySide6.QtWidgets import QComboBox, QLabel

from cnn_core.data.datasets import dataset_folder
from tests.gui.conftest import find
from tests.gui.test_training_window import configure

MNIST_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
               "t10k-labels-idx1-ubyte")


def test_damaged_dataset_files_are_refused_in_one_line(qtbot, window, capfd) -> None:
    folder = dataset_folder("mnist", window.config_panel.data_dir)
    folder.mkdir(parents=True)
    noise = random.Random(0)
    for name in MNIST_FILES:
        (folder / name).write_bytes(noise.randbytes(3000))
    configure(window, "lenet5", epochs=1)
    dataset = find(window, QComboBox, "datasetCombo")
    dataset.setCurrentIndex(dataset.findData("mnist"))
    reason = (f"MNIST in {folder} is damaged (a file is not in the format it should be); "
              "delete the folder and download it again.")
    error = find(window, QLabel, "datasetError")
    qtbot.waitUntil(lambda: error.text() == reason, timeout=60_000)  # read when chosen
    assert not window.buttons.start.isEnabled()
    window.start_training()
    assert window.status.label.text() == f"Cannot start: dataset — {reason}"
    assert window.session.last_run is None
    assert "Traceback" not in capfd.readouterr().err
