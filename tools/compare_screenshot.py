"""The README's pictures of compare mode: ``python tools/compare_screenshot.py [--size WxH]
[--all] [OUT]``.

Two runs train on the bundled sample for two epochs (LeNet-5, and LeNet-5 with 3x3
kernels); the window, offscreen, ticks both in the Runs panel, presses Compare inside and
is grabbed in the Filters, Errors and Embedding tabs (``compare-*.png``; ``--all`` adds
Feature maps, Saliency and Layer health). Runs and settings go to a temporary folder.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT_MS = 300_000
README_TABS = ("Filters", "Errors", "Embedding")
OTHER_TABS = ("Feature maps", "Saliency", "Layer health")


def train_two_runs(runs: Path) -> None:
    from cnn_core.nn.models import network_spec
    from cnn_core.train.config import TrainConfig
    from cnn_core.train.launch import launch

    spec = network_spec("lenet5").to_json()
    spec["name"] = "lenet5-3x3"
    for layer in spec["layers"]:
        if layer["type"] == "conv2d":
            layer["kernel_size"] = 3
    for folder, config in (("a", TrainConfig(arch="lenet5", epochs=2, device="cpu", seed=1)),
                           ("b", TrainConfig(arch="lenet5-3x3", network=spec, epochs=2,
                                             device="cpu", seed=1))):
        launch(config, run_dir=runs / folder).trainer.fit()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", nargs="?", default=str(ROOT / "resources" / "screenshots"))
    parser.add_argument("--size", default="1280x800")
    parser.add_argument("--all", action="store_true", help="every compare tab")
    args = parser.parse_args()
    width, height = map(int, args.size.split("x"))
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    sys.path.insert(0, str(ROOT))
    scratch = Path(tempfile.mkdtemp(prefix="cnn-studio-compare-"))
    os.environ["CNN_STUDIO_RUNS"] = str(scratch / "runs")
    os.environ["CNN_STUDIO_SETTINGS"] = str(scratch / "settings.ini")
    train_two_runs(scratch / "runs")
    from PySide6.QtCore import QDeadlineTimer, QEventLoop, Qt
    from PySide6.QtGui import QAction
    from PySide6.QtWidgets import QApplication, QTreeWidget

    from gui.app import set_up_process
    from gui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    set_up_process()
    window = MainWindow()
    window.resize(width, height)
    window.show()
    window.runs_dock.raise_()

    def wait_until(condition, ms: int = TIMEOUT_MS) -> None:
        deadline = QDeadlineTimer(ms)
        while not condition() and not deadline.hasExpired():
            app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)

    tree = window.findChild(QTreeWidget, "runsList")
    wait_until(lambda: tree.topLevelItemCount() == 2)
    for i in range(2):
        tree.topLevelItem(i).setCheckState(0, Qt.CheckState.Checked)
    started = time.perf_counter()
    window.findChild(QAction, "compareInsideAction").trigger()
    mode = window.inside.compare.mode
    wait_until(lambda: not window.session.busy and not mode.partner.loading
               and mode.b.details is not None)
    print(f"both runs shown in {time.perf_counter() - started:.2f} s")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    tabs = window.inside.tabs
    for title in README_TABS + (OTHER_TABS if args.all else ()):
        tabs.setCurrentIndex(next(i for i in range(tabs.count()) if tabs.tabText(i) == title))
        wait_until(lambda: False, 2500)  # the views draw, the projection lands
        path = out / f"compare-{title.lower().replace(' ', '-')}.png"
        window.grab().save(str(path))
        print(f"wrote {path}")
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
