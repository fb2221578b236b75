"""File > Export for whole runs: metrics as CSV, the model as ONNX, TensorBoard logs and an
experiment bundle. Each export runs on a helper thread (ONNX export and its check take a
few seconds); an export whose optional packages are missing says how to install them."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMenu, QMessageBox

from cnn_core.export import exporters as export

from ..widgets.png_export import png_bytes


def _label(source: Path) -> str:
    """A file name stem for what is exported: the run folder's or the checkpoint's name."""
    return source.stem if source.suffix == ".pt" else source.name


class ExportMenu:
    """Adds the run exports to ``menu`` and carries them out for ``window``."""

    def __init__(self, window: QMainWindow, menu: QMenu) -> None:
        self.window = window
        self.csv_action = self._add(menu, "Metrics as &CSV…", self.export_csv, None,
                                    "The per-epoch metrics of the ticked runs (or the "
                                    "selected one), one row per epoch per run")
        self.onnx_action = self._add(menu, "Model as &ONNX…", self.export_onnx, "onnx",
                                     "The selected run's best model, checked with onnxruntime")
        self.tensorboard_action = self._add(menu, "Tensor&Board logs…", self.export_tensorboard,
                                            "tensorboard",
                                            "Scalars and filter images of the selected run")
        self.bundle_action = self._add(menu, "Experiment &bundle…", self.export_bundle, None,
                                       "One zip: config, metrics, plots, checkpoint and ONNX")

    def _add(self, menu: QMenu, text: str, slot: Callable[[], None], needs: str | None,
             tip: str) -> QAction:
        missing = export.missing_dependencies(needs) if needs else []
        if missing:
            text = f"{text.rstrip('…')} (needs {', '.join(missing)})…"
            tip = f"Install the optional packages first: {export.INSTALL_HINT}"
            slot = lambda _checked=False, m=missing: self._explain_missing(m)  # noqa: E731
        act = QAction(text, self.window)
        act.setStatusTip(tip)
        act.setToolTip(tip)
        act.triggered.connect(slot)
        menu.addAction(act)
        return act

    def _explain_missing(self, missing: list[str]) -> None:
        QMessageBox.information(
            self.window, "Optional packages needed",
            f"This export needs {', '.join(missing)}, which are not installed.\n\n"
            f"Install them with:\n    {export.INSTALL_HINT}\nthen restart CNN Studio.")

    # -- the exports ---------------------------------------------------------------------

    def _source(self) -> Path | None:
        run = self.window.selected_run()
        if run is None:
            self.window.status.show("Train or open a run, or select one in the Runs panel, "
                                    "first.", error=True)
        return run

    def _ask(self, title: str, default: str, filters: str) -> Path | None:
        path, _ = QFileDialog.getSaveFileName(self.window, title,
                                              str(Path.home() / default), filters)
        return Path(path) if path else None

    def export_csv(self) -> None:
        runs = self.window.ticked_runs()
        if not runs:
            run = self._source()
            if run is None:
                return
            runs = [run]
        path = self._ask("Export metrics", "metrics.csv", "CSV files (*.csv)")
        if path is not None:
            self._run(lambda: export.export_csv(runs, path),
                      lambda rows: f"Saved {rows} rows ({len(runs)} run(s)) to {path}")

    def export_onnx(self) -> None:
        run = self._source()
        path = run and self._ask("Export ONNX", f"{_label(run)}.onnx", "ONNX models (*.onnx)")
        if run is not None and path is not None:
            self._run(lambda: export.export_onnx(export.resolve_source(run)[1], path),
                      lambda diff: f"Saved {path}; onnxruntime agrees with PyTorch to {diff:.1e}")

    def export_tensorboard(self) -> None:
        run = self._source()
        if run is None:
            return
        folder = QFileDialog.getExistingDirectory(self.window, "TensorBoard log folder",
                                                  str(Path.home()))
        if folder:
            out = Path(folder) / _label(run)
            self._run(lambda: export.export_tensorboard(run, out),
                      lambda written: f"Saved TensorBoard logs to {written}: "
                                      f"tensorboard --logdir {folder}")

    def export_bundle(self) -> None:
        run = self._source()
        path = run and self._ask("Export experiment bundle", f"{_label(run)}.zip",
                                 "Zip archives (*.zip)")
        if run is None or path is None:
            return
        # The plots as the window draws them (rendered here, in the GUI thread) when it
        # shows this run; else the bundle draws its own from the run's files.
        images = None
        if self.window.is_shown(run):
            tab = self.window.tabs
            panel = re.sub(r"[^a-z0-9]+", "-", tab.tabText(tab.currentIndex()).lower())
            images = {"curves.png": png_bytes(self.window.curves),
                      f"{panel.strip('-') or 'panel'}.png": png_bytes(tab.currentWidget())}
        self._run(lambda: export.export_bundle(run, path, images),
                  lambda written: f"Saved the experiment bundle {written}")

    def _run(self, job: Callable[[], Any], done: Callable[[Any], str]) -> None:
        window = self.window
        window.status.show("Exporting…")
        window.session.jobs.run(
            lambda _state: job(), on_done=lambda result: window.status.show(done(result)),
            on_error=self._failed)

    def _failed(self, exc: Exception) -> None:
        self.window.status.show("Could not export.", error=True)  # not "Exporting…" still
        self.window.error_banner.show_message(f"Could not export: {exc}")
