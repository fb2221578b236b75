"""The part of the main window that deals with saved runs: resume or branch from a
checkpoint, open one for inspection (File > Open, drag and drop, the command line), the
runs folder, overlaying ticked runs, and what an export is about.

:class:`RunHistoryMixin` holds no state of its own; it works on the window's (the
controller, the curves, the panels, ``_continuation``, ``_last_run``, ``_opened``), and
exists to keep ``main_window.py`` to the window's layout and a run's life.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QFileDialog

from cnn_core.train.callbacks import EpochMetrics
from cnn_core.runs.checkpoint import CheckpointError, checkpoint_lr, load_checkpoint
from cnn_core.train.config import TrainConfig
from cnn_core.data.datasets import DATASETS, is_available
from cnn_core.runs.store import (RunError, RunSummary, is_run_dir, read_batches, read_metrics,
                           read_summary, run_of_checkpoint, shown_checkpoint)

from ..widgets.config_diff import describe_change
from ..panels.curves import Overlay


@dataclass
class Continuation:
    """A checkpoint the next Start continues from: the same run (resume) or a new one
    (branch, with ``source_run`` as its parent)."""

    kind: str  # "resume" or "branch"
    state: dict[str, Any]
    source_run: Path | None  # the run the checkpoint belongs to, if it is in a run folder
    name: str

    @property
    def epoch(self) -> int:
        return int(self.state["epoch"])


def _run_name(run: Path | None, fallback: str) -> str:
    if run is None:
        return fallback
    try:
        return read_summary(run).name
    except RunError:
        return run.name


class RunHistoryMixin:
    """Saved runs, for :class:`gui.main_window.MainWindow`."""

    def _show_history(self, state: dict[str, Any], run: Path | None) -> None:
        """Draw what a checkpoint already has (its epochs, batch losses and the changes
        made along the way), so that what follows continues the same curves."""
        self.history = [EpochMetrics(**m) for m in state["history"]]
        batches = None
        if run is not None:
            try:
                batches = read_batches(run).upto(int(state.get("global_step", 0)))
            except RunError:
                batches = None
        self.curves.load_history(self.history, batches)
        try:
            parent = read_summary(run).parent if run is not None else None
        except RunError:
            parent = None
        self._mark_changes(state.get("changes", []), run, parent)

    def prepare_continuation(self, kind: str, checkpoint: str | Path) -> bool:
        """Load a checkpoint that the next Start resumes (same run) or branches from (a new
        run); the settings a run may change become editable. False, with the reason shown,
        if the file is refused -- and then nothing changes."""
        if self.controller.busy:
            self.show_error("Stop the current run first.")
            return False
        checkpoint = Path(checkpoint)
        try:
            state = load_checkpoint(checkpoint)
        except CheckpointError as exc:
            self.show_error(f"Could not use the checkpoint: {exc}")
            return False
        config = TrainConfig.from_dict({**state["config"], "lr": checkpoint_lr(state)})
        run = run_of_checkpoint(checkpoint)
        name = _run_name(run, checkpoint.name)
        epoch = int(state["epoch"])
        config.epochs = max(config.epochs, epoch + 1) if kind == "resume" else epoch + 5
        self._continuation = Continuation(kind, state, run, name)
        self._hide_error()
        self.config_panel.set_config(config)
        verb = "Resume" if kind == "resume" else "Branch from"
        self.info_banner.setText(
            f"{verb} “{name}” at epoch {epoch} (learning rate {config.lr:g} by then): edit the "
            "learning rate, optimizer, batch size, epochs or schedule if you like, then press "
            "Start (Ctrl+Return).")
        self.info_banner.show()
        self.info_cancel.show()
        self.config_dock.raise_()
        self._update_controls()
        return True

    def cancel_continuation(self) -> None:
        self._continuation = None
        self.info_banner.hide()
        self.info_cancel.hide()
        self._update_controls()

    def open_path(self, path: str | Path) -> bool:
        """Inspect a checkpoint (or a run folder's best checkpoint) in every panel, without
        training. A refused file changes nothing; the reason is shown."""
        if self.controller.busy:
            self.show_error("Stop the current run before opening a checkpoint.")
            return False
        path = Path(path)
        if path.is_dir():
            if not is_run_dir(path):
                self.show_error(f"Could not open {path}: not a run folder or a checkpoint.")
                return False
            path = shown_checkpoint(path)
        try:
            state = load_checkpoint(path)
        except CheckpointError as exc:
            self.show_error(f"Could not open the checkpoint: {exc}")
            return False
        dataset = state["config"].get("dataset")
        data_dir = self.config_panel.data_dir
        if dataset not in DATASETS or not is_available(dataset, data_dir):
            self.show_error(f"Could not open {path.name}: it was trained on {dataset}, which "
                            f"is not in {data_dir}. Download it first (Configuration > Data).")
            return False
        config = TrainConfig.from_dict({**state["config"], "device": "cpu",
                                        "data_dir": str(data_dir)})
        self._hide_error()
        self.cancel_continuation()
        run = run_of_checkpoint(path)
        self._opened, self._last_run = path, run
        self._inspecting, self._last_lr = True, None
        self.curves.reset(max(len(state["history"]), 1))
        self._show_history(state, run)
        self._first_step = None
        self.set_status(f"Opening {path}…")
        self.controller.start(config, checkpoint=state, inspect=True, replay=run)
        return True

    def set_runs_dir(self, path: str | Path) -> None:
        path = Path(path)
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            self.show_error(f"Cannot use {path} as the runs folder: {exc.strerror or exc}")
            return
        self.runs_dir = path
        self.settings.set_runs_dir(path)
        self.runs_panel.set_runs_dir(path)
        self.set_status(f"Runs are now kept in {path}")

    def _open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open checkpoint", str(self.runs_dir),
                                              "Checkpoints (*.pt);;All files (*)")
        if path:
            self.open_path(path)

    def _branch_dialog(self) -> None:
        start = self._opened or self.runs_dir
        path, _ = QFileDialog.getOpenFileName(self, "Branch from checkpoint", str(start),
                                              "Checkpoints (*.pt);;All files (*)")
        if path:
            self.prepare_continuation("branch", path)

    def _on_run_deleted(self, run: Path) -> None:
        """Forget a deleted run wherever the window still points at it."""
        run = Path(run).resolve()
        cont = self._continuation
        if cont is not None and cont.source_run is not None and \
                cont.source_run.resolve() == run:
            self.cancel_continuation()
        if self._last_run is not None and self._last_run.resolve() == run:
            self._last_run = None
        if self._opened is not None and run in self._opened.resolve().parents:
            self._opened = None

    def _on_overlay_changed(self, runs: list[RunSummary]) -> None:
        """Draw the ticked runs. While no run is training, the plots show just them (or,
        with none ticked, the last run again); during a run, they are drawn behind it."""
        overlays = []
        for run in runs:
            try:
                overlays.append(Overlay(str(run.path), run.name, read_metrics(run.path),
                                        read_batches(run.path)))
            except RunError as exc:
                self.set_status(f"Cannot draw {run.name}: {exc}", error=True)
        if not self.controller.busy:
            self.curves.reset(None)
            if not overlays and self._last_run is not None:
                self._show_run_curves(self._last_run)
        self.curves.set_overlays(overlays)

    def _show_run_curves(self, run: Path) -> None:
        """A recorded run's curves with its markers, read back from its folder."""
        try:
            summary = read_summary(run)
            history, batches = read_metrics(run), read_batches(run)
        except RunError:
            return  # deleted or damaged since: the plots stay empty
        self.curves.reset(max(summary.epochs, len(history), 1))
        self.curves.load_history(history, batches)
        self._mark_changes(summary.changes, run, summary.parent)

    def _mark_changes(self, changes: list[dict[str, Any]], run: Path | None,
                      parent: dict[str, Any] | None) -> None:
        """A marker for each change of settings; a branch's point is marked with the run it
        came from and the edits it started with, as it was when the branch was trained."""
        at_branch = [c for c in changes if parent and c["step"] == parent["step"]]
        if parent and run is not None:
            text = f"branched from {_run_name(run.parent / parent['run'], parent['run'])}"
            edits = "".join(f"\n{describe_change(c)}" for c in at_branch)
            self.curves.add_marker(float(parent["epoch"]), text + edits)
        for change in changes:
            if change not in at_branch:
                self.curves.add_marker(change["epoch"], describe_change(change))

    def selected_run(self) -> Path | None:
        """What an export is about: the run selected in the Runs panel, else the last run
        trained or opened here, else the checkpoint opened."""
        summary = self.runs_panel.selected_run()
        if summary is not None:
            return summary.path
        return self._last_run or self._opened

    def is_shown(self, run: Path) -> bool:
        """Whether the plots and panels show ``run``, and only it."""
        return run == self._last_run and not self.ticked_runs()

    def ticked_runs(self) -> list[Path]:
        return [r.path for r in self.runs_panel.checked_runs()]

    # -- drag and drop ---------------------------------------------------------------------

    @staticmethod
    def _dropped_path(event: QDragEnterEvent | QDropEvent) -> Path | None:
        urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
        if len(urls) != 1 or not urls[0].isLocalFile():
            return None
        path = Path(urls[0].toLocalFile())
        return path if path.is_dir() or path.suffix == ".pt" else None

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt naming
        if self._dropped_path(event) is not None:
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt naming
        path = self._dropped_path(event)
        if path is not None:
            event.acceptProposedAction()
            self.open_path(path)
