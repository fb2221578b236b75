"""File > Export for whole runs: metrics as CSV, the model as ONNX, TensorBoard logs and an
experiment bundle. Each export runs on a helper thread (ONNX export and its check take a
few seconds); an export whose optional packages are missing says how to install them."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox, QTabWidget, QWidget

from cnn_core.export import exporters as export

from ..panels.runs import RunsPanel
from ..session.run_session import RunSession
from ..widgets.png_export import png_bytes
from .banners import ErrorBanner
from .status_bar import StatusBarView


def _label(source: Path) -> str:
    """A file name stem for what is exported: the run folder's or the checkpoint's name."""
    return source.stem if source.suffix == ".pt" else source.name


class ExportMenu:
    """Adds the run exports to ``menu`` and carries them out, on the session's jobs lane,
    for the run the Runs panel selects (or ticks), else the session's; the bundle takes the
    curves and the panel shown in ``tabs`` as the window draws them."""

    def __init__(self, parent: QWidget, menu: QMenu, session: RunSession, runs_panel: RunsPanel,
                 curves: QWidget, tabs: QTabWidget, status: StatusBarView,
                 banner: ErrorBanner) -> None:
        self.parent = parent  # of the dialogs and actions
        self.session, self.runs_panel = session, runs_panel
        self.curves, self.tabs = curves, tabs
        self.status, self.banner = status, banner
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
        act = QAction(text, self.parent)
        act.setStatusTip(tip)
        act.setToolTip(tip)
        act.triggered.connect(slot)
        menu.addAction(act)
        return act

    def _explain_missing(self, missing: list[str]) -> None:
        QMessageBox.information(
            self.parent, "Optional packages needed",
            f"This export needs {', '.join(missing)}, which are not installed.\n\n"
            f"Install them with:\n    {export.INSTALL_HINT}\nthen restart CNN Studio.")

    # -- what exports are about ----------------------------------------------------------

    def selected_run(self) -> Path | None:
        """The run selected in the Runs panel, else the last run trained or opened here,
        else the checkpoint opened."""
        summary = self.runs_panel.selected_run()
        if summary is not None:
            return summary.path
        return self.session.last_run or self.session.opened

    def ticked_runs(self) -> list[Path]:
        return [r.path for r in self.runs_panel.checked_runs()]

    def is_shown(self, run: Path) -> bool:
        """Whether the plots and panels show ``run``, and only it."""
        return run == self.session.last_run and not self.ticked_runs()

    # -- the exports ---------------------------------------------------------------------

    def _source(self) -> Path | None:
        run = self.selected_run()
        if run is None:
            self.status.show("Train or open a run, or select one in the Runs panel, first.",
                             error=True)
        return run

    def _ask(self, title: str, default: str, filters: str) -> Path | None:
        """A file chosen outside every run; Qt's dialog has asked before replacing one."""
        path, _ = QFileDialog.getSaveFileName(self.parent, title,
                                              str(Path.home() / default), filters)
        if not path:
            return None
        try:
            return export.check_target(path, replace=True)
        except export.ExportError as refused:
            self._failed(refused)
            return None

    def export_csv(self) -> None:
        runs = self.ticked_runs()
        if not runs:
            run = self._source()
            if run is None:
                return
            runs = [run]
        path = self._ask("Export metrics", "metrics.csv", "CSV files (*.csv)")
        if path is not None:
            self._run(lambda: export.export_csv(runs, path, replace=True),
                      lambda rows: f"Saved {rows} rows ({len(runs)} run(s)) to {path}")

    def export_onnx(self) -> None:
        run = self._source()
        path = run and self._ask("Export ONNX", f"{_label(run)}.onnx", "ONNX models (*.onnx)")
        if run is not None and path is not None:
            self._run(lambda: export.export_onnx(export.resolve_source(run)[1], path,
                                                 replace=True),
                      lambda diff: f"Saved {path}; onnxruntime agrees with PyTorch to {diff:.1e}")

    def export_tensorboard(self) -> None:
        run = self._source()
        if run is None:
            return
        folder = QFileDialog.getExistingDirectory(self.parent, "TensorBoard log folder",
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
        if self.is_shown(run):
            tab = self.tabs
            panel = re.sub(r"[^a-z0-9]+", "-", tab.tabText(tab.currentIndex()).lower())
            images = {"curves.png": png_bytes(self.curves),
                      f"{panel.strip('-') or 'panel'}.png": png_bytes(tab.currentWidget())}
        self._run(lambda: export.export_bundle(run, path, images, replace=True),
                  lambda written: f"Saved the experiment bundle {written}")

    def _run(self, job: Callable[[], Any], done: Callable[[Any], str]) -> None:
        self.status.show("Exporting…")
        self.session.jobs.run(
            lambda _state: job(), on_done=lambda result: self.status.show(done(result)),
            on_error=self._failed)

    def _failed(self, exc: Exception) -> None:
        self.status.show("Could not export.", error=True)  # not "Exporting…" still
        self.banner.show_message(f"Could not export: {exc}")
