"""The application as a process: command line, start-up and a clean exit mid-run."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_python(code: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_help_lists_the_options() -> None:
    proc = subprocess.run([sys.executable, "main.py", "--help"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0
    for option in ("--start", "--arch", "--dataset", "--epochs", "--device"):
        assert option in proc.stdout


def test_closing_the_window_mid_run_exits_cleanly() -> None:
    proc = run_python("""
        import sys
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication
        from cnn_core.train.config import TrainConfig
        from gui.window.main_window import MainWindow

        app = QApplication(sys.argv[:1])
        window = MainWindow(TrainConfig(arch="simplecnn", epochs=50, device="cpu"))
        window.show()
        window.start_training()

        def close_mid_run():
            if window.curves.batch_points == 0:   # not training yet: look again soon
                QTimer.singleShot(100, close_mid_run)
                return
            print("closing while", window.controller.state.value, flush=True)
            window.close()

        QTimer.singleShot(500, close_mid_run)
        sys.exit(app.exec())
    """)
    assert proc.returncode == 0, proc.stderr
    assert "closing while running" in proc.stdout
    assert "QThread" not in proc.stderr and "Traceback" not in proc.stderr


def test_start_option_trains_at_launch() -> None:
    proc = run_python("""
        import sys
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication
        import gui.app

        app = QApplication(sys.argv[:1])

        def check():
            window = next(w for w in app.topLevelWidgets() if w.objectName() == "mainWindow")
            print("state", window.controller.state.value, window.config_panel.arch_combo.currentData(),
                  flush=True)
            window.close()

        QTimer.singleShot(1500, check)
        sys.exit(gui.app.main(["--start", "--arch", "lenet5", "--epochs", "30", "--device", "cpu"]))
    """)
    assert proc.returncode == 0, proc.stderr
    assert "state running lenet5" in proc.stdout


def test_a_checkpoint_on_the_command_line_is_opened(tmp_path) -> None:
    run = tmp_path / "run"
    subprocess.run([sys.executable, "-m", "cnn_core", "train", "--arch", "lenet5", "--epochs",
                    "1", "--device", "cpu", "--quiet", "--out", str(run)], cwd=ROOT,
                   check=True, capture_output=True, timeout=120)
    proc = run_python(f"""
        import sys
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication
        import gui.app

        app = QApplication(sys.argv[:1])

        def check():
            window = next(w for w in app.topLevelWidgets() if w.objectName() == "mainWindow")
            if window.controller.busy:
                QTimer.singleShot(200, check)
                return
            print("shown", window.run_info.model_name, len(window.history),
                  window.status_label.text(), flush=True)
            window.close()

        QTimer.singleShot(500, check)
        sys.exit(gui.app.main([{str(run / "checkpoints" / "best.pt")!r}]))
    """)
    assert proc.returncode == 0, proc.stderr
    assert "shown LeNet-5 1 Opened" in proc.stdout, proc.stdout
