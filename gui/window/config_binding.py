"""The configuration panel follows the run: a continuation's settings appear in it, a
paused run's editable settings unlock (the learning rate showing the rate reached), and
what was edited goes to the run on Resume. A watched run's settings are shown while it is
watched; the person's own come back after."""

from __future__ import annotations

from typing import Any

from cnn_core.train.config import TrainConfig
from cnn_core.train.launch import Continuation
from cnn_core.train.live_edits import EDITABLE

from ..panels.config import ConfigPanel
from ..session.run_session import RunSession
from ..training.controller import RunState


class ConfigBinding:
    def __init__(self, panel: ConfigPanel, session: RunSession) -> None:
        self.panel, self.session = panel, session
        self._paused_values: dict[str, Any] = {}
        self._lr_setting = 0.0  # the field's value before a pause
        self._state = RunState.IDLE
        self.own_settings: TrainConfig | None = None  # kept while a watched run's are shown
        session.continuationChanged.connect(self._on_continuation_changed)
        session.stateChanged.connect(self._on_state_changed)
        session.watchedSettings.connect(self._show_watched)
        session.watchingChanged.connect(lambda run: run is None and self._restore_own())

    def _show_watched(self, config: TrainConfig) -> None:
        if self.own_settings is None:
            self.own_settings = self.panel.valid_fields(TrainConfig())
        self.panel.set_config(config)

    def _restore_own(self) -> None:
        if self.own_settings is not None:
            self.panel.set_config(self.own_settings)
            self.own_settings = None

    def _on_continuation_changed(self, cont: Continuation | None) -> None:
        if cont is not None:
            self.panel.set_config(cont.config())
        self._update_editable()

    def _on_state_changed(self, state: RunState) -> None:
        panel = self.panel
        if self._state == RunState.PAUSED and state != RunState.PAUSED and \
                panel.values()["lr"] == self._paused_values.get("lr"):
            # left the pause without an edit: back to the run's own setting, not the
            # scheduled value shown while paused
            panel.lr_spin.setValue(self._lr_setting)
        self._state = state
        if state == RunState.PAUSED:
            self._lr_setting = panel.lr_spin.value()
            if self.session.last_lr is not None:  # the rate now, after the schedule's cuts
                panel.lr_spin.setValue(self.session.last_lr)
            self._paused_values = {k: v for k, v in panel.values().items() if k in EDITABLE}
        self._update_editable()

    def _update_editable(self) -> None:
        """Nothing can change while a run trains; while it is paused, only what a run may
        change along the way; before a resume or a branch starts, what the continuation
        lets a person edit."""
        state = self.session.state
        idle = state == RunState.IDLE
        self.panel.setEnabled(idle or state == RunState.PAUSED)
        cont = self.session.continuation
        if state == RunState.PAUSED:
            self.panel.set_editable(EDITABLE)  # what a run may change along the way
        elif idle and cont is not None:
            self.panel.set_editable(cont.editable)
        else:
            self.panel.set_editable(None)

    def edits(self) -> dict[str, Any]:
        """The settings edited since the pause; raises ValueError("field: reason") for a
        bad one."""
        bad = {k: v for k, v in self.panel.errors().items() if k in EDITABLE}
        if bad:
            field, reason = next(iter(bad.items()))
            raise ValueError(f"{field}: {reason}")
        values = self.panel.values()
        return {k: values[k] for k in EDITABLE if values[k] != self._paused_values.get(k)}
