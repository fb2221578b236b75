"""The application as a process: command line, process set-up, start-up and a clean exit
mid-run."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pyqtgraph as pg
import torch

from gui.app import restore_process, set_up_process
from gui.runtime import warmup

ROOT = Path(__file__).resolve().parents[2]


# Qt prints an exception raised in a slot and carries on; the child would then wait out
# its timeout instead of failing.
_EXIT_ON_ERROR = ("import os, sys, traceback\n"
                  "sys.excepthook = lambda *error: "
                  "(traceback.print_exception(*error), os._exit(1))\n")


def run_python(code: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run([sys.executable, "-c", _EXIT_ON_ERROR + textwrap.dedent(code)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def train_lenet5(run: Path) -> Path:
    """A one-epoch LeNet-5 run on the bundled digits, trained through the CLI, in ``run``."""
    subprocess.run([sys.executable, "-m", "cnn_core", "train", "--arch", "lenet5", "--epochs",
                    "1", "--device", "cpu", "--quiet", "--out", str(run)], cwd=ROOT,
                   check=True, capture_output=True, timeout=120)
    return run


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
        import gui.app

        app = QApplication(sys.argv[:1])

        def close_mid_run():
            window = next(w for w in app.topLevelWidgets() if w.objectName() == "mainWindow")
            if window.curves.batch_points == 0:   # not training yet: look again soon
                QTimer.singleShot(50, close_mid_run)
                return
            print("closing while", window.session.state.value, flush=True)
            window.close()

        QTimer.singleShot(0, close_mid_run)
        sys.exit(gui.app.main(["--start", "--arch", "simplecnn", "--epochs", "50",
                               "--device", "cpu"]))
    """)
    assert proc.returncode == 0, proc.stderr
    assert "closing while running" in proc.stdout
    assert "QThread" not in proc.stderr and "Traceback" not in proc.stderr


def test_start_option_trains_at_launch() -> None:
    proc = run_python("""
        import sys
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication, QComboBox
        import gui.app

        app = QApplication(sys.argv[:1])

        def check():
            window = next(w for w in app.topLevelWidgets() if w.objectName() == "mainWindow")
            if window.session.state.value == "idle":   # the run starts once the loop runs
                QTimer.singleShot(50, check)
                return
            arch = window.findChild(QComboBox, "architectureCombo").currentData()
            print("state", window.session.state.value, arch, flush=True)
            window.close()

        QTimer.singleShot(0, check)
        sys.exit(gui.app.main(["--start", "--arch", "lenet5", "--epochs", "30", "--device", "cpu"]))
    """)
    assert proc.returncode == 0, proc.stderr
    assert "state running lenet5" in proc.stdout


def test_start_option_waits_for_a_folder_of_pictures_to_be_read(tmp_path) -> None:
    from tests.pictures import make_folder

    folder = make_folder(tmp_path / "shapes", per_class=10)
    proc = run_python(f"""
        import sys
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication
        import gui.app

        app = QApplication(sys.argv[:1])

        def check():
            window = next(w for w in app.topLevelWidgets() if w.objectName() == "mainWindow")
            if window.session.run_info is None:   # the run starts once the folder is read
                QTimer.singleShot(50, check)
                return
            print("training on", window.session.run_info.dataset.class_names, flush=True)
            window.close()

        QTimer.singleShot(0, check)
        sys.exit(gui.app.main(["--start", "--arch", "lenet5", "--epochs", "30", "--device",
                               "cpu", "--dataset", {str(folder)!r}]))
    """)
    assert proc.returncode == 0, proc.stderr
    assert "training on ('circle', 'square', 'triangle')" in proc.stdout, proc.stdout


def test_a_checkpoint_on_the_command_line_is_opened(tmp_path) -> None:
    run = train_lenet5(tmp_path / "run")
    proc = run_python(f"""
        import sys
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication
        import gui.app

        app = QApplication(sys.argv[:1])

        def check():
            window = next(w for w in app.topLevelWidgets() if w.objectName() == "mainWindow")
            if window.session.run_info is None or window.session.busy:   # not opened yet
                QTimer.singleShot(50, check)
                return
            print("shown", window.session.run_info.model_name, len(window.session.history),
                  window.status.label.text(), flush=True)
            window.close()

        QTimer.singleShot(0, check)
        sys.exit(gui.app.main([{str(run / "checkpoints" / "best.pt")!r}]))
    """)
    assert proc.returncode == 0, proc.stderr
    assert "shown LeNet-5 1 Opened" in proc.stdout, proc.stdout


def test_compare_on_the_command_line_opens_both_runs(tmp_path) -> None:
    run = train_lenet5(tmp_path / "run")
    proc = run_python(f"""
        import sys
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication, QLabel
        import gui.app

        app = QApplication(sys.argv[:1])

        def check():
            window = next(w for w in app.topLevelWidgets() if w.objectName() == "mainWindow")
            mode = window.inside.compare.mode
            if window.session.busy or mode.partner.loading or mode.b.moment is None:
                QTimer.singleShot(50, check)
                return
            shown = [label.text() for label in window.findChildren(QLabel, "filtersMatchHeadline")
                     if label.isVisible()]
            if not shown:  # the Filters tab draws on the next turn of the event loop
                QTimer.singleShot(50, check)
                return
            print("comparing", mode.active, *shown, flush=True)
            window.close()

        QTimer.singleShot(0, check)
        sys.exit(gui.app.main([{str(run)!r}, "--compare", {str(run)!r}]))
    """)
    assert proc.returncode == 0, proc.stderr
    assert "comparing True conv1: 1.00 matched similarity" in proc.stdout, proc.stdout


def test_compare_without_the_first_run_is_refused_in_one_line() -> None:
    proc = subprocess.run([sys.executable, "main.py", "--compare", "runs/b"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "--compare needs the run to compare it with first" in proc.stderr.splitlines()[-1]


def test_main_sets_up_the_process_before_the_window() -> None:
    proc = run_python("""
        import gc, sys
        import pyqtgraph as pg, torch
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication
        import gui.app

        app = QApplication(sys.argv[:1])

        def check():
            print("gc enabled", gc.isenabled(), "| torch threads", torch.get_num_threads(),
                  "| image axes", pg.getConfigOption("imageAxisOrder"), flush=True)
            next(w for w in app.topLevelWidgets() if w.objectName() == "mainWindow").close()

        QTimer.singleShot(0, check)
        sys.exit(gui.app.main([]))
    """)
    assert proc.returncode == 0, proc.stderr
    assert "gc enabled False | torch threads 1 | image axes row-major" in proc.stdout, proc.stdout


def test_a_window_alone_leaves_the_process_as_it_found_it() -> None:
    """A test or a tool builds windows without main(): they must not change what runs next."""
    proc = run_python("""
        import gc
        import pyqtgraph as pg, torch
        from PySide6.QtWidgets import QApplication
        from gui.window.main_window import MainWindow

        app = QApplication([])

        def process_state():
            return {"gc enabled": gc.isenabled(), "torch threads": torch.get_num_threads(),
                    **{f"pyqtgraph {k}": repr(v) for k, v in pg.CONFIG_OPTIONS.items()}}

        before = process_state()
        window = MainWindow()
        window.show()
        app.processEvents()
        after = process_state()
        print("changed:", sorted(k for k in before if before[k] != after[k]), flush=True)
        window.close()
    """)
    assert proc.returncode == 0, proc.stderr
    assert "changed: []" in proc.stdout, proc.stdout


def test_the_process_set_up_is_handed_back_whole(qtbot, qapp) -> None:
    threads = torch.get_num_threads()
    set_up_process()
    try:
        assert not gc.isenabled() and torch.get_num_threads() == 1
        assert pg.getConfigOption("imageAxisOrder") == "row-major"
        assert warmup.wait(60)
        qtbot.waitUntil(lambda: gc.get_freeze_count() > 0, timeout=5_000)
    finally:
        restore_process()
    assert gc.isenabled() and gc.get_freeze_count() == 0
    assert torch.get_num_threads() == threads


def test_a_window_closed_mid_run_leaves_the_collections_to_the_next(qtbot, qapp) -> None:
    """A run holds full collections until its end is seen; a window closed mid-run and
    gone at once (as a test's is) must not leave them held for the rest of the process."""
    from PySide6.QtCore import QEvent
    from PySide6.QtWidgets import QApplication

    from cnn_core.train.config import TrainConfig
    from gui.window.main_window import MainWindow

    window = MainWindow()
    window.config_panel.set_config(TrainConfig(arch="lenet5", epochs=30, device="cpu"))
    window.start_training()
    qtbot.waitUntil(lambda: window.curves.batch_points > 0, timeout=60_000)
    assert window.close()  # the run is stopped and every thread ended
    window.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    set_up_process()
    try:
        assert warmup.wait(60)
        qtbot.waitUntil(lambda: gc.get_freeze_count() > 0, timeout=5_000)
    finally:
        restore_process()


def test_arch_on_the_command_line_wins_over_a_remembered_network() -> None:
    from cnn_core.train.config import TrainConfig
    from gui.session.settings import Settings
    from tests.core.test_spec import EXAMPLE

    settings = Settings()
    settings.set_last_config(TrainConfig(arch="tiny", network=EXAMPLE, device="cpu"))
    settings.sync()
    proc = run_python("""
        import sys
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication
        import gui.app

        app = QApplication(sys.argv[:1])

        def check():
            window = next(w for w in app.topLevelWidgets() if w.objectName() == "mainWindow")
            config = window.config_panel.config()
            print("chosen", config.arch, config.network, flush=True)
            window.close()

        QTimer.singleShot(0, check)
        sys.exit(gui.app.main(["--arch", "lenet5"]))
    """)
    assert proc.returncode == 0, proc.stderr
    assert "chosen lenet5 None" in proc.stdout


def test_a_remembered_network_that_fails_the_checks_now_is_named_at_launch() -> None:
    """A network with a layer named ``train`` passed the old checks and then crashed in
    training, with a traceback from the model preview at every later launch."""
    from cnn_core.train.config import TrainConfig
    from gui.session.settings import Settings

    spec = {"name": "trainnet", "layers": [
        {"type": "conv2d", "out_channels": 4, "kernel_size": 3, "name": "train"},
        {"type": "relu"}, {"type": "flatten"}, {"type": "linear"}]}
    settings = Settings()
    settings.set_networks([spec])
    settings.set_last_config(TrainConfig(arch="trainnet", network=spec))  # as before
    settings.sync()
    proc = run_python("""
        import sys
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication, QLabel
        import gui.app

        app = QApplication(sys.argv[:1])

        def check():
            window = next(w for w in app.topLevelWidgets() if w.objectName() == "mainWindow")
            banner = window.findChild(QLabel, "errorBanner")
            print("banner", banner.isVisible(), banner.text(), flush=True)
            print("networks", [window.networks.label(i)
                               for i in range(len(window.networks.networks))], flush=True)
            window.close()

        QTimer.singleShot(0, check)
        sys.exit(gui.app.main([]))
    """)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "banner True From the last session: your network 'trainnet' does not pass the " \
           "checks (layer 1: name 'train': 'train' is a name PyTorch's modules use " \
           "themselves; choose another), so the last session's settings were not restored; " \
           "mend it in the editor (Edit…)." in proc.stdout
    assert "'trainnet'" in proc.stdout.split("networks", 1)[1]  # kept, to be mended


def test_ctrl_c_in_the_terminal_closes_the_window_as_its_close_button_does(tmp_path) -> None:
    """The run is stopped and saved, the settings remembered, and the process ends with
    130, the status a shell gives a program Ctrl+C ended; no traceback."""
    import json
    import signal
    import time

    runs, settings = tmp_path / "runs", tmp_path / "settings.ini"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "CNN_STUDIO_RUNS": str(runs),
           "CNN_STUDIO_SETTINGS": str(settings)}
    process = subprocess.Popen(
        [sys.executable, "main.py", "--start", "--arch", "lenet5", "--epochs", "50",
         "--device", "cpu"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 120
        while not list(runs.glob("*/snapshots/epoch-0001.npz")):
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.1)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=120)
    finally:
        process.kill()
        process.wait()
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr
    (run,) = runs.iterdir()
    assert json.loads((run / "summary.json").read_text())["status"] == "stopped"
    assert settings.is_file()


def test_the_window_fits_a_laptop_screen_of_1280x800(window) -> None:
    """Every panel and field may grow the window's minimum size; it must stay on a small
    laptop's screen (the height less a task bar)."""
    least = window.minimumSizeHint()
    assert least.width() <= 1280 and least.height() <= 760, least
