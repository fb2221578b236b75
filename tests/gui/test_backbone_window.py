"""An ImageNet backbone in the window: its weights download with progress and Stop
cancels it; the fixed trunk's features are computed once, with progress."""

from __future__ import annotations

import threading
import urllib.request

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QApplication, QComboBox, QLabel, QProgressBar, QPushButton,
                               QSpinBox, QTabWidget)

from cnn_core.paths import default_runs_dir
from cnn_core.train.config import TrainConfig
from tests.backbones import fake_imagenet_weights
from tests.gui.conftest import find
from tests.pictures import make_folder


class _Trickle:
    """A connection that sends a large file a little at a time, until it is dropped."""

    headers = {"Content-Length": str(44_661_028)}

    def __init__(self) -> None:
        self.paced = threading.Event()  # never set: each read waits a moment, as a slow line

    def read(self, size: int) -> bytes:
        self.paced.wait(0.01)
        return bytes(size)

    def __enter__(self) -> _Trickle:
        return self

    def __exit__(self, *_exc: object) -> None:
        pass


def test_the_weights_download_shows_progress_and_stop_cancels_it(qtbot, window,
                                                                 monkeypatch) -> None:
    monkeypatch.setattr(urllib.request, "urlopen", lambda request, timeout=None: _Trickle())
    window.config_panel.set_config(TrainConfig(arch="resnet18-imagenet", epochs=1,
                                               device="cpu"))
    status = find(window, QLabel, "statusMessage")
    progress = find(window, QProgressBar, "trainingProgress")
    qtbot.mouseClick(find(window, QPushButton, "startButton"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Downloading resnet18-f37072fd.pth" in status.text()
                    and progress.value() > 0, timeout=30_000)
    assert "MB" in status.text() and "Stop cancels" in status.text()
    with qtbot.waitSignal(window.session.runFinished, timeout=30_000) as finished:
        qtbot.mouseClick(find(window, QPushButton, "stopButton"), Qt.MouseButton.LeftButton)
    assert finished.args == ["stopped"]
    weights = window.config_panel.data_dir / "weights"
    assert list(weights.iterdir()) == []  # nothing half-downloaded is kept
    runs = default_runs_dir()
    assert not runs.exists() or list(runs.iterdir()) == []  # no run was begun
    assert find(window, QPushButton, "startButton").isEnabled()


def test_a_frozen_backbone_computes_its_features_once_with_progress(qtbot, window,
                                                                    tmp_path) -> None:
    fake_imagenet_weights("mobilenet_v3_small", window.config_panel.data_dir)
    folder = make_folder(tmp_path / "shapes", per_class=10)
    window.config_panel.set_config(TrainConfig(
        arch="mobilenet-v3-small-imagenet", dataset=str(folder), image_size=64, epochs=2,
        batch_size=8, device="cpu"))
    qtbot.waitUntil(lambda: window.config_panel.data.preview_data is not None, timeout=30_000)
    shown: list[str] = []
    window.session.preparing.connect(lambda p: shown.append(p.text))
    with qtbot.waitSignal(window.session.runFinished, timeout=120_000) as finished:
        window.start_training()
    assert finished.args == ["completed"]
    assert shown and all("features of the fixed layers" in text for text in shown)
    assert shown[-1].startswith("Computing the features of the fixed layers once: 30/30")
    assert [m.epoch for m in window.session.history] == [1, 2]
    tabs = find(window, QTabWidget, "panelTabs")  # every view of 34 layers, on a laptop
    for index in range(tabs.count()):
        tabs.setCurrentIndex(index)
        QApplication.processEvents()  # the view draws what it shows as it is shown
        assert window.minimumSizeHint().width() <= 1280, tabs.tabText(index)


def test_choosing_a_backbone_for_a_photo_folder_reads_it_at_224_pixels(qtbot, window,
                                                                      tmp_path) -> None:
    folder = make_folder(tmp_path / "shapes", per_class=4)
    window.config_panel.set_config(TrainConfig(dataset=str(folder), epochs=1, device="cpu"))
    size = find(window, QSpinBox, "imageSizeSpin")
    assert size.value() == 32  # a from-scratch network's default
    combo = find(window, QComboBox, "architectureCombo")
    combo.setCurrentIndex(combo.findData("mobilenet-v3-small-imagenet"))
    assert size.value() == 224
    qtbot.waitUntil(lambda: window.config_panel.data.preview_data is not None
                    and window.config_panel.data.preview_data.info.input_size == 224,
                    timeout=30_000)
    size.setValue(128)  # a person's choice stays
    combo.setCurrentIndex(combo.findData("simplecnn"))
    combo.setCurrentIndex(combo.findData("resnet18-imagenet"))
    assert size.value() == 128
