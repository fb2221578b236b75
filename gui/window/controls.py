"""Start, Pause/Resume and Stop: buttons and menu actions enabled by what the run allows."""

from __future__ import annotations

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QHBoxLayout, QPushButton

from ..panels.config import ConfigPanel
from ..session.run_session import RunSession
from ..training.controller import RunState


class RunButtons(QHBoxLayout):
    def __init__(self, session: RunSession, panel: ConfigPanel) -> None:
        super().__init__()
        self.session, self.panel = session, panel
        self.start = QPushButton("▶  Start", objectName="startButton")
        self.pause = QPushButton("❚❚  Pause", objectName="pauseButton")
        self.stop = QPushButton("■  Stop", objectName="stopButton")
        self.pause.setToolTip("Pause or resume the run (Ctrl+P)")
        self.stop.setToolTip("Stop the run after the current batch (Esc)")
        for button in (self.start, self.pause, self.stop):
            button.setMinimumHeight(34)
            self.addWidget(button)
        self.addStretch(1)
        self.start.setDefault(True)
        self.actions: dict[str, QAction] = {}
        session.stateChanged.connect(lambda _s: self.update())
        session.continuationChanged.connect(lambda _c: self.update())
        session.watchingChanged.connect(lambda _w: self.update())
        panel.validityChanged.connect(lambda _v: self.update())

    def bind_actions(self, start: QAction, pause: QAction, stop: QAction,
                     *idle_only: QAction) -> None:
        """Menu actions that follow the buttons (and those allowed only while idle)."""
        self.actions = {"start": start, "pause": pause, "stop": stop}
        self._idle_only = idle_only
        self.update()

    def _why_not(self) -> str:
        errors = self.panel.errors()
        if not errors:
            return "Fix the fields marked in red first"
        field, reason = next(iter(errors.items()))
        label = "architecture" if field == "arch" else field.replace("_", " ")
        return f"Fix the fields marked in red first ({label}: {reason})"

    def update(self) -> None:
        state = self.session.state
        idle = state == RunState.IDLE
        paused = state == RunState.PAUSED
        can_start = idle and self.panel.valid
        self.start.setEnabled(can_start)
        self.start.setToolTip("Start a new run with these settings (Ctrl+Return)"
                              if can_start or not idle else self._why_not())
        watching = self.session.watching is not None
        can_pause = (state in (RunState.RUNNING, RunState.PAUSED) and not self.session.inspecting
                     and not watching)
        self.pause.setEnabled(can_pause)
        self.stop.setEnabled(state in (RunState.RUNNING, RunState.PAUSED))
        self.stop.setToolTip("Stop watching (Esc): the run goes on in its own process"
                             if watching else "Stop the run after the current batch (Esc)")
        self.pause.setText("▶  Resume" if paused else "❚❚  Pause")
        if self.actions:
            self.actions["start"].setEnabled(idle)
            self.actions["pause"].setEnabled(can_pause)
            self.actions["pause"].setText("&Resume" if paused else "&Pause")
            self.actions["stop"].setEnabled(self.stop.isEnabled())
            for act in self._idle_only:
                act.setEnabled(idle)
