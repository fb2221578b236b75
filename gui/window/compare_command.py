"""Compare inside: the window opens run A and shows run B beside it in the views inside the
network; compare mode ends when the window turns to another run (a run trained, watched or
opened)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject

from cnn_core.runs.store import enclosing_run

from ..panels.compare import CompareViews
from ..panels.runs import RunsPanel
from ..session.run_session import RunSession
from ..training.messages import RunInfo
from .banners import ErrorBanner


def _run_of(path: Path) -> Path:
    return (enclosing_run(path) or path).resolve()


class CompareCommand(QObject):
    def __init__(self, session: RunSession, compare: CompareViews, runs_panel: RunsPanel,
                 data_dir: Callable[[], Path], banner: ErrorBanner,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        runs_panel.compareInsideRequested.connect(self.compare)
        compare.mode.partner.failed.connect(self._on_partner_failed)
        compare.mode.changed.connect(self._on_changed)
        self._session, self._compare, self._data_dir = session, compare, data_dir
        self._runs_panel = runs_panel
        self._banner = banner
        self._run_a: Path | None = None
        self._run_b: Path | None = None
        self._opening_a = False  # run A is being opened: its start hides the banner
        self._failure = ""  # why run B could not be shown, said again once A is
        session.runStarted.connect(self._on_run_started)
        session.error.connect(self._on_error)

    def compare(self, run_a: str | Path, run_b: str | Path) -> None:
        """Open ``run_a`` (a run folder or checkpoint) with ``run_b`` beside it."""
        if self._session.busy:
            self._banner.show_message("Stop the current run before comparing two runs.")
            return
        missing = [str(p) for p in (run_a, run_b) if not Path(p).exists()]
        if missing:
            self._banner.show_message(f"Cannot compare: {' and '.join(missing)} not found.")
            return
        self._run_a, self._run_b = Path(run_a), Path(run_b)
        self._opening_a, self._failure = True, ""
        data_dir = self._data_dir()
        self._compare.enter(Path(run_a), Path(run_b), data_dir, self._session.runs.folder)
        self._session.open(run_a, data_dir)

    def _on_partner_failed(self, reason: str) -> None:
        self._failure = reason if self._opening_a else ""
        self._banner.show_message(reason)

    def _on_error(self, _reason: str) -> None:
        """Run A could not be opened (the banner says why): nothing to compare with."""
        if self._opening_a:
            self._opening_a = False
            self._compare.leave()

    def _on_run_started(self, info: RunInfo) -> None:
        """Another run in the window than run A ends compare mode."""
        self._opening_a = False
        if self._failure:
            self._banner.show_message(self._failure)
            self._failure = ""
        if not self._compare.active or self._run_a is None:
            return
        shown = info.history.resolve() if info.history is not None else None
        if not self._session.inspecting or shown != _run_of(self._run_a):
            self._compare.leave()
        else:  # B's curves behind A's
            self._session.show_overlays([_run_of(self._run_b)])

    def _on_changed(self, active: bool) -> None:
        """Once compare mode ends, the curves show the runs ticked again."""
        if not active:
            self._session.show_overlays([r.path for r in self._runs_panel.checked_runs()])
