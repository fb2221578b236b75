"""The status bar: what the run is doing, how far it is, and what happened last."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar

from cnn_core.runs.store import RunError, read_summary
from cnn_core.train.callbacks import BatchProgress, RunStatus, best_epoch

from ..session.describe import epochs_text, format_duration
from ..session.run_session import RunSession
from ..training.controller import RunState
from ..training.messages import Preparing, RunInfo
from ..training.watch_task import WatchProgress

STATUS_INTERVAL = 0.5  # seconds between progress texts: faster, numbers cannot be read
AGE_INTERVAL_MS = 1000  # how often a watched run's "last update" age is rewritten


def age_text(seconds: float) -> str:
    """``12 s``, ``3 min``, ``2 h``: how long ago, as a person says it."""
    seconds = max(int(seconds), 0)
    return (f"{seconds} s" if seconds < 60 else f"{seconds // 60} min" if seconds < 3600
            else f"{seconds // 3600} h")


class StatusBarView:
    """Fills ``bar`` with a message (``statusMessage``) and a progress bar
    (``trainingProgress``) from what ``session`` reports."""

    def __init__(self, bar: QStatusBar, session: RunSession) -> None:
        self.session = session
        self.label = QLabel(objectName="statusMessage")
        self.progress = QProgressBar(objectName="trainingProgress")
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setFormat("%p%")
        self.progress.setFixedWidth(220)
        bar.addWidget(self.label, 1)
        bar.addPermanentWidget(self.progress)
        self._shown_at = 0.0
        self._first_step: int | None = None
        self._idle = True
        # only while watching: the app runs no periodic timer while it trains
        self._age_timer = QTimer(bar, interval=AGE_INTERVAL_MS)
        self._age_timer.timeout.connect(self._show_watch)
        session.status.connect(self.show)
        session.runStarted.connect(self._on_run_started)
        session.batchProgress.connect(self._on_batch_progress)
        session.preparing.connect(self._on_preparing)
        session.stateChanged.connect(self._on_state_changed)
        session.runFinished.connect(self._on_run_finished)
        session.watchingChanged.connect(self._on_watching_changed)
        session.watchProgress.connect(self._show_watch)
        session.watchFinished.connect(self._on_watch_finished)

    def show(self, text: str, error: bool = False) -> None:
        self.label.setText(text)
        if error != self.label.property("error"):  # restyling is costly: only on change
            self.label.setProperty("error", error)
            self.label.setStyleSheet("color: #c62828;" if error else "")

    def _set_progress(self, value: int) -> None:
        if value != self.progress.value():  # setValue repaints at once, even when unchanged
            self.progress.setValue(value)

    def _on_run_started(self, info: RunInfo) -> None:
        if info.run_dir is None or self.session.watching is not None:
            return
        start = f" from epoch {info.start_epoch}" if info.start_epoch else ""
        self.show(f"Training {info.model_name} ({info.parameters:,} parameters) on "
                  f"{info.dataset.display_name}{start}: {info.train_size:,} images, "
                  f"device {info.device}")

    def _on_batch_progress(self, p: BatchProgress) -> None:
        if self.session.watching is not None:  # the epochs tell how far it is
            return
        if self._first_step is None:  # a resumed run starts part-way through
            self._first_step = (p.epoch - 1) * p.num_batches + p.batch - len(p.losses)
        now = time.monotonic()
        if now - self._shown_at < STATUS_INTERVAL and p.batch != p.num_batches:
            return
        self._shown_at = now
        done = (p.epoch - 1) * p.num_batches + p.batch
        total = p.epochs * p.num_batches
        self._set_progress(int(1000 * done / total))
        rate = (done - self._first_step) / max(p.elapsed, 1e-9)  # batches per second
        loss = sum(p.losses) / max(len(p.losses), 1)
        paused = " · paused" if self.session.state == RunState.PAUSED else ""
        self.show(f"Epoch {p.epoch}/{p.epochs} · batch {p.batch}/{p.num_batches} · "
                  f"loss {loss:.4f} · {p.images_per_sec:,.0f} img/s · elapsed "
                  f"{format_duration(now - self.session.started_at)} · "
                  f"ETA {format_duration((total - done) / max(rate, 1e-9))}{paused}")

    def _on_preparing(self, p: Preparing) -> None:
        now = time.monotonic()
        if now - self._shown_at >= STATUS_INTERVAL or p.done == p.total:
            self._shown_at = now
            self.show(p.text)
            self._set_progress(int(1000 * p.done / p.total) if p.total else 0)

    def _on_state_changed(self, state: RunState) -> None:
        if state == RunState.RUNNING and self._idle:  # a run (or a checkpoint shown) begins;
            self._first_step = None  # overlaying runs leaves the last run's progress
            self._set_progress(0)
        self._idle = state == RunState.IDLE
        if state == RunState.PAUSED:
            self.show("Paused. Edit the learning rate, optimizer, batch size, epochs or "
                      "schedule if you like; Resume (Ctrl+P) continues with them, Stop (Esc) "
                      "ends the run.")

    def _on_run_finished(self, status: RunStatus) -> None:
        history = self.session.history
        if status == RunStatus.INSPECTED:
            last = history[-1] if history else None
            done = (f"epoch {last.epoch}, test accuracy {last.test_acc:.2%}" if last
                    else "untrained")
            self._set_progress(0)
            self.show(f"Opened {self.session.opened} ({done}). Explore it in the panels, or "
                      "branch from it (Ctrl+B).")
            return
        best = best_epoch(history)
        summary = (f" Best test accuracy {best.test_acc:.2%} at epoch {best.epoch}."
                   if best else "")
        elapsed = format_duration(time.monotonic() - self.session.started_at)
        n = epochs_text(len(history))
        if status == RunStatus.COMPLETED:
            self._set_progress(1000)
            self.show(f"Finished {n} in {elapsed}.{summary}")
        elif status == RunStatus.STOPPED:
            self.show(f"Stopped after {n} ({elapsed}).{summary}")
        elif status == RunStatus.STOPPED_EARLY:
            self.show(f"{_note(self.session.last_run, 'Stopped early')} ({elapsed}).")
        else:
            self.show(f"Run failed after {n}.{summary}", error=True)

    # -- a run written by another process --------------------------------------------------

    def _on_watching_changed(self, run: Path | None) -> None:
        if run is None:
            self._age_timer.stop()
        else:
            self._age_timer.start()

    def _show_watch(self, _progress: WatchProgress | None = None) -> None:
        """"Watching <run> · epoch k/N · last update 12 s ago", once the run is found."""
        p = self.session.watch_progress
        if p is None:
            return  # still waiting for a run to start: the session says so
        self._set_progress(int(1000 * min(p.epochs_done / max(p.epochs, 1), 1)))
        note = f" · {p.note}" if p.note else ""
        self.show(f"Watching {p.name} · epoch {p.epochs_done}/{p.epochs} · last update "
                  f"{age_text(time.time() - p.updated)} ago{note}")

    def _on_watch_finished(self, run: Path, status: RunStatus | None) -> None:
        p = self.session.watch_progress
        name = p.name if p is not None else str(run)
        best = best_epoch(self.session.history)
        summary = (f", best test accuracy {best.test_acc:.2%} at epoch {best.epoch}"
                   if best else "")
        n = epochs_text(p.epochs_done if p is not None else len(self.session.history))
        if status is None:
            self.show(f"Could not watch {run}.", error=True)
        elif status == RunStatus.RUNNING:
            self.show(f"Stopped watching {name}: it goes on in its own process." if p else
                      f"Stopped waiting for a run in {run}.")
        elif status == RunStatus.COMPLETED:
            self._set_progress(1000)
            self.show(f"The run {name} finished: {n}{summary}.")
        elif status == RunStatus.STOPPED:
            self.show(f"The run {name} was stopped after {n}{summary}.")
        elif status == RunStatus.STOPPED_EARLY:
            self.show(f"The run {name}: {_note(run, 'stopped early')}.")
        elif status == RunStatus.PRUNED:
            self.show(f"The sweep pruned the run {name} after {n}{summary}: it was "
                      "behind the other trials at that epoch.")
        else:
            self.show(f"The run {name} failed after {n}{summary}.", error=True)


def _note(run: Path | None, fallback: str) -> str:
    """What a run's summary says of how it ended ("stopped early at epoch 9: ..."), as a
    sentence."""
    try:
        note = read_summary(run).note if run is not None else ""
    except RunError:
        note = ""
    note = note or fallback
    return note[0].upper() + note[1:]
