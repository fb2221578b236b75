"""Regenerate the README's screenshots: ``python tools/screenshots.py [OUT_DIR]``.

Drives the real window offscreen through a run on the bundled sample and grabs it idle,
mid-run and finished, and every panel during and after the run (a digit drawn on the
Draw panel, a mistake picked on the Errors panel). Then a second run with SGD, the two
compared in the Runs panel, and a branch of the first run with edited settings. Runs and
settings go to a temporary folder, never the user's own.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path


def main(out: Path) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    scratch = Path(tempfile.mkdtemp(prefix="cnn-studio-screenshots-"))
    os.environ["CNN_STUDIO_RUNS"] = str(scratch / "runs")
    os.environ["CNN_STUDIO_SETTINGS"] = str(scratch / "settings.ini")
    import numpy as np
    from PySide6.QtCore import QEventLoop, QPointF, Qt, QTimer
    from PySide6.QtWidgets import QApplication

    from cnn_core.train.config import TrainConfig

    from gui.runtime import warmup
    from gui.window.main_window import MainWindow

    out.mkdir(parents=True, exist_ok=True)
    app = QApplication(sys.argv[:1])
    window = MainWindow(TrainConfig(arch="simplecnn", epochs=6, device="cpu", batch_size=32))
    window.show()
    inside = window.inside
    warmup.wait(60)

    def wait(ms: int) -> None:
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    def draw_seven() -> None:
        canvas = inside.drawing_panel.canvas
        canvas.strokes = [[QPointF(70, 60), QPointF(200, 60)],
                          [QPointF(200, 60), QPointF(150, 150), QPointF(115, 235)]]
        canvas._render()
        canvas.changed.emit()

    def pick_mistake() -> None:
        errors = inside.errors_panel
        if errors.matrix is None:
            return
        off = errors.matrix - np.diag(np.diag(errors.matrix))
        t, p = np.unravel_index(int(np.argmax(off)), off.shape)
        errors.show_cell(int(t), int(p))
        if errors.list.count():
            errors.list.itemClicked.emit(errors.list.item(0))

    def grab_panels(when: str) -> None:
        for index in range(inside.tabs.count()):
            inside.tabs.setCurrentIndex(index)
            if inside.tabs.currentWidget() is inside.errors_panel:
                wait(100)
                pick_mistake()
            wait(500)
            name = inside.tabs.tabText(index).lower().replace(" ", "-")
            inside.grab().save(str(out / f"{name}-{when}.png"))

    wait(300)
    window.grab().save(str(out / "idle.png"))
    draw_seven()
    done = QEventLoop()
    window.controller.runFinished.connect(done.quit)
    window.start_training()
    while len(window.history) < 2:
        wait(50)
    window.grab().save(str(out / "training.png"))
    grab_panels("during")
    done.exec()
    wait(300)
    inside.tabs.setCurrentIndex(0)
    wait(300)
    window.grab().save(str(out / "finished.png"))
    grab_panels("after")

    def train(config: TrainConfig) -> None:
        window.config_panel.set_config(config)
        window.start_training()
        done.exec()
        wait(300)

    # Compare: the same network trained with SGD, both ticked in the Runs panel.
    first = window._last_run
    train(TrainConfig(arch="simplecnn", epochs=6, device="cpu", batch_size=32,
                      optimizer="sgd", lr=0.02, seed=1))
    window.runs_dock.raise_()
    tree = window.runs_panel.tree
    for i in range(tree.topLevelItemCount()):
        tree.topLevelItem(i).setCheckState(0, Qt.CheckState.Checked)
    wait(500)
    window.grab().save(str(out / "runs-compare.png"))
    window.runs_panel.compare_action.trigger()
    wait(300)
    window.runs_panel.diff_dialog.grab().save(str(out / "runs-diff.png"))
    window.runs_panel.diff_dialog.close()
    for i in range(tree.topLevelItemCount()):
        tree.topLevelItem(i).setCheckState(0, Qt.CheckState.Unchecked)

    # Branch: the first run, continued from its last checkpoint with SGD and more epochs.
    window.runs_panel.branchRequested.emit(first / "checkpoints" / "last.pt")
    config = window.config_panel.config()
    config.optimizer, config.lr, config.epochs = "sgd", 0.01, 10
    config.device = "cpu"
    train(config)
    window.grab().save(str(out / "branched.png"))
    window.close()
    app.quit()


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "resources/screenshots"))
