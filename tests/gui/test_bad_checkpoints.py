"""A file that is not a usable checkpoint, however it reaches the window (the command
line, File > Open, the Runs panel): one line in the error banner, no traceback, and the
window carries on."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from PySide6.QtWidgets import QFileDialog, QLabel

from cnn_core.runs.checkpoint import save_checkpoint
from cnn_core.train.config import TrainConfig
from cnn_core.train.trainer import Trainer
from tests.gui.conftest import find
from tests.gui.test_app import run_python
from tests.gui.test_odd_runs import make_run

REFUSAL = "this file is not a usable checkpoint"


@pytest.fixture
def good(tmp_path: Path, small) -> Path:
    """A real (untrained) LeNet-5 checkpoint."""
    path = tmp_path / "good.pt"
    trainer = Trainer(TrainConfig(arch="lenet5", epochs=2, batch_size=64, device="cpu"),
                      data=small)
    save_checkpoint(trainer.state_dict(), path)
    return path


@pytest.fixture
def bad_files(tmp_path: Path, good: Path) -> dict[str, Path]:
    contents = {"text.pt": b"these are my notes, not weights\n",
                "random.pt": random.Random(0).randbytes(4096),
                "truncated.pt": good.read_bytes()[: good.stat().st_size // 2]}
    for name, data in contents.items():
        (tmp_path / name).write_bytes(data)
    return {name: tmp_path / name for name in contents}


def refused(qtbot, window, open_it) -> str:
    """What the banner says after ``open_it()``; the window is left as it was, and the
    status bar no longer says "Opening…"."""
    banner = find(window, QLabel, "errorBanner")
    with qtbot.waitSignal(window.session.error, timeout=30_000):
        open_it()
    assert banner.isVisible() and "\n" not in banner.text()
    status = find(window, QLabel, "statusMessage").text()
    assert status.startswith("Could not open ") and banner.text().startswith(status[:-1])
    assert window.session.state == "idle" and window.session.run_info is None
    return banner.text()


def test_open_path_refuses_each_in_one_line_and_the_window_carries_on(
        qtbot, window, bad_files: dict[str, Path], good: Path) -> None:
    for name, path in bad_files.items():
        text = refused(qtbot, window, lambda: window.open_path(path))
        assert text.startswith(f"Could not open {name}: {path}: {REFUSAL}: ")
        assert "Traceback" not in text
    with qtbot.waitSignal(window.session.runFinished, timeout=60_000) as finished:
        window.open_path(good)
    assert finished.args == ["inspected"]


def test_file_open_refuses_a_bad_file(qtbot, window, bad_files: dict[str, Path],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    path = bad_files["random.pt"]
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    assert REFUSAL in refused(qtbot, window, window.menus.open_action.trigger)


def test_the_runs_panels_open_refuses_a_damaged_best_checkpoint(
        qtbot, window, bad_files: dict[str, Path]) -> None:
    run = make_run(window.runs.folder, "spoilt", "2025-03-01T10:00:00",
                   checkpoint=bad_files["truncated.pt"].read_bytes())
    window.runs_panel.refresh()
    window.runs_panel.tree.topLevelItem(0).setSelected(True)
    assert window.runs_panel.selected_run().path == run
    text = refused(qtbot, window, window.runs_panel.open_action.trigger)
    assert f"{run / 'checkpoints' / 'best.pt'}: {REFUSAL}: " in text


def test_a_bad_checkpoint_on_the_command_line_shows_in_the_banner(
        bad_files: dict[str, Path]) -> None:
    proc = run_python(f"""
        import sys
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication, QLabel
        import gui.app

        app = QApplication(sys.argv[:1])

        def check():
            window = next(w for w in app.topLevelWidgets() if w.objectName() == "mainWindow")
            banner = window.findChild(QLabel, "errorBanner")
            if not banner.isVisible():   # not refused yet
                QTimer.singleShot(50, check)
                return
            print("banner:", banner.text(), flush=True)
            window.close()

        QTimer.singleShot(0, check)
        sys.exit(gui.app.main([{str(bad_files["random.pt"])!r}]))
    """)
    assert proc.returncode == 0, proc.stderr
    assert f"banner: Could not open random.pt: {bad_files['random.pt']}: {REFUSAL}" in proc.stdout
    assert "Traceback" not in proc.stderr and "Error" not in proc.stderr, proc.stderr
