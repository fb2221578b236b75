"""The Sweeps view: a new sweep's space as a form with Start and Stop, and the sweep shown
(the one running here, or any in the runs folder, a command line's included) as a live
table of trials, a parallel-coordinates plot and the parameters' importances, with
"Open best" and "Train longer".

The view asks :class:`gui.session.sweeps.SweepService` for all work: the sweep runs on its
lane, and the study is read on another when a trial of the sweep run here starts and when
the sweep ends, and every few seconds while "Follow" is ticked and the shown sweep has
trials to go (a sweep of other processes sends no events). The running trial's epochs,
which its events tell, are shown without a read.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (QCheckBox, QComboBox, QGroupBox, QHBoxLayout, QLabel,
                               QPushButton, QSplitter, QVBoxLayout, QWidget)

from cnn_core.nn.spec import SpecError, parse_spec
from cnn_core.runs.store import RunError, read_config
from cnn_core.sweep import (SweepNote, SweepOutcome, SweepReport, SweepRequest, TrialEpoch,
                            TrialRow, TrialStarted, parse_space, sweep_folder)
from cnn_core.train.config import TrainConfig

from ...session.networks import Networks
from ...session.sweeps import SweepBegun, SweepJob, SweepService
from .importance_plot import ImportancePlot
from .parallel_plot import ParallelPlot
from .progress import outcome_text, progress_text, tab_text
from .space_form import SpaceForm
from .trials_table import TrialsTable

FOLLOW_MS = 2000  # between reads of a followed sweep while its trials run
IDLE_FOLLOW_MS = 10_000  # ... while none runs but it has trials to go
LONGER = 3  # "Train longer": this many times the trial's epochs
ERROR_STYLE = "color: #c62828;"
BaseConfig = Callable[[Collection[str]], TrainConfig]


class SweepPanel(QWidget):
    """``base_config(ignoring)`` gives the Configuration's settings, a sweep's base
    (ValueError naming a bad field, where one not in ``ignoring`` is bad)."""

    openRequested = Signal(Path)  # a trial's run, to open in every panel
    trainLongerRequested = Signal(TrainConfig)  # the best trial's settings, as a fresh run
    trialRunning = Signal(Path)  # the run folder of the trial training now
    titleChanged = Signal(str)  # for the dock's tab
    progressed = Signal(str)  # how far the sweep running here is, or how it ended

    def __init__(self, service: SweepService, networks: Networks,
                 base_config: BaseConfig) -> None:
        super().__init__()
        self.setObjectName("sweepPanel")
        self.service, self._base = service, base_config
        self.report: SweepReport | None = None  # of the sweep shown
        self._running: str | None = None  # the sweep this window runs
        self._epoch: TrialEpoch | None = None  # its running trial's latest epoch
        self._followed: Path | None = None  # the running trial's run last announced
        self._live: TrialRow | None = None  # the trial training here, as its events tell

        self.form = SpaceForm(networks)
        self.start_button = QPushButton("▶  Start sweep", objectName="sweepStartButton")
        self.stop_button = QPushButton("■  Stop", objectName="sweepStopButton", enabled=False)
        self.start_button.setToolTip("Start the sweep: its base is the Configuration's "
                                     "settings (dataset, device, seed, augmentation...)")
        self.stop_button.setToolTip("Stop the sweep: the running trial stops at its next "
                                    "batch, its run recorded as stopped")
        self.message = QLabel(objectName="sweepMessage", wordWrap=True)
        self.sweep_combo = QComboBox(objectName="sweepCombo")
        self.sweep_combo.setToolTip("The sweeps in the runs folder, those of the command "
                                    "line included")
        self.sweep_combo.setMinimumContentsLength(14)
        self.refresh_button = QPushButton("Refresh", objectName="sweepRefreshButton")
        self.follow_check = QCheckBox("Follow", objectName="sweepFollowCheck", checked=True)
        self.follow_check.setToolTip("Read the shown sweep again every few seconds while it "
                                     "has trials to go (for sweeps run by other processes)")
        self.progress = QLabel(objectName="sweepProgressLabel", wordWrap=True)
        self.table = TrialsTable()
        self.parallel = ParallelPlot()
        self.importance = ImportancePlot()
        self.open_best_button = QPushButton("Open &best trial", objectName="openBestTrialButton",
                                            enabled=False)
        self.open_best_button.setToolTip("Open the best trial's run in every panel")
        self.train_longer_button = QPushButton("&Train longer", objectName="trainLongerButton",
                                               enabled=False)
        self.train_longer_button.setToolTip(
            f"Put the best trial's settings in the Configuration, with {LONGER} times its "
            "epochs, as a fresh run: Start trains it")
        self.watch_check = QCheckBox("Show the running trial in every panel",
                                     objectName="sweepWatchCheck")
        self.watch_check.setToolTip(
            "Follow the trial training now as a watched run: the views inside the network "
            "too, not only its curves.\nIt reads the run's files and evaluates its saved "
            "weights beside the training, which slows the trials that train here (on the "
            "bundled sample, LeNet-5's 0.3 s epochs by about 0.25 s each).")
        self._poll = QTimer(self, singleShot=True)
        self._poll.timeout.connect(self._read)
        self._build()
        self._connect()
        self.refresh_list()

    def _build(self) -> None:
        new = QGroupBox("New sweep")
        form = QVBoxLayout(new)
        form.setContentsMargins(8, 4, 8, 6)
        form.addWidget(self.form)
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.stop_button)
        buttons.addWidget(self.message, 1)
        form.addLayout(buttons)
        shown = QHBoxLayout()
        shown.addWidget(QLabel("Sweep shown"))
        shown.addWidget(self.sweep_combo, 1)
        shown.addWidget(self.refresh_button)
        shown.addWidget(self.follow_check)
        plots = QSplitter(Qt.Orientation.Horizontal)
        plots.addWidget(self.parallel)
        plots.addWidget(self.importance)
        plots.setStretchFactor(0, 3)
        plots.setStretchFactor(1, 1)
        plots.setChildrenCollapsible(False)
        results = QSplitter(Qt.Orientation.Vertical)
        results.addWidget(self.table)
        results.addWidget(plots)
        results.setStretchFactor(0, 1)
        results.setStretchFactor(1, 1)
        results.setChildrenCollapsible(False)
        best = QHBoxLayout()
        best.addWidget(self.open_best_button)
        best.addWidget(self.train_longer_button)
        best.addStretch(1)
        best.addWidget(self.watch_check)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.setSpacing(4)
        layout.addWidget(new)
        layout.addLayout(shown)
        layout.addWidget(self.progress)
        layout.addWidget(results, 1)
        layout.addLayout(best)

    def _connect(self) -> None:
        s = self.service
        s.begun.connect(self._on_begun)
        s.event.connect(self._on_event)
        s.progressed.connect(self._say)
        s.refused.connect(lambda line: self._say(f"Cannot go on with the sweep: {line}", True))
        s.ended.connect(self._on_ended)
        s.reportRead.connect(self._on_report)
        s.readFailed.connect(self._on_read_failed)
        self.start_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.stop)
        self.refresh_button.clicked.connect(self.refresh_list)
        self.sweep_combo.currentIndexChanged.connect(self._on_sweep_chosen)
        self.follow_check.toggled.connect(lambda on: on and self._read())
        self.watch_check.toggled.connect(self._on_watch_toggled)
        self.open_best_button.clicked.connect(self._open_best)
        self.train_longer_button.clicked.connect(self._train_longer)
        self.table.openRequested.connect(self.openRequested)
        self.parallel.trialClicked.connect(self.table.select_trial)

    # -- starting and stopping --------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.service.running

    def start(self) -> None:
        """Start the sweep the form describes on the Configuration's settings; a bad
        setting is said in one line and nothing starts."""
        if self.running:
            return
        form = self.form
        try:
            space, networks = form.space()
            base = self._base(tuple(space))  # what the space sets need not be good there
            sweep_folder(form.name, self.service.runs_dir)  # the name is checked
            request = SweepRequest(form.name, form.trials_spin.value(), space,
                                   {f.name: getattr(base, f.name)
                                    for f in dataclasses.fields(base)},
                                   form.objective, form.pruner)
            request.check()
            parse_space(space, base, networks={f: _spec(s) for f, s in networks.items()})
        except ValueError as exc:
            self._say(f"Cannot start the sweep: {exc}", error=True)
            return
        job = SweepJob(request, self.service.runs_dir, form.jobs_spin.value(), networks)
        if self.service.start(job):
            self._running, self._epoch, self._followed = form.name, None, None
            self._say(f"Starting the sweep {form.name}…")
            self._update_buttons()

    def stop(self) -> None:
        if self.running:
            self.service.stop()
            self._say("Stopping: the running trial stops at its next batch…")

    # -- what the sweep run here says ----------------------------------------------------

    def _on_begun(self, begun: SweepBegun) -> None:
        settings = begun.settings
        self._say(f"Sweep {settings.name}: {settings.trials} trials, objective "
                  f"{settings.objective}, pruner {settings.pruner}.")
        self.refresh_list(select=settings.name)

    def _on_event(self, event: object) -> None:
        """The study is read when a trial starts (the one before has been told by then),
        not on every epoch: a read during a trial cost it 15 % of its time. The running
        trial's epochs are shown as its events tell them."""
        if isinstance(event, SweepNote):
            self._say(event.text)
        elif isinstance(event, TrialStarted):
            self._epoch = None
            self._live = TrialRow(event.number, "running", dict(event.params), None, 0, {},
                                  event.run_dir, None)
            self._announce(event.run_dir)
            self._show_live()
            if self.shown == self._running:
                self._read()
        elif isinstance(event, TrialEpoch):
            self._epoch = event
            live = self._live
            if live is not None and live.number == event.number:
                self._live = dataclasses.replace(live, epochs=event.epoch,
                                                 values={**live.values, event.epoch: event.value})
                self._show_live()
        self._show_progress()

    def _show_live(self) -> None:
        if self.report is not None and self.shown == self._running:
            self._show(self._with_live(self.report))

    def _with_live(self, report: SweepReport) -> SweepReport:
        """``report`` with the trial running here as its events tell it (a read may be
        older than its latest epoch, or than its start)."""
        live = self._live
        if live is None or self.shown != self._running or any(
                t.number == live.number and t.state != "running" for t in report.trials):
            return report
        trials = [t for t in report.trials if t.number != live.number]
        return dataclasses.replace(report, trials=[*trials, live])

    def _on_ended(self, outcome: SweepOutcome | None) -> None:
        name, self._running, self._live = self._running, None, None
        self._update_buttons()
        if outcome is not None or not self.message.property("error"):
            self._say(outcome_text(outcome))
        self.progressed.emit(f"Sweep {name}: {self.message.text()}")
        self.refresh_list()
        self._read()

    # -- the sweep shown ---------------------------------------------------------------------

    @property
    def shown(self) -> str | None:
        return self.sweep_combo.currentText() or None

    def refresh_list(self, select: str | None = None) -> None:
        """List the runs folder's sweeps again (choosing ``select``), and read the shown."""
        names = self.service.sweeps()
        keep = select or self.shown
        if self._running and self._running not in names:
            names.append(self._running)
        self.sweep_combo.blockSignals(True)
        self.sweep_combo.clear()
        self.sweep_combo.addItems(sorted(names))
        index = self.sweep_combo.findText(keep) if keep else -1
        self.sweep_combo.setCurrentIndex(index if index >= 0 else len(names) - 1)  # the newest
        self.sweep_combo.blockSignals(False)
        if self.report is None or self.report.settings.name != self.shown:
            self._on_sweep_chosen()
        else:
            self._read()

    def _on_sweep_chosen(self) -> None:
        self.report, self._followed = None, None
        self._show(None)
        self._read()

    def _read(self) -> None:
        if self.shown is not None:
            self.service.read(self.shown)

    def _on_report(self, report: SweepReport) -> None:
        if report.settings.name != self.shown:
            return
        self.report = report = self._with_live(report)
        self._show(report)
        running = sorted((t for t in report.trials if t.state == "running" and t.run_dir),
                         key=lambda t: t.number)
        if running and self.shown != self._running:  # another process's sweep
            self._announce(running[0].run_dir)
        self._poll.stop()
        to_go = report.count("complete") + report.count("pruned") < report.settings.trials
        here_alone = self.shown == self._running and self.form.jobs_spin.value() == 1
        if self.follow_check.isChecked() and to_go and not here_alone:
            self._poll.start(FOLLOW_MS if running or self.shown == self._running
                             else IDLE_FOLLOW_MS)

    def _on_read_failed(self, name: str, why: str) -> None:
        if name == self.shown:
            self._say(why, error=True)

    def _show(self, report: SweepReport | None) -> None:
        self.table.show_report(report)
        self.parallel.show_report(report)
        self.importance.show_report(report)
        self._show_progress()
        self._update_buttons()

    def _show_progress(self) -> None:
        here = self._running is not None and self.shown == self._running
        text = progress_text(self.report, self._epoch, here)
        self.progress.setText(text)
        self.titleChanged.emit(tab_text(self.report, here))
        if here and text:
            self.progressed.emit(f"Sweep {self._running}: {text}")

    def _announce(self, run_dir: Path) -> None:
        if run_dir != self._followed:
            self._followed = run_dir
            if self.watch_check.isChecked():
                self.trialRunning.emit(run_dir)

    def _on_watch_toggled(self, on: bool) -> None:
        """Ticked while a trial trains: follow it now, not from the next one on."""
        running = self.report is not None and self.report.count("running")
        if on and self._followed is not None and (running or self._live is not None):
            self.trialRunning.emit(self._followed)

    def _update_buttons(self) -> None:
        running = self.running
        self.start_button.setEnabled(not running)
        self.stop_button.setEnabled(running)
        self.form.setEnabled(not running)
        best = self.report.best if self.report is not None else None
        has_best = best is not None and best.run_dir is not None
        self.open_best_button.setEnabled(has_best)
        self.train_longer_button.setEnabled(has_best)

    # -- the best trial ----------------------------------------------------------------------

    def _open_best(self) -> None:
        best = self.report.best if self.report is not None else None
        if best is not None and best.run_dir is not None:
            self.watch_check.setChecked(False)  # the next trial must not replace it
            self.openRequested.emit(best.run_dir)

    def _train_longer(self) -> None:
        best = self.report.best if self.report is not None else None
        if best is None or best.run_dir is None:
            return
        try:
            trial = read_config(best.run_dir)
        except RunError as exc:
            self._say(f"Cannot read the best trial's settings: {exc}", error=True)
            return
        self.trainLongerRequested.emit(dataclasses.replace(
            trial, sweep=None, epochs=trial.epochs * LONGER))

    # -- saying --------------------------------------------------------------------------

    def _say(self, text: str, error: bool = False) -> None:
        self.message.setText(text.splitlines()[0] if text else "")
        self.message.setProperty("error", error)
        self.message.setStyleSheet(ERROR_STYLE if error else "")

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt naming
        super().showEvent(event)
        self.refresh_list()


def _spec(spec: dict) -> dict:
    """A person's network as a space holds it (checked: ValueError naming ``arch``)."""
    try:
        return parse_spec(spec).to_json()
    except SpecError as exc:
        raise ValueError(f"arch: {exc}") from None
