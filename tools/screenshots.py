"""Regenerate the README's screenshots: ``python tools/screenshots.py [--size WxH ...] [OUT]``.

Drives the real window offscreen, as a person would (clicks and drags on widgets found by
their objectName), through a run on the bundled sample. It grabs the window idle, mid-run
and finished, and every panel during the run (paused after two epochs) and after it: a
seven drawn on the Draw panel, the commonest mistake picked on the Errors panel. Then a
second run with SGD, the two compared in the Runs panel, and a branch of the first run
with edited settings. Runs and settings go to a temporary folder, never the user's own.

Each size is taken in a fresh process. 1280x800 goes to OUT (the README's pictures),
any other size to OUT/WxH. Default: 1280x800 and 1920x1080.

``--photos FOLDER`` takes only the pictures of a folder of one's own photos instead
(``photos.png``: opened and trained on; ``predictions.png``: three of them predicted);
``tools/photo_folder.py`` makes such a folder.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README_SIZE = "1280x800"
DEFAULT_SIZES = (README_SIZE, "1920x1080")
RUN_TIMEOUT = 1800  # seconds a whole training run may take on a slow, busy machine
# Panels that show the network's answer to a request, by the bars that show it arrived.
ANSWERS = {"Draw": "predictionChart", "Errors": "errorsSaliencyViewProbabilities",
           "Saliency": "saliencyViewProbabilities", "Convolution": "convExplainerView"}


def parse_size(text: str) -> tuple[int, int]:
    width, _, height = text.partition("x")
    return int(width), int(height)


def shoot(out: Path, size: tuple[int, int], photos: Path | None = None) -> None:
    """Take every screenshot at one window size (in this process), or only the photos'."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    sys.path.insert(0, str(ROOT))  # the window of this checkout, not of another install
    scratch = Path(tempfile.mkdtemp(prefix="cnn-studio-screenshots-"))
    os.environ["CNN_STUDIO_RUNS"] = str(scratch / "runs")
    os.environ["CNN_STUDIO_SETTINGS"] = str(scratch / "settings.ini")
    from PySide6.QtCore import QPoint, QPointF, Qt
    from PySide6.QtGui import QAction
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import (QAbstractSpinBox, QApplication, QCheckBox, QComboBox, QDialog,
                                   QDockWidget, QLabel, QListWidget, QProgressBar, QPushButton,
                                   QTableWidget, QTabWidget, QTreeWidget, QWidget)

    from gui.app import set_up_process
    from gui.main_window import MainWindow
    from gui.widgets.probability_bars import ProbabilityBars

    out.mkdir(parents=True, exist_ok=True)
    app = QApplication(sys.argv[:1])
    set_up_process()  # what main() does for a person: theme, threads, GC, warm-up
    window = MainWindow()
    window.resize(*size)
    window.show()
    QTest.qWaitForWindowExposed(window)

    def find(cls: type, name: str) -> QWidget:
        widget = window.findChild(cls, name)
        if widget is None:
            raise LookupError(f"no {cls.__name__} named {name}")
        return widget

    def wait_until(ready: Callable[[], bool], timeout: float = RUN_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            if time.monotonic() > deadline:
                status = find(QLabel, "statusMessage").text()
                raise TimeoutError(f"the window did not get there in time; it says: {status}")
            QTest.qWait(50)

    def click(widget: QWidget, pos: QPoint | None = None) -> None:
        QTest.mouseClick(widget, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                         pos if pos is not None else widget.rect().center())

    def choose(name: str, data: object) -> None:
        combo = find(QComboBox, name)
        combo.setCurrentIndex(combo.findData(data))

    def set_value(name: str, value: float) -> None:
        find(QAbstractSpinBox, name).setValue(value)

    def save(widget: QWidget, name: str) -> None:
        QTest.qWait(300)  # let queued repaints land
        widget.grab().save(str(out / f"{name}.png"))

    def shoot_photos(folder: Path) -> None:
        window.files.open_image_folder(folder)
        wait_until(lambda: window.config_panel.data.preview_data is not None, 300)
        set_value("epochsSpin", 10)
        set_value("batchSizeSpin", 32)
        set_value("augmentShiftSpin", 3)
        find(QCheckBox, "augmentFlipCheck").setChecked(True)
        run_to_end()
        show_tab("Filters")
        save(window, "photos")
        pictures = [sorted(d.glob("*.jpg"))[-1] for d in sorted(folder.iterdir())][:3]
        window.inside.predict_pictures(pictures)
        bars = find(ProbabilityBars, "predictionProbabilities")
        wait_until(lambda: bars.probabilities is not None, 120)
        save(inside, "predictions")

    tabs = find(QTabWidget, "panelTabs")
    inside = tabs.parentWidget()  # the tabs with the time-lapse bar below them
    start, pause = find(QPushButton, "startButton"), find(QPushButton, "pauseButton")
    progress = find(QProgressBar, "trainingProgress")

    def start_run() -> None:
        click(start)
        wait_until(lambda: not start.isEnabled(), 30)

    def run_to_end() -> None:
        start_run()
        wait_until(start.isEnabled)
        QTest.qWait(500)  # the last epoch's details reach the panels

    def draw_seven() -> None:
        canvas = find(QWidget, "drawingCanvas")
        w, h = canvas.width(), canvas.height()
        corners = [QPointF(x * w, y * h) for x, y in ((0.25, 0.22), (0.72, 0.22), (0.42, 0.84))]
        QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                         corners[0].toPoint())
        for a, b in zip(corners, corners[1:]):
            for step in range(1, 11):  # a stroke, not a jump
                QTest.mouseMove(canvas, (a + (b - a) * step / 10).toPoint())
        QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                           corners[-1].toPoint())

    def pick_mistake() -> None:
        table = find(QTableWidget, "confusionMatrixView")
        if table.rowCount() == 0:
            return
        cells = [(int(table.item(t, p).text()), t, p) for t in range(table.rowCount())
                 for p in range(table.rowCount()) if t != p]
        _, t, p = max(cells)
        table.scrollToItem(table.item(t, p))
        click(table.viewport(), table.visualItemRect(table.item(t, p)).center())
        listed = find(QListWidget, "misclassifiedList")
        click(listed.viewport(), listed.visualItemRect(listed.item(0)).center())

    def preferred_inputs(when: str) -> None:
        """The Filters panel showing what each filter wants: conv1 during, conv2 after."""
        layers = find(QComboBox, "filterLayerCombo")
        layers.setCurrentIndex(0 if when == "during" else min(1, layers.count() - 1))
        choose("filterShowCombo", True)
        preferred = window.filters_panel.preferred
        wait_until(lambda: preferred.grid is not None
                   and preferred.shown_for[0] == layers.currentData(), 120)
        save(inside, f"preferred-inputs-{when}")
        choose("filterShowCombo", False)
        layers.setCurrentIndex(0)

    def class_report(when: str) -> None:
        """The Errors panel's other pages: the report per class and the hardest images."""
        for name in ("errorsLeftTabs", "errorsListTabs"):
            find(QTabWidget, name).setCurrentIndex(1)
        hardest = find(QListWidget, "topLossesList")
        click(hardest.viewport(), hardest.visualItemRect(hardest.item(0)).center())
        bars = find(ProbabilityBars, "errorsSaliencyViewProbabilities")
        before = bars.probabilities
        wait_until(lambda: bars.probabilities is not before, 120)
        save(inside, f"class-report-{when}")
        for name in ("errorsLeftTabs", "errorsListTabs"):
            find(QTabWidget, name).setCurrentIndex(0)

    def switch_filters_off() -> None:
        """All filters on, rank them, then switch off the three that matter most."""
        accuracy = find(QLabel, "ablationAccuracy")
        click(find(QPushButton, "ablationClear"))
        wait_until(lambda: "every filter on" in accuracy.text(), 120)
        ranking = find(QProgressBar, "importanceProgress")
        click(find(QPushButton, "importanceButton"))
        wait_until(lambda: not ranking.isVisible(), 300)
        ranked = find(QListWidget, "filterImportanceList")
        grid = window.findChild(QWidget, "ablationFilters")
        picked = sorted(int(ranked.item(row).text().split()[1]) for row in range(3))
        for index in picked:
            click(grid.viewport(), grid.tile_centre(index))
        wanted = f"filters {', '.join(map(str, picked))} of"
        wait_until(lambda: wanted in accuracy.text(), 120)

    def show_tab(title: str) -> None:
        bar = tabs.tabBar()
        index = next(i for i in range(tabs.count()) if tabs.tabText(i) == title)
        click(bar, bar.tabRect(index).center())

    def answer(name: str) -> object | None:
        """A tab's answer so far (None: none yet, or its tab not shown yet, so not built)."""
        explainer = name == "convExplainerView"
        widget = window.findChild(QWidget if explainer else ProbabilityBars, name)
        return None if widget is None else getattr(
            widget, "explained" if explainer else "probabilities")

    def grab_panels(when: str) -> None:
        for index in range(tabs.count()):
            title = tabs.tabText(index)
            if title == "Predictions":  # pictures of one's own: --photos takes it
                continue
            name = ANSWERS.get(title)
            before = answer(name) if name else None
            show_tab(title)
            if title == "Errors":
                pick_mistake()
            if title == "Embedding":
                scatter = window.inside.deeper.embedding.scatter
                wait_until(lambda: scatter.data is not None and len(scatter.data) > 0, 120)
            if title == "Ablation":
                switch_filters_off()
            if name:  # the network's answer, computed off the GUI thread
                wait_until(lambda: answer(name) is not None and answer(name) is not before, 120)
            save(inside, f"{title.lower().replace(' ', '-')}-{when}")
            if title == "Filters":
                preferred_inputs(when)
            if title == "Errors":
                class_report(when)

    choose("architectureCombo", "simplecnn")
    choose("deviceCombo", "cpu")
    if photos is not None:
        shoot_photos(photos)
        window.close()
        app.quit()
        return
    set_value("epochsSpin", 6)
    set_value("batchSizeSpin", 32)
    save(window, "idle")
    show_tab("Draw")
    draw_seven()
    show_tab("Filters")

    start_run()
    wait_until(lambda: progress.value() >= progress.maximum() // 3)  # two of six epochs
    save(window, "training")
    click(pause)
    wait_until(lambda: "Resume" in pause.text() or start.isEnabled(), 30)
    if start.isEnabled():
        raise RuntimeError("the run ended before it could be paused for the 'during' shots")
    grab_panels("during")
    show_tab("Filters")
    click(pause)
    wait_until(start.isEnabled)
    QTest.qWait(500)
    save(window, "finished")
    grab_panels("after")
    show_tab("Filters")

    # Compare: the same network trained with SGD, both ticked in the Runs panel.
    choose("optimizerCombo", "sgd")
    set_value("learningRateSpin", 0.02)
    set_value("seedSpin", 1)
    run_to_end()
    runs_dock = find(QDockWidget, "runsDock")
    runs_dock.raise_()
    tree = find(QTreeWidget, "runsList")
    items = [tree.topLevelItem(i) for i in range(tree.topLevelItemCount())]
    for item in items:
        item.setCheckState(0, Qt.CheckState.Checked)
    save(window, "runs-compare")

    def trigger(text: str) -> None:
        action = next(a for a in runs_dock.findChildren(QAction) if a.text() == text)
        action.trigger()

    trigger("Compare settings")
    dialog = next(d for d in runs_dock.findChildren(QDialog) if d.isVisible())
    save(dialog, "runs-diff")
    dialog.close()
    for item in items:
        item.setCheckState(0, Qt.CheckState.Unchecked)

    # Branch: the first run, continued from its last checkpoint with SGD and more epochs.
    first = items[-1]  # the list is newest first
    click(tree.viewport(), tree.visualItemRect(first).center())
    trigger("Branch from last checkpoint")
    wait_until(lambda: window.session.continuation is not None, 60)
    choose("optimizerCombo", "sgd")
    set_value("learningRateSpin", 0.01)
    set_value("epochsSpin", 10)
    run_to_end()
    save(window, "branched")
    window.close()
    app.quit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default="resources/screenshots", type=Path)
    parser.add_argument("--size", action="append", metavar="WxH",
                        help=f"window size, repeatable (default: {' and '.join(DEFAULT_SIZES)})")
    parser.add_argument("--photos", type=Path, metavar="FOLDER",
                        help="only the pictures of training on this folder of photos")
    parser.add_argument("--only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = args.size or ([README_SIZE] if args.photos else list(DEFAULT_SIZES))
    if args.only:  # a child process: one size, straight into OUT
        shoot(args.out, parse_size(sizes[0]), args.photos)
        return
    for size in sizes:
        folder = args.out if size == README_SIZE else args.out / size
        print(f"{size} -> {folder}", flush=True)
        photos = ["--photos", str(args.photos.resolve())] if args.photos else []
        subprocess.run([sys.executable, __file__, "--only", "--size", size, *photos,
                        str(folder)], check=True)


if __name__ == "__main__":
    main()
