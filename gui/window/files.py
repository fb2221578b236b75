"""What the window reads from and writes to files a person picks: checkpoints to open or
branch from (dialogs, drag and drop) and PNG or GIF exports of what is on screen."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMainWindow, QWidget

from cnn_core.train.launch import RunKind

from ..widgets.png_export import export_png

CHECKPOINTS = "Checkpoints (*.pt);;All files (*)"


def dropped_path(event: QDragEnterEvent | QDropEvent) -> Path | None:
    """The one local checkpoint or folder being dropped, if that is what it is."""
    urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
    if len(urls) != 1 or not urls[0].isLocalFile():
        return None
    path = Path(urls[0].toLocalFile())
    return path if path.is_dir() or path.suffix == ".pt" else None


class FileActions:
    def __init__(self, window: QMainWindow) -> None:
        self.window = window

    def open_dialog(self) -> None:
        w = self.window
        path, _ = QFileDialog.getOpenFileName(w, "Open checkpoint", str(w.runs.folder),
                                              CHECKPOINTS)
        if path:
            w.open_path(path)

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
