from __future__ import annotations

import gc
import threading

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QApplication, QWidget

from gui.app import restore_process, set_up_process
from gui.runtime.theme import apply_plot_theme
from cnn_core.train.config import TrainConfig
from gui.window.main_window import MainWindow


@pytest.fixture(autouse=True, scope="session")
def _plot_theme() -> None:
    """The app sets pyqtgraph's options once, before any plot; so do the tests."""
    apply_plot_theme()


@pytest.fixture
def app_process(qapp):
    """The process set-up of ``python main.py`` (GC policy, torch threads, warm-up) for a
    test that depends on it, handed back afterwards."""
    set_up_process()
    yield
    restore_process()


@pytest.fixture(autouse=True)
def _without_earlier_windows(qapp) -> None:
    """Free the windows of earlier tests before this one starts. A person has one window;
    this process makes dozens, and collecting one of them (tens of thousands of objects,
    up to 300 ms) in the middle of a later test's run would be measured as that run's
    stall."""
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)  # pytest-qt's deleteLater
    gc.collect()


@pytest.fixture
def window(qtbot, tmp_path):
    w = MainWindow()
    w.config_panel.data_dir = tmp_path / "datasets"
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.session.shutdown(30_000)


def train(qtbot, window: MainWindow, arch: str, epochs: int,
          batch_size: int = 64) -> MainWindow:
    """``window`` after a short run on the bundled sample, its last epoch's details in."""
    window.config_panel.set_config(TrainConfig(arch=arch, epochs=epochs, batch_size=batch_size,
                                               device="cpu"))
    with qtbot.waitSignal(window.session.runFinished, timeout=120_000):
        window.start_training()
    qtbot.waitUntil(lambda: window.inside.details is not None, timeout=10_000)
    return window


# the networks that train from scratch; the ImageNet presets would download their weights
ARTICLE_NETWORKS = ["lenet5", "simplecnn", "deepcnn"]


def find(window: MainWindow, cls: type, name: str) -> QWidget:
    widget = window.findChild(cls, name)
    assert widget is not None, f"no {cls.__name__} named {name}"
    return widget


def slow_to_end(service: type) -> type:
    """``service`` (a class with ``start(task)``) whose thread, once a task started while
    ``holding`` has answered, waits for ``release`` before it says the task has finished, as
    a busy machine may for a moment."""

    class SlowToEnd(service):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self.holding = False
            self.release = threading.Event()

        def start(self, task):
            if self.holding:
                task.succeeded.connect(lambda _result: self.release.wait(60),
                                       Qt.ConnectionType.DirectConnection)
            return super().start(task)

    return SlowToEnd
