"""Regenerate the README's screenshots: ``python -m gui.screenshots [OUT_DIR]``.

Drives the real window offscreen through a short run on the bundled sample and grabs it
idle, mid-run, finished, and on each panel tab.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def main(out: Path) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from cnn_core.config import TrainConfig

    from . import warmup
    from .main_window import MainWindow

    out.mkdir(parents=True, exist_ok=True)
    app = QApplication(sys.argv[:1])
    window = MainWindow(TrainConfig(arch="simplecnn", epochs=3, device="cpu", batch_size=32))
    window.show()
    warmup.wait(60)

    def wait(ms: int) -> None:
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    wait(300)
    window.grab().save(str(out / "idle.png"))
    done = QEventLoop()
    window.controller.runFinished.connect(done.quit)
    window.start_training()
    # mid-run: well into the second epoch
    while not (window.history and window.curves.batch_points > 1.5 * 125):
        wait(50)
    window.grab().save(str(out / "training.png"))
    done.exec()
    wait(300)
    window.grab().save(str(out / "finished.png"))
    for index in range(1, window.tabs.count()):  # tab 0 (Filters) is in finished.png
        window.tabs.setCurrentIndex(index)
        wait(300)
        name = window.tabs.tabText(index).lower().replace(" ", "-")
        window.grab().save(str(out / f"{name}.png"))
    window.close()
    app.quit()


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "resources/screenshots"))
