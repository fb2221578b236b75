"""The Training group's schedule and early-stopping fields: how the learning rate moves
(``scheduleCombo``, with StepLR's step and gamma, or the cosine's warm-up) and when a run
may end before its last epoch (``earlyStopCheck``, ``earlyStopPatienceSpin``,
``earlyStopMonitorCombo``)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QSpinBox, QWidget

from cnn_core.train.config import TrainConfig

from ...widgets.spinboxes import ScientificSpinBox

SCHEDULE_NAMES = {"step": "Step (cut by gamma)", "onecycle": "One-cycle",
                  "cosine": "Cosine", "constant": "Constant"}
SCHEDULE_TIPS = {
    "step": "The learning rate is multiplied by gamma every few epochs.",
    "onecycle": "Up from a 25th of the learning rate to all of it over the first 30% of the "
                "run, then down far below it; moves every batch (fastai's fit_one_cycle).",
    "cosine": "Down from the learning rate to zero along a cosine, after an optional "
              "warm-up; moves every batch.",
    "constant": "The learning rate stays as set.",
}
MONITOR_NAMES = {"test_acc": "without better test accuracy",
                 "test_loss": "without lower test loss"}
EARLY_STOP_TIP = ("End the run when the test accuracy (or loss) has not improved for this "
                  "many epochs; the best epoch stays the run's best checkpoint, and a resume "
                  "can go on.")


class ScheduleFields(QWidget):
    """Makes the widgets; the configuration panel lays them out as rows of its form."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.schedule_combo = QComboBox(objectName="scheduleCombo")
        for value, name in SCHEDULE_NAMES.items():
            self.schedule_combo.addItem(name, value)
            self.schedule_combo.setItemData(self.schedule_combo.count() - 1,
                                            SCHEDULE_TIPS[value],
                                            Qt.ItemDataRole.ToolTipRole)
        self.step_spin = QSpinBox(objectName="stepSizeSpin", minimum=1, maximum=10_000)
        self.gamma_spin = ScientificSpinBox(objectName="gammaSpin")
        self.warmup_spin = QDoubleSpinBox(objectName="warmupEpochsSpin", minimum=0,
                                          maximum=10_000, decimals=1, singleStep=0.5)

        self.early_stop_check = QCheckBox("Stop ea&rly after", objectName="earlyStopCheck")
        self.patience_spin = QSpinBox(objectName="earlyStopPatienceSpin", minimum=1,
                                      maximum=10_000, value=3, suffix=" epochs")
        self.monitor_combo = QComboBox(objectName="earlyStopMonitorCombo")
        for value, name in MONITOR_NAMES.items():
            self.monitor_combo.addItem(name, value)
        self.early_stop_check.setToolTip(EARLY_STOP_TIP)
        self._min_delta = 0.0  # kept from the settings shown (set on the command line)
        self._editable: set[str] | None = None  # the fields that may change; None: all

        self.schedule_combo.currentIndexChanged.connect(self._on_schedule_changed)
        self.early_stop_check.toggled.connect(self._sync_enabled)
        for combo in (self.schedule_combo, self.monitor_combo):
            combo.currentIndexChanged.connect(self.changed)
        for spin in (self.step_spin, self.warmup_spin, self.patience_spin):
            spin.valueChanged.connect(self.changed)
        self.gamma_spin.lineEdit().textChanged.connect(self.changed)
        self.early_stop_check.toggled.connect(self.changed)
        self._on_schedule_changed()

    @property
    def schedule(self) -> str:
        return self.schedule_combo.currentData()

    def values(self) -> dict[str, object]:
        """Field values as typed (gamma None where its text is not a number)."""
        return {
            "schedule": self.schedule,
            "step_size": self.step_spin.value(),
            "gamma": self.gamma_spin.text_value(),
            "warmup_epochs": self.warmup_spin.value(),
            "early_stop": self.patience_spin.value() if self.early_stop_check.isChecked() else 0,
            "monitor": self.monitor_combo.currentData(),
            "min_delta": self._min_delta,
        }

    def set_config(self, config: TrainConfig) -> None:
        self.schedule_combo.setCurrentIndex(max(0, self.schedule_combo.findData(config.schedule)))
        self.step_spin.setValue(config.step_size)
        self.gamma_spin.setValue(config.gamma)
        self.warmup_spin.setValue(config.warmup_epochs)
        self.early_stop_check.setChecked(config.early_stop > 0)
        if config.early_stop > 0:
            self.patience_spin.setValue(config.early_stop)
        self.monitor_combo.setCurrentIndex(max(0, self.monitor_combo.findData(config.monitor)))
        self._min_delta = config.min_delta

    def set_editable(self, editable: set[str] | None) -> None:
        """Let only ``editable`` fields change (None: all of them)."""
        self._editable = editable
        self._sync_enabled()

    def _sync_enabled(self) -> None:
        """Grey what the schedule does not use, and what may not change now."""
        def may(field: str) -> bool:
            return self._editable is None or field in self._editable

        self.schedule_combo.setEnabled(may("schedule"))
        self.step_spin.setEnabled(may("step_size") and self.schedule == "step")
        self.gamma_spin.setEnabled(may("gamma") and self.schedule == "step")
        self.warmup_spin.setEnabled(may("warmup_epochs") and self.schedule == "cosine")
        self.early_stop_check.setEnabled(may("early_stop"))
        on = self.early_stop_check.isChecked()
        self.patience_spin.setEnabled(may("early_stop") and on)
        self.monitor_combo.setEnabled(may("monitor") and on)

    def _on_schedule_changed(self) -> None:
        self.schedule_combo.setToolTip(SCHEDULE_TIPS[self.schedule])
        self._sync_enabled()
