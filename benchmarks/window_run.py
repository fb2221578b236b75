"""One run through the real app, driven from inside its own process, for what needs a hand on
the window: a chosen panel in view (doing there what a person does) and the stall probe.

Launched by ``benchmarks.launch.in_process`` with ``CNN_STUDIO_RUNS``/``CNN_STUDIO_SETTINGS``
set. The app starts as ``main.py`` starts it; this only reaches the window through the
stable objectNames, with real mouse clicks, and reads the run's end from its folder.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QPoint, Qt, QTimer  # noqa: E402 - after the platform is chosen
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import (QApplication, QComboBox, QLabel, QPushButton,  # noqa: E402
                               QTabWidget, QWidget)

from benchmarks.run_folder import ENDED, find_run, status  # noqa: E402
from benchmarks.stall_probe import StallProbe  # noqa: E402

POLL_MS = 250
# Views that live inside a tab, shown by a choice there: (tab, combo, index)
VIEWS = {"Preferred inputs": ("Filters", "filterShowCombo", 1)}
SWITCHED_OFF = (0, 1, 2)  # Ablation: the filters clicked off once the layer's grid appears


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.window_run")
    parser.add_argument("--arch", default="simplecnn")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--panel", help="tab of panelTabs to show, by its title")
    parser.add_argument("--stalls", action="store_true", help="probe event-loop stalls")
    parser.add_argument("--result", type=Path, required=True, help="JSON file to write")
    return parser.parse_args(argv)


class Driver:
    """Shows the panel, does a person's part there, presses Start, quits when the run ends."""

    def __init__(self, app: QApplication, args: argparse.Namespace) -> None:
        self.app, self.args = app, args
        self.runs = Path(os.environ["CNN_STUDIO_RUNS"])
        self.probe = StallProbe()
        self.poll = QTimer()
        self.poll.setInterval(POLL_MS)
        self.poll.timeout.connect(self._check)
        self.window: QWidget | None = None
        self.next_image: QPushButton | None = None  # Feature maps: pressed once images arrive
        self.filters_to_switch_off: QWidget | None = None  # Ablation: clicked once drawn
        self.outcome = "the run never started"

    def begin(self) -> None:
        try:
            self._begin()
        except LookupError as missing:
            self._quit(str(missing))

    def _begin(self) -> None:
        windows = [w for w in self.app.topLevelWidgets()
                   if w.findChild(QPushButton, "startButton") is not None]
        if not windows:
            self._quit("no window with a startButton opened")
            return
        self.window = windows[0]
        if self.args.panel and not self._show_panel(self.args.panel):
            return
        if self.args.stalls:
            self.probe.start()
        QTest.mouseClick(self._child(QPushButton, "startButton"), Qt.MouseButton.LeftButton)
        self.poll.start()

    def _show_panel(self, title: str) -> bool:
        tabs = self._child(QTabWidget, "panelTabs")
        titles = [tabs.tabText(i).replace("&", "") for i in range(tabs.count())]
        tab, combo, choice = VIEWS.get(title, (title, None, 0))
        if tab not in titles:
            self._quit(f"no panel {title!r}; the tabs are {titles}")
            return False
        tabs.setCurrentIndex(titles.index(tab))
        page = tabs.currentWidget()
        if combo is not None:
            self._child(QComboBox, combo).setCurrentIndex(choice)
        self.filters_to_switch_off = page.findChild(QWidget, "ablationFilters")
        canvas = page.findChild(QWidget, "drawingCanvas")
        if canvas is not None:
            draw_a_stroke(canvas)
        view = page.findChild(QWidget, "featureMapsView")
        if view is not None:
            self.next_image = view.parentWidget().findChild(QPushButton, "imageNext")
        return True

    def _check(self) -> None:
        if self.next_image is not None and self._test_images_shown():
            QTest.mouseClick(self.next_image, Qt.MouseButton.LeftButton)  # not the probe image
            self.next_image = None
        grid = self.filters_to_switch_off
        if grid is not None and grid.grid is not None:
            for index in SWITCHED_OFF:
                QTest.mouseClick(grid.viewport(), Qt.MouseButton.LeftButton,
                                 pos=grid.tile_centre(index))
            self.filters_to_switch_off = None
        run = find_run(self.runs)
        state = status(run) if run is not None else None
        if state in ENDED and self._child(QPushButton, "startButton").isEnabled():
            self._quit(state)

    def _test_images_shown(self) -> bool:
        label = self.next_image.parentWidget().findChild(QLabel, "imageLabel")
        return label is not None and label.text().startswith("#")

    def _child(self, kind: type, name: str) -> QWidget:
        widget = self.window.findChild(kind, name)
        if widget is None:
            raise LookupError(f"the window has no {kind.__name__} named {name!r}")
        return widget

    def _quit(self, outcome: str) -> None:
        self.poll.stop()
        self.probe.stop()
        self.outcome = outcome
        self.app.quit()


def draw_a_stroke(canvas: QWidget) -> None:
    """A vertical stroke, as the mouse draws it: the Draw panel then reads it at every epoch."""
    x, top = canvas.width() // 2, canvas.height() // 7
    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     QPoint(x, top))
    for y in range(top, canvas.height() - top, 10):
        QTest.mouseMove(canvas, QPoint(x, y))
    QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                       QPoint(x, canvas.height() - top))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import gui.app

    app = QApplication(sys.argv[:1])  # made here so the driver can be scheduled; main() reuses it
    driver = Driver(app, args)
    QTimer.singleShot(0, driver.begin)
    gui.app.main(["--arch", args.arch, "--epochs", str(args.epochs), "--device", "cpu"])
    stall = 1000 * driver.probe.worst if args.stalls else None
    args.result.write_text(json.dumps({"outcome": driver.outcome, "worst_stall_ms": stall}))
    if driver.outcome != "completed":
        print(f"run ended: {driver.outcome}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
