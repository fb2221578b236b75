"""What the window reads from and writes to files a person picks: checkpoints to open or
branch from (dialogs, drag and drop), pictures to predict, and PNG or GIF exports of what
is on screen."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QFileDialog, QInputDialog, QWidget

from cnn_core.export.exporters import outside_runs
from cnn_core.nn.spec import load_spec
from cnn_core.runs.store import is_run_dir
from cnn_core.train.launch import RunKind

from ..panels.config import ConfigPanel
from ..panels.editor import SPEC_FILES
from ..panels.inside_views import InsideViews
from ..session.run_session import RunSession
from ..session.runs_model import RunsModel
from ..widgets.png_export import export_png
from .banners import ErrorBanner
from .status_bar import StatusBarView

CHECKPOINTS = "Checkpoints (*.pt);;All files (*)"
PICTURES = ("Pictures (*.png *.jpg *.jpeg *.bmp *.gif *.webp "
            "*.PNG *.JPG *.JPEG *.BMP *.GIF *.WEBP);;All files (*)")


def read_spec(path: str | Path) -> dict[str, Any]:
    """A network spec file's JSON as written (unnamed layers stay unnamed, left-out settings
    left out), once checked; raises SpecError naming the file and what is wrong."""
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
    """The File menu's dialogs and what is dropped on the window. It is given what it acts
    on: the session and the runs (what to open, watch or branch from), the configuration
    (where pictures and datasets go), the inside views (pictures to predict, panels and the
    time-lapse to export) and where to say how it went."""

    def __init__(self, parent: QWidget, session: RunSession, runs: RunsModel,
                 config: ConfigPanel, inside: InsideViews, status: StatusBarView,
                 banner: ErrorBanner, open_architecture: Callable[[Path], None],
                 show_config: Callable[[], None]) -> None:
        self.parent = parent  # of the dialogs
        self.session, self.runs, self.config, self.inside = session, runs, config, inside
        self.status, self.banner = status, banner
        self.open_architecture = open_architecture
        self.show_config = show_config
        self._reading: str | None = None  # the folder the status bar says is being read
        config.picturesRead.connect(self._on_pictures_read)

    def open_path(self, path: str | Path) -> None:
        """Inspect a checkpoint or run folder in every panel, without training."""
        self.session.open(path, self.config.data_dir)

    def watch_run(self, path: str | Path) -> None:
        """Follow in every panel a run that another process writes in ``path``."""
        self.session.watch(path, self.config.data_dir)

    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.parent, "Open checkpoint",
                                              str(self.runs.folder), CHECKPOINTS)
        if path:
            self.open_path(path)

    def open_dropped(self, path: Path) -> None:
        """A network spec, a folder of pictures, or a checkpoint or run to inspect."""
        if path.suffix == ".json":
            self.open_architecture(path)
        elif path.is_dir() and not is_run_dir(path):
            self.open_image_folder(path)
        else:
            self.open_path(path)

    def open_image_folder_dialog(self) -> None:
        path = QFileDialog.getExistingDirectory(self.parent,
                                                "Open image folder (ROOT/<class>/<picture>)")
        if path:
            self.open_image_folder(path)

    def open_image_folder(self, path: str | Path) -> None:
        """Add a folder of pictures to the datasets and choose it."""
        if not self.config.add_image_folder(path):
            self.banner.show_message("Cannot change the dataset now: a run is training, "
                                     "paused or about to resume.")
            return
        self.show_config()
        self._reading = str(path)
        self.status.show(f"Reading the pictures in {path}…")

    def _on_pictures_read(self, folder: str, problem: str) -> None:
        """The status bar said the pictures were being read: now say how that ended."""
        if self._reading is None or Path(folder).resolve() != Path(self._reading).resolve():
            return
        self._reading = None
        if problem:
            self.status.show(f"Could not read the pictures in {folder}: {problem}", error=True)
        else:
            self.status.show(f"Read the pictures in {folder}.")

    def watch_dialog(self) -> None:
        path = QFileDialog.getExistingDirectory(self.parent, "Watch run folder",
                                                str(self.runs.folder))
        if path:
            self.watch_run(path)

    def open_architecture_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.parent, "Open architecture", "", SPEC_FILES)
        if path:
            self.open_architecture(Path(path))

    def predict_dialog(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self.parent, "Predict image", "", PICTURES)
        if paths:
            self.inside.predict_pictures(paths)

    def branch_dialog(self) -> None:
        start = self.session.opened or self.runs.folder
        path, _ = QFileDialog.getOpenFileName(self.parent, "Branch from checkpoint", str(start),
                                              CHECKPOINTS)
        if path:
            self.session.prepare_continuation(RunKind.BRANCH, path)

    def export_panel(self, widget: QWidget | None = None) -> None:
        """``widget`` (the panel shown) as a PNG, at a scale the person picks."""
        widget = widget or self.inside.tabs.currentWidget()
        scale, ok = QInputDialog.getDouble(self.parent, "Export PNG",
                                           "Scale (1 = as on screen):", 2.0, 0.25, 8.0, 2)
        if not ok:
            return
        path, _ = QFileDialog.getSaveFileName(self.parent, "Export PNG", "cnn-studio.png",
                                              "PNG images (*.png)")
        if path:
            try:
                export_png(widget, outside_runs(path), scale)
                self.status.show(f"Saved {path}")
            except (OSError, ValueError) as exc:
                self.banner.show_message(f"Could not export: {exc}")

    def export_timelapse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self.parent, "Export time-lapse", "filters.gif",
                                              "Animated GIF (*.gif);;PNG series (*.png)")
        if path:
            try:
                paths = self.inside.export_timelapse(outside_runs(path))
                self.status.show(f"Saved {len(paths)} file(s): {paths[0]}")
            except (OSError, ValueError) as exc:
                self.banner.show_message(f"Could not export the time-lapse: {exc}")
