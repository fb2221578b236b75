"""The configuration panel: every setting of a run, checked as you type.

Each field is validated by the engine's own ``TrainConfig.validate`` (one field at a
time, so every bad field is marked at once, next to the field, with the engine's
reason). ``validityChanged`` tells the window whether Start may be pressed.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path

from PySide6.QtCore import QEvent, Signal
from PySide6.QtWidgets import (QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel,
                               QPushButton, QSpinBox, QVBoxLayout, QWidget)

from cnn_core.train.config import TrainConfig, available_devices
from cnn_core.data.datasets import DatasetInfo
from cnn_core.nn.models import StudioModel
from cnn_core.paths import default_data_dir

from ...session.lr_finder import LrFinderService
from ...session.networks import Networks
from ...session.runs_model import RunsModel
from ...widgets.spinboxes import ScientificSpinBox
from .augmentation_group import AugmentationGroup
from ...session.datasets import DatasetService
from .data_group import DataGroup
from .lr_finder_dialog import LrFinderDialog
from .model_group import ModelGroup, error_label
from .schedule_fields import EARLY_STOP_TIP, ScheduleFields

# Fields checked with others they depend on (each field is otherwise checked alone).
CHECKED_WITH = {"warmup_epochs": ("epochs", "schedule"), "freeze": ("init_from",),
                "backbone_lr_scale": ("init_from",)}
MAY_BE_NONE = ("init_from",)  # None is a value (from scratch), not text that is no number


class ConfigPanel(QWidget):
    """Builds a :class:`TrainConfig` from the widgets; marks bad fields with the reason."""

    validityChanged = Signal(bool)
    configChanged = Signal()
    picturesRead = Signal(str, str)  # see DataGroup.picturesRead

    def __init__(self, datasets: DatasetService, parent: QWidget | None = None,
                 data_dir: Path | None = None, networks: Networks | None = None,
                 folders: Sequence[str] = (), lr_finder: LrFinderService | None = None,
                 runs: RunsModel | None = None) -> None:
        super().__init__(parent)
        self.networks = networks or Networks(parent=self)
        self.lr_finder = lr_finder or LrFinderService(self)
        self._lr_finder_dialog: LrFinderDialog | None = None
        self._valid = True
        self._editable: set[str] | None = None  # None: every field

        self.model_group = ModelGroup(self.networks, runs)
        self._lr_scale = 1.0  # a fine-tuned run's, kept as set: the window has no field for it
        self.modelPreviewed = self.model_group.modelPreviewed
        self.editArchitectureRequested = self.model_group.editRequested

        self.data = DataGroup(data_dir or default_data_dir(), datasets, folders)
        self.augmentation = AugmentationGroup()
        self.dataset_combo, self.dataset_status = self.data.combo, self.data.status
        self.download_progress = self.data.download_progress

        self.device_combo = QComboBox(objectName="deviceCombo")
        for spec, name in available_devices():
            self.device_combo.addItem(name, spec)

        self.optimizer_combo = QComboBox(objectName="optimizerCombo")
        self.optimizer_combo.addItem("Adam", "adam")
        self.optimizer_combo.addItem("SGD with momentum", "sgd")
        self.momentum_spin = ScientificSpinBox(objectName="momentumSpin")
        self.lr_spin = ScientificSpinBox(objectName="learningRateSpin")
        self.lr_find_button = QPushButton("Find…", objectName="lrFindButton")
        self.lr_find_button.setToolTip(
            "Find a learning rate: a short run on a fresh copy of the network, the rate "
            "growing step by step, and the rate where the loss falls fastest.\nNot while a "
            "run trains (it would change the run's random draws): pause or stop it first.")
        self.weight_decay_spin = ScientificSpinBox(objectName="weightDecaySpin")
        self.batch_spin = QSpinBox(objectName="batchSizeSpin", minimum=1, maximum=65_536)
        self.epochs_spin = QSpinBox(objectName="epochsSpin", minimum=1, maximum=10_000)
        self.schedule = ScheduleFields(self)
        self.step_spin, self.gamma_spin = self.schedule.step_spin, self.schedule.gamma_spin
        self.seed_spin = QSpinBox(objectName="seedSpin", minimum=0, maximum=2**31 - 1)

        # field name -> (widget, error label)
        self._fields: dict[str, tuple[QWidget, QLabel]] = {}
        self._build_layout()
        self.set_config(TrainConfig())
        self._connect()
        self._on_dataset_changed()
        self._on_optimizer_changed()

    # -- layout --------------------------------------------------------------------------

    def _row(self, form: QFormLayout, label: str | QWidget, field: str | None, widget: QWidget,
             tip: str, beside: QWidget | None = None) -> None:
        widget.setToolTip(tip)
        if beside is None:
            form.addRow(label, widget)
        else:  # on the field's line, e.g. the learning-rate finder's button
            line = QHBoxLayout()
            line.addWidget(widget, 1)
            line.addWidget(beside)
            form.addRow(label, line)
            form.labelForField(line).setBuddy(widget)
        if field is not None:
            error = error_label()
            error.setObjectName(f"{field}Error")
            form.addRow("", error)
            self._fields[field] = (widget, error)

    def _build_layout(self) -> None:
        group = self.model_group
        self._fields["arch"] = (group.combo, group.error)
        self._fields["init_from"] = (group.init_combo, group.init_error)
        self._fields["freeze"] = (group.freeze_combo, group.freeze_error)

        self._fields.update(self.data.fields)
        augment_error = error_label()
        augment_error.setObjectName("augmentError")
        self._fields["augment"] = (self.augmentation, augment_error)

        train_box = QGroupBox("Training")
        form = QFormLayout(train_box)
        self._row(form, "De&vice", "device", self.device_combo, "Where the training runs.")
        self._row(form, "&Optimizer", "optimizer", self.optimizer_combo,
                  "Adam adapts each weight's step; SGD uses one step size with momentum.")
        self._row(form, "&Learning rate", "lr", self.lr_spin,
                  "Step size of each update, e.g. 1e-3 for Adam or 0.05 for SGD.",
                  beside=self.lr_find_button)
        self._row(form, "&Momentum", "momentum", self.momentum_spin,
                  "SGD only: how much of the previous step carries over (0 to <1).")
        self._row(form, "&Weight decay", "weight_decay", self.weight_decay_spin,
                  "L2 penalty that pulls weights towards zero (0 = off).")
        self._row(form, "&Batch size", "batch_size", self.batch_spin,
                  "Images per update.")
        self._row(form, "&Epochs", "epochs", self.epochs_spin,
                  "Passes over the training set.")
        schedule = self.schedule
        self._row(form, "Sc&hedule", "schedule", schedule.schedule_combo,
                  "How the learning rate moves during the run.")
        self._row(form, "LR step (epochs)", "step_size", self.step_spin,
                  "Step schedule: the learning rate is multiplied by gamma every this many "
                  "epochs.")
        self._row(form, "LR gamma", "gamma", self.gamma_spin,
                  "Step schedule: the factor applied at each step (0 < gamma <= 1).")
        self._row(form, "Warm-up (epochs)", "warmup_epochs", schedule.warmup_spin,
                  "Cosine schedule: epochs rising linearly to the learning rate first.")
        self._row(form, schedule.early_stop_check, "early_stop", schedule.patience_spin,
                  EARLY_STOP_TIP)
        self._row(form, "", "monitor", schedule.monitor_combo,
                  "What early stopping watches.")
        self._row(form, "&Seed", "seed", self.seed_spin,
                  "Same seed on the CPU gives the same numbers, run after run.")

        layout = QVBoxLayout(self)
        layout.addWidget(self.model_group)
        layout.addWidget(self.data)
        layout.addWidget(train_box)
        layout.addWidget(self.augmentation)
        layout.addWidget(augment_error)
        layout.addStretch(1)

    def _connect(self) -> None:
        self.networks.currentChanged.connect(self.revalidate)
        self.networks.edited.connect(self.revalidate)
        self.networks.currentChanged.connect(self._suit_picture_size)
        self.data.changed.connect(self._suit_picture_size)
        self.model_group.startChanged.connect(self.revalidate)
        self.data.changed.connect(self._on_dataset_changed)
        self.data.picturesRead.connect(self.picturesRead)
        self.data.previewChanged.connect(
            lambda preview: self.augmentation.set_source(
                None if preview is None else preview.samples,
                None if preview is None else preview.info))
        self.augmentation.changed.connect(self.revalidate)
        self.lr_find_button.clicked.connect(self.show_lr_finder)
        self.optimizer_combo.currentIndexChanged.connect(self._on_optimizer_changed)
        for combo in (self.device_combo, self.optimizer_combo):
            combo.currentIndexChanged.connect(self.revalidate)
        for spin in (self.lr_spin, self.momentum_spin, self.weight_decay_spin):
            spin.lineEdit().textChanged.connect(self.revalidate)
        for spin in (self.batch_spin, self.epochs_spin, self.seed_spin):
            spin.valueChanged.connect(self.revalidate)
        self.schedule.changed.connect(self.revalidate)

    # -- reading and writing the config --------------------------------------------------

    def values(self) -> dict[str, object]:
        """Field values as typed; None where the text is not a number."""
        return {
            "arch": self.networks.arch,
            "network": self.networks.network,
            "init_from": self.model_group.start,
            "freeze": self.model_group.freeze,
            "backbone_lr_scale": 1.0 if self.model_group.start is None else self._lr_scale,
            **self.data.values(),
            "device": self.device_combo.currentData(),
            "optimizer": self.optimizer_combo.currentData(),
            "lr": self.lr_spin.text_value(),
            "momentum": self.momentum_spin.text_value(),
            "weight_decay": self.weight_decay_spin.text_value(),
            "batch_size": self.batch_spin.value(),
            "epochs": self.epochs_spin.value(),
            **self.schedule.values(),
            "seed": self.seed_spin.value(),
            "augment": self.augmentation.text(),
        }

    def errors(self) -> dict[str, str]:
        """Every bad field with the engine's reason, and the dataset if it is not present."""
        errors: dict[str, str] = {}
        if self.networks.report.error is not None:
            errors["arch"] = self.networks.report.error
        values = self.values()
        for name, value in values.items():
            if name in ("arch", "network"):
                continue  # the network, checked against the dataset, is the networks' report
            if value is None and name not in MAY_BE_NONE:
                errors[name] = "not a number"
                continue
            reason = field_error(name, values)
            if reason is not None:
                errors[name] = reason
        problem = self.data.problem()
        if "dataset" not in errors and problem is not None:
            errors["dataset"] = problem
        return errors

    def config(self, ignoring: Collection[str] = ()) -> TrainConfig:
        """The current settings; raises ValueError naming the first bad field. A bad field
        in ``ignoring`` takes its default instead (the finder sweeps the learning rate)."""
        errors = self.errors()
        blocking = {name: reason for name, reason in errors.items() if name not in ignoring}
        if blocking:
            field, reason = next(iter(blocking.items()))
            raise ValueError(f"{field}: {reason}")
        defaults = {name: getattr(TrainConfig(), name) for name in errors}  # ignored ones
        return TrainConfig(**{**self.values(), **defaults}, data_dir=str(self.data_dir))

    def valid_fields(self, base: TrainConfig) -> TrainConfig:
        """``base`` with every field that is valid as typed (what is worth remembering
        while another field is still being fixed)."""
        values = self.values()
        network = {"arch": values.pop("arch"), "network": values.pop("network")}
        good = network if self.networks.report.error is None else {}
        for name, value in values.items():
            if (value is not None or name in MAY_BE_NONE) and field_error(name, values) is None:
                good[name] = value
        return TrainConfig.from_dict({**base.to_dict(), **good, "data_dir": str(self.data_dir)})

    def set_config(self, config: TrainConfig) -> None:
        def select(combo: QComboBox, value: str) -> None:
            index = combo.findData(value)
            if index >= 0:
                combo.setCurrentIndex(index)

        self.networks.choose_config(config.arch, config.network)
        self._lr_scale = config.backbone_lr_scale
        self.model_group.set_start(config.init_from, config.freeze)
        self.data.set_config(config)
        self.augmentation.set_text(config.augment)
        select(self.device_combo, config.device if config.device != "auto"
               else available_devices()[-1][0])
        select(self.optimizer_combo, config.optimizer)
        self.lr_spin.setValue(config.lr)
        self.momentum_spin.setValue(config.momentum)
        self.weight_decay_spin.setValue(config.weight_decay)
        self.batch_spin.setValue(config.batch_size)
        self.epochs_spin.setValue(config.epochs)
        self.schedule.set_config(config)
        self.seed_spin.setValue(config.seed)
        self.revalidate()

    def set_editable(self, fields: Collection[str] | None = None) -> None:
        """Let only ``fields`` be changed (None: all of them), e.g. the settings a paused
        run or a branch may change; the others stay visible but greyed."""
        self._editable = None if fields is None else set(fields)
        for name, (widget, _label) in self._fields.items():
            widget.setEnabled(self._editable is None or name in self._editable)
        self.data.download_button.setEnabled(self._editable is None)
        self.schedule.set_editable(self._editable)
        self.lr_find_button.setEnabled(self._editable is None or "lr" in self._editable)
        self.model_group.set_start_editable(self._editable is None
                                            or "init_from" in self._editable)
        self._on_optimizer_changed()
        self._lock_network()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt naming
        super().changeEvent(event)
        if event.type() == QEvent.Type.EnabledChange:
            self._lock_network()

    def _lock_network(self) -> None:
        """The network (also in the editor) changes only where the architecture may."""
        self.networks.set_locked(not self.isEnabled() or not (
            self._editable is None or "arch" in self._editable))

    @property
    def data_dir(self) -> Path:
        """Where datasets are downloaded to and folders' pictures cached."""
        return self.data.data_dir

    @data_dir.setter
    def data_dir(self, folder: Path) -> None:
        self.data.data_dir = folder
        self.data.reload()

    def add_image_folder(self, path: str | Path) -> bool:
        """Add a folder of pictures to the datasets and choose it; False (and nothing
        changes) while the dataset cannot change: a run trains, is paused or will resume."""
        if not self.data.combo.isEnabled():
            return False
        self.data.add_folder(path)
        return True

    @property
    def dataset_info(self) -> DatasetInfo:
        return self.data.info

    @property
    def valid(self) -> bool:
        return self._valid

    def revalidate(self) -> None:
        errors = self.errors()
        for name, (widget, label) in self._fields.items():
            reason = errors.get(name)
            label.setText(reason or "")
            label.setVisible(reason is not None)
            widget.setStyleSheet("border: 1px solid #c62828;" if reason else "")
        valid = not errors
        if valid != self._valid:
            self._valid = valid
            self.validityChanged.emit(valid)
        self.configChanged.emit()

    # -- architecture and dataset --------------------------------------------------------

    def _suit_picture_size(self) -> None:
        if any(isinstance(layer, dict) and layer.get("type") == "pretrained"
               for layer in self.networks.current.layers):
            self.data.suit_backbone()

    def _on_dataset_changed(self) -> None:
        info = self.dataset_info
        self.networks.set_input(info.input_shape, info.num_classes)
        self.revalidate()

    @property
    def preview_model(self) -> StudioModel | None:
        """The untrained model of the chosen network (None until one can be built)."""
        return self.model_group.preview_model

    def show_lr_finder(self) -> None:
        """Open the learning-rate finder on the settings as they are, and start a find."""
        if self._lr_finder_dialog is None:
            self._lr_finder_dialog = LrFinderDialog(
                self.lr_finder, lambda: self.config(ignoring=("lr",)), self.lr_spin.setValue,
                self)
        dialog = self._lr_finder_dialog
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()
        dialog.start()

    def shutdown(self, timeout_ms: int = 5000) -> None:
        """Cancel a download, a folder being read or a find, and wait (bounded) for their
        threads."""
        self.data.shutdown(timeout_ms)
        self.lr_finder.shutdown(timeout_ms)

    def _on_optimizer_changed(self) -> None:
        self.momentum_spin.setEnabled(self.optimizer_combo.currentData() == "sgd" and (
            self._editable is None or "momentum" in self._editable))


def field_error(name: str, values: dict[str, object]) -> str | None:
    """The engine's reason ``values[name]`` is bad, checked alone or with the fields it
    depends on (:data:`CHECKED_WITH`); None if it is good."""
    together = {k: values[k] for k in CHECKED_WITH.get(name, ()) if values.get(k) is not None}
    try:
        TrainConfig(**together, **{name: values[name]}).validate()
    except ValueError as exc:
        return str(exc).split(": ", 1)[-1]
    return None

