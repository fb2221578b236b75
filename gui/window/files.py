"""What the window reads from and writes to files a person picks: checkpoints to open or
branch from (dialogs, drag and drop), pictures to predict, and PNG or GIF exports of what
is on screen."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMainWindow, QWidget

from cnn_core.nn.spec import SpecError, load_spec
from cnn_core.runs.store import is_run_dir
from cnn_core.train.launch import RunKind

from ..panels.editor import SPEC_FILES
from ..widgets.png_export import export_png

CHECKPOINTS = "Checkpoints (*.pt);;All files (*)"
PICTURES = ("Pictures (*.png *.jpg *.jpeg *.bmp *.gif *.webp "
            "*.PNG *.JPG *.JPEG *.BMP *.GIF *.WEBP);;All files (*)")
MAX_SPEC_BYTES = 1_000_000  # a spec is a few kilobytes; a bigger file was picked by mistake


def read_spec(path: str | Path) -> dict[str, Any]:
    """A network spec file's JSON as written (unnamed layers stay unnamed, left-out settings
    left out), once checked; raises SpecError naming the file and what is wrong."""
    try:
        size = Path(path).stat().st_size
    except OSError as exc:
        raise SpecError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    if size > MAX_SPEC_BYTES:
        raise SpecError(f"{path}: {size / 1e6:.0f} MB is far too big for a network spec "
                        "(a JSON file of a few kilobytes)")
    spec = load_spec(path)
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):  # changed since: what was checked
        return spec.to_json()


def dropped_path(event: QDragEnterEvent | QDropEvent) -> Path | None:
    """The one local checkpoint, folder or network spec being dropped, if that is what it is."""
    urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
    if len(urls) != 1 or not urls[0].isLocalFile():
        return None
    path = Path(urls[0].toLocalFile())
    return path if path.is_dir() or path.suffix in (".pt", ".json") else None


class FileActions:
    def __init__(self, window: QMainWindow) -> None:
        self.window = window

    def open_dialog(self) -> None:
        w = self.window
        path, _ = QFileDialog.getOpenFileName(w, "Open checkpoint", str(w.runs.folder),
                                              CHECKPOINTS)
        if path:
            w.open_path(path)

    def open_dropped(self, path: Path) -> None:
        """A network spec, a folder of pictures, or a checkpoint or run to inspect."""
        w = self.window
        if path.suffix == ".json":
            w.open_architecture(path)
        elif path.is_dir() and not is_run_dir(path):
            self.open_image_folder(path)
        else:
            w.open_path(path)

    def open_image_folder_dialog(self) -> None:
        path = QFileDialog.getExistingDirectory(self.window,
                                                "Open image folder (ROOT/<class>/<picture>)")
        if path:
            self.open_image_folder(path)

    def open_image_folder(self, path: str | Path) -> None:
        """Add a folder of pictures to the datasets and choose it."""
        w = self.window
        if not w.config_panel.data.combo.isEnabled():
            w.error_banner.show_message("Cannot change the dataset now: a run is training, "
                                        "paused or about to resume.")
            return
        w.config_panel.data.add_folder(path)
        w.config_dock.raise_()
        w.status.show(f"Reading the pictures in {path}…")

    def watch_dialog(self) -> None:
        w = self.window
        path = QFileDialog.getExistingDirectory(w, "Watch run folder", str(w.runs.folder))
        if path:
            w.watch_run(path)

    def open_architecture_dialog(self) -> None:
        w = self.window
        path, _ = QFileDialog.getOpenFileName(w, "Open architecture", "", SPEC_FILES)
        if path:
            w.open_architecture(path)

    def predict_dialog(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self.window, "Predict image", "", PICTURES)
        if paths:
            self.window.inside.predict_pictures(paths)

    def branch_dialog(self) -> None:
        w = self.window
        start = w.session.opened or w.runs.folder
        path, _ = QFileDialog.getOpenFileName(w, "Branch from checkpoint", str(start),
                                              CHECKPOINTS)
        if path:
            w.session.prepare_continuation(RunKind.BRANCH, path)

    def export_panel(self, widget: QWidget | None = None) -> None:
        w = self.window
        widget = widget or w.tabs.currentWidget()
        scale, ok = QInputDialog.getDouble(w, "Export PNG", "Scale (1 = as on screen):",
                                           2.0, 0.25, 8.0, 2)
        if not ok:
            return
        path, _ = QFileDialog.getSaveFileName(w, "Export PNG", "cnn-studio.png",
                                              "PNG images (*.png)")
        if path:
            try:
                export_png(widget, path, scale)
                w.status.show(f"Saved {path}")
            except (OSError, ValueError) as exc:
                w.error_banner.show_message(f"Could not export: {exc}")

    def export_timelapse(self) -> None:
        w = self.window
        path, _ = QFileDialog.getSaveFileName(w, "Export time-lapse", "filters.gif",
                                              "Animated GIF (*.gif);;PNG series (*.png)")
        if path:
            try:
                paths = w.inside.export_timelapse(path)
                w.status.show(f"Saved {len(paths)} file(s): {paths[0]}")
            except (OSError, ValueError) as exc:
                w.error_banner.show_message(f"Could not export the time-lapse: {exc}")
