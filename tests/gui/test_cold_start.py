"""The window starts fast: nothing heavy is imported before it shows, the warm-up waits for
it, and the start-up report that ``make bench`` reads tells the truth."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from PySide6.QtWidgets import QPushButton, QVBoxLayout, QWidget

from benchmarks.cold_start import MapWatcher, launch
from cnn_core.data.datasets import DATASETS, dataset_folder
from gui.runtime import startup_times
from tests.gui.test_app import _EXIT_ON_ERROR, ROOT

# Each costs the window's start a second or more, and the first screen needs none of them.
HEAVY = ("torchvision", "sklearn", "scipy", "sympy", "torch._dynamo", "onnx", "tensorboard")


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    """``code`` in a fresh process, offscreen, with this test's folders (and ``env``)."""
    return subprocess.run([sys.executable, "-c", _EXIT_ON_ERROR + textwrap.dedent(code)],
                          cwd=ROOT, env={**os.environ, "QT_QPA_PLATFORM": "offscreen", **env},
                          capture_output=True, text=True, timeout=120)


def test_the_window_imports_and_builds_without_the_heavy_modules(tmp_path) -> None:
    data = tmp_path / "data"
    for name, info in DATASETS.items():  # downloaded sets are looked at too, file by file
        if info.downloadable:
            dataset_folder(name, data).mkdir(parents=True, exist_ok=True)
    proc = run_python(f"""
        import sys
        def heavy():
            return sorted(m for m in {HEAVY!r} if m in sys.modules)

        import gui.app
        gui.app.build_parser()
        from PySide6.QtWidgets import QApplication
        from gui.window.main_window import MainWindow
        print("imported:", heavy(), flush=True)
        app = QApplication(sys.argv[:1])
        window = MainWindow()
        window.show()
        app.processEvents()
        print("built:", heavy(), flush=True)
        window.close()
    """, CNN_STUDIO_DATA=str(data))
    assert proc.returncode == 0, proc.stderr
    assert "imported: []" in proc.stdout, proc.stdout
    assert "built: []" in proc.stdout, proc.stdout


def test_main_freezes_what_the_imports_made() -> None:
    """So that the collector's first collections walk only what the window made."""
    proc = run_python("""
        import gc, sys
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication
        import gui.app

        app = QApplication(sys.argv[:1])

        def check():
            print("collects by itself:", gc.isenabled(), flush=True)
            print("mostly frozen:", gc.get_freeze_count() > 2 * len(gc.get_objects()), flush=True)
            app.quit()

        QTimer.singleShot(0, check)
        sys.exit(gui.app.main([]))
    """)
    assert proc.returncode == 0, proc.stderr
    assert "collects by itself: False" in proc.stdout, proc.stdout
    assert "mostly frozen: True" in proc.stdout, proc.stdout


def test_the_warm_up_waits_for_the_window_on_the_screen() -> None:
    proc = run_python("""
        import sys, threading, time
        from PySide6.QtWidgets import QApplication, QWidget
        from gui.runtime import warmup

        def warming():
            return any(t.name == "torch-warmup" for t in threading.enumerate())

        app = QApplication(sys.argv[:1])
        window = QWidget()
        window.show()
        warmup.warm_up_once_on_screen(window)
        print("before the event loop:", warming(), warmup.done(), flush=True)
        deadline = time.monotonic() + 60
        while not warming() and "torch._dynamo" not in sys.modules:
            assert time.monotonic() < deadline, "the warm-up never started"
            app.processEvents()
        print("exposed first:", window.windowHandle().isExposed(), flush=True)
        print("done:", warmup.wait(60), "torch._dynamo" in sys.modules, flush=True)
    """)
    assert proc.returncode == 0, proc.stderr
    assert "before the event loop: False False" in proc.stdout, proc.stdout
    assert "exposed first: True" in proc.stdout, proc.stdout
    assert "done: True True" in proc.stdout, proc.stdout


def test_a_scheduled_warm_up_that_is_waited_for_starts_at_once() -> None:
    proc = run_python("""
        import sys
        from PySide6.QtWidgets import QApplication, QWidget
        from gui.runtime import warmup

        app = QApplication(sys.argv[:1])
        window = QWidget()
        window.show()
        window.hide()  # its exposure never comes
        warmup.warm_up_once_on_screen(window)
        print("done:", warmup.wait(60), "torch._dynamo" in sys.modules, flush=True)
    """)
    assert proc.returncode == 0, proc.stderr
    assert "done: True True" in proc.stdout, proc.stdout


def _window_with_start(enabled: bool) -> tuple[QWidget, QPushButton]:
    window = QWidget()
    start = QPushButton("Start", objectName="startButton", enabled=enabled)
    QVBoxLayout(window).addWidget(start)
    return window, start


def _report(path) -> dict[str, tuple[float, float]]:
    rows = [line.split(" ") for line in path.read_text().splitlines()]
    return {" ".join(row[:-2]): (float(row[-2]), float(row[-1])) for row in rows}


def test_the_report_has_each_first_moment_once(qtbot, tmp_path, monkeypatch) -> None:
    path = tmp_path / "times.txt"
    monkeypatch.setenv(startup_times.VARIABLE, str(path))
    window, start = _window_with_start(enabled=False)
    qtbot.addWidget(window)
    startup_times.watch(window)
    window.show()
    qtbot.waitExposed(window)
    qtbot.waitUntil(lambda: path.is_file() and "exposed" in _report(path))
    assert set(_report(path)) == {"shown", "exposed"}
    start.setEnabled(True)
    start.setEnabled(False)
    start.setEnabled(True)
    window.hide()
    window.show()
    qtbot.waitExposed(window)
    report = _report(path)
    assert sorted(report) == ["exposed", "shown", "start enabled"]
    assert len(path.read_text().splitlines()) == 3
    assert report["shown"][0] <= report["exposed"][0] <= report["start enabled"][0]


def test_without_the_variable_nothing_is_written(qtbot, tmp_path, monkeypatch) -> None:
    monkeypatch.delenv(startup_times.VARIABLE, raising=False)
    monkeypatch.chdir(tmp_path)
    window, _start = _window_with_start(enabled=True)
    qtbot.addWidget(window)
    startup_times.watch(window)
    startup_times.record("anything")
    window.show()
    qtbot.waitExposed(window)
    assert os.listdir(tmp_path) == []


def test_the_bench_times_a_real_first_launch() -> None:
    start = launch(None, MapWatcher(None), timeout=120)  # offscreen: the app's own exposure
    steps = start.reported
    assert 0 < steps["imported"] < steps["window built"] <= steps["shown"] <= steps["exposed"]
    assert start.window_s == steps["exposed"]
    assert start.start_s == max(steps["start enabled"], start.window_s)
    assert 0 < start.cpu_s
