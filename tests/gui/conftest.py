from __future__ import annotations

import pytest
from PySide6.QtWidgets import QWidget

from gui.main_window import MainWindow


@pytest.fixture
def window(qtbot, tmp_path):
    w = MainWindow()
    w.config_panel.data_dir = tmp_path / "datasets"
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.controller.shutdown(30_000)


def find(window: MainWindow, cls: type, name: str) -> QWidget:
    widget = window.findChild(cls, name)
    assert widget is not None, f"no {cls.__name__} named {name}"
    return widget
