"""The README's picture of the window watching a run: ``python tools/watch_screenshot.py
[--size WxH] [OUT]``.

A command-line run (LeNet-5, six epochs on the bundled sample) trains in another process;
the window, offscreen, watches its folder through File > Watch run folder… and is grabbed
after three epochs (``watching.png``). Runs and settings go to a temporary folder.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT_MS = 600_000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", nargs="?", default=str(ROOT / "resources" / "screenshots"))
    parser.add_argument("--size", default="1280x800")
    args = parser.parse_args()
    width, height = map(int, args.size.split("x"))
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    sys.path.insert(0, str(ROOT))
    scratch = Path(tempfile.mkdtemp(prefix="cnn-studio-watch-"))
    os.environ["CNN_STUDIO_RUNS"] = str(scratch / "runs")
    os.environ["CNN_STUDIO_SETTINGS"] = str(scratch / "settings.ini")
    from PySide6.QtCore import QDeadlineTimer, QEventLoop
    from PySide6.QtGui import QAction
    from PySide6.QtWidgets import QApplication, QFileDialog

    from gui.app import set_up_process
    from gui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    set_up_process()
    window = MainWindow()
    window.resize(width, height)
    window.show()
    run = scratch / "runs" / "lenet5-elsewhere"
    QFileDialog.getExistingDirectory = lambda *a, **k: str(run)
    window.findChild(QAction, "watchRunAction").trigger()
    trainer = subprocess.Popen(
        [sys.executable, "-m", "cnn_core", "train", "--arch", "lenet5", "--epochs", "6",
         "--device", "cpu", "--out", str(run), "--quiet"], cwd=ROOT)

    def wait_until(condition) -> None:
        deadline = QDeadlineTimer(TIMEOUT_MS)
        while not condition():
            if deadline.hasExpired() or trainer.poll() not in (None, 0):
                raise SystemExit("the watched run did not get that far")
            app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)

    def three_epochs_shown() -> bool:  # curves, status, details and time-lapse agree
        progress, details = window.session.watch_progress, window.inside.details
        _x, accuracy = window.curves.test_acc.getData()
        return (progress is not None and progress.epochs_done >= 3 and details is not None
                and details.epoch >= 3 and len(window.inside.timelapse) >= 4
                and accuracy is not None and len(accuracy) >= 3)

    wait_until(three_epochs_shown)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(out / "watching.png"))
    trainer.wait(TIMEOUT_MS / 1000)
    window.close()
    print(f"wrote {out / 'watching.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
