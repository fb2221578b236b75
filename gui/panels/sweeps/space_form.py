"""What a new sweep searches, as a form: the learning rate and weight decay as log ranges,
batch sizes, optimizers and networks (the built-ins and the person's own) as values to
tick, the objective, the pruner, and how many trials, workers and epochs per trial.

A setting left alone (a range unticked, no value ticked) is the Configuration's; one value
ticked fixes it; two or more let the sweep choose. :meth:`SpaceForm.space` turns the form
into the space a space file would hold (``{"lr": {"log": [1e-4, 0.1]}, ...}``).
"""

from __future__ import annotations

import copy
import os
import time
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFormLayout, QHBoxLayout, QLabel,
                               QLineEdit, QListWidget, QListWidgetItem, QSpinBox, QWidget)

from cnn_core.nn.models import MODELS
from cnn_core.sweep import OBJECTIVES, PRUNERS

from ...session.networks import Networks
from ...session.sweeps import network_file
from ...widgets.spinboxes import ScientificSpinBox

BATCH_SIZES = (32, 64, 128, 256)
OPTIMIZERS = {"adam": "Adam", "sgd": "SGD"}
OBJECTIVE_NAMES = {"test_acc": "highest test accuracy", "test_loss": "lowest test loss"}
PRUNER_TIPS = {"median": "median: stop a trial whose epoch is worse than the median of the "
                         "finished trials' at that epoch",
               "hyperband": "hyperband: successive halving over epochs",
               "none": "none: every trial runs all its epochs"}
KEY = Qt.ItemDataRole.UserRole  # an architecture item's value: built-in key or spec


def new_name() -> str:
    return time.strftime("sweep-%Y%m%d-%H%M")


def camel(key: str) -> str:
    """``weight_decay`` -> ``WeightDecay``, for objectNames."""
    return "".join(part.title() for part in key.split("_"))


class LogRange:
    """A setting drawn on a log scale between two values, or left to the Configuration."""

    def __init__(self, key: str, label: str, low: float, high: float, on: bool) -> None:
        self.key = key
        name = camel(key)
        self.check = QCheckBox(label, objectName=f"sweep{name}Check", checked=on)
        self.low = ScientificSpinBox(objectName=f"sweep{name}LowSpin")
        self.high = ScientificSpinBox(objectName=f"sweep{name}HighSpin")
        self.low.setValue(low)
        self.high.setValue(high)
        for spin, end in ((self.low, "lowest"), (self.high, "highest")):
            spin.setToolTip(f"The {end} {label.lower().replace('&', '')} a trial may draw "
                            "(drawn evenly on a log scale)")
            spin.setEnabled(on)
            self.check.toggled.connect(spin.setEnabled)
        self.check.setToolTip("Ticked: the sweep draws it; unticked: the Configuration's")

    def entry(self) -> dict[str, list[float]] | None:
        if not self.check.isChecked():
            return None
        low, high = self.low.text_value(), self.high.text_value()
        for end, value in (("low", low), ("high", high)):
            if value is None:
                raise ValueError(f"{self.key}: its {end} end is not a number")
        return {"log": [low, high]}


class Choices:
    """Values to tick: none is the Configuration's, one fixes it, more are a choice."""

    def __init__(self, key: str, values: dict[Any, str], on: tuple[Any, ...]) -> None:
        self.key = key
        self.checks = {}
        for value, label in values.items():
            name = f"sweep{camel(key)}{str(value).title()}Check"
            self.checks[value] = QCheckBox(label, objectName=name, checked=value in on)

    def entry(self) -> Any:
        ticked = [v for v, check in self.checks.items() if check.isChecked()]
        if not ticked:
            return None
        return ticked[0] if len(ticked) == 1 else {"choice": ticked}


class SpaceForm(QWidget):
    def __init__(self, networks: Networks) -> None:
        super().__init__()
        self.networks = networks
        self.name_edit = QLineEdit(new_name(), objectName="sweepNameEdit")
        self.name_edit.setToolTip("The sweep's name: its folder in the runs folder. A sweep "
                                  "of that name already there is continued.")
        self.lr = LogRange("lr", "&Learning rate", 1e-4, 1e-1, True)
        self.weight_decay = LogRange("weight_decay", "&Weight decay", 1e-6, 1e-2, False)
        self.batch = Choices("batch_size", {b: str(b) for b in BATCH_SIZES}, (32, 64, 128))
        self.optimizer = Choices("optimizer", OPTIMIZERS, ())
        self.arch_list = QListWidget(objectName="sweepArchList")
        self.arch_list.setFlow(QListWidget.Flow.LeftToRight)
        self.arch_list.setWrapping(True)
        self.arch_list.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.arch_list.setSpacing(2)
        self.arch_list.setToolTip("The networks trials may train: the built-ins and your own. "
                                  "None ticked: the Configuration's.")
        self.objective_combo = QComboBox(objectName="sweepObjectiveCombo")
        for key in OBJECTIVES:
            self.objective_combo.addItem(OBJECTIVE_NAMES[key], key)
        self.pruner_combo = QComboBox(objectName="sweepPrunerCombo")
        for key in PRUNERS:
            self.pruner_combo.addItem(key, key)
            self.pruner_combo.setItemData(self.pruner_combo.count() - 1, PRUNER_TIPS[key],
                                          Qt.ItemDataRole.ToolTipRole)
        self.pruner_combo.setToolTip("Stop hopeless trials early, from their epochs' results")
        self.trials_spin = QSpinBox(objectName="sweepTrialsSpin", minimum=1, maximum=10_000,
                                    value=10)
        self.trials_spin.setToolTip("Finished (complete or pruned) trials the sweep aims for")
        self.jobs_spin = QSpinBox(objectName="sweepJobsSpin", minimum=1,
                                  maximum=max(os.cpu_count() or 1, 1), value=1)
        self.jobs_spin.setToolTip("Trials trained at once: this window trains one, each "
                                  "other is a worker process on the same study")
        self.epochs_spin = QSpinBox(objectName="sweepEpochsSpin", minimum=1, maximum=1000,
                                    value=3)
        self.epochs_spin.setToolTip("Epochs each trial trains (the pruner may stop it sooner)")
        self._build()
        self._fill_networks()
        networks.listChanged.connect(self._fill_networks)

    def _build(self) -> None:
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.setVerticalSpacing(4)
        form.addRow("&Name", self.name_edit)
        for rng in (self.lr, self.weight_decay):
            line = QHBoxLayout()
            line.addWidget(rng.low, 1)
            line.addWidget(QLabel(" to "))
            line.addWidget(rng.high, 1)
            form.addRow(rng.check, line)
        line = QHBoxLayout()
        for check in self.batch.checks.values():
            line.addWidget(check)
        line.addSpacing(16)
        line.addWidget(QLabel("Optimizer"))
        for check in self.optimizer.checks.values():
            line.addWidget(check)
        line.addStretch(1)
        form.addRow("Batch size", line)
        form.addRow("Networks", self.arch_list)
        line = QHBoxLayout()
        line.addWidget(self.objective_combo, 1)
        line.addWidget(QLabel("Pruner"))
        line.addWidget(self.pruner_combo)
        form.addRow("Objective", line)
        line = QHBoxLayout()
        line.addWidget(self.trials_spin)
        for label, spin in (("Jobs", self.jobs_spin), ("Epochs per trial", self.epochs_spin)):
            line.addSpacing(8)
            line.addWidget(QLabel(label))
            line.addWidget(spin)
        line.addStretch(1)
        form.addRow("Trials", line)

    def _fill_networks(self) -> None:
        """The built-ins, then the person's networks; what was ticked stays ticked."""
        ticked = {self._item_key(self.arch_list.item(i)) for i in range(self.arch_list.count())
                  if self.arch_list.item(i).checkState() == Qt.CheckState.Checked}
        self.arch_list.clear()
        for index, network in enumerate(self.networks.networks):
            if network.builtin is not None:
                label, value = MODELS[network.builtin].display_name, network.builtin
            else:
                label, value = self.networks.label(index), copy.deepcopy(network.spec)
            item = QListWidgetItem(label)
            item.setData(KEY, value)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if self._item_key(item) in ticked
                               else Qt.CheckState.Unchecked)
            self.arch_list.addItem(item)
        rows = 1 if self.arch_list.count() <= 4 else 2  # wrapped beyond that: it scrolls
        self.arch_list.setFixedHeight(8 + rows * (self.arch_list.sizeHintForRow(0) + 4))

    @staticmethod
    def _item_key(item: QListWidgetItem) -> str:
        value = item.data(KEY)
        return value if isinstance(value, str) else repr(value)

    def tick_networks(self, *labels: str) -> None:
        """Tick exactly the networks shown as ``labels`` (``LeNet-5``, ``my net``)."""
        for i in range(self.arch_list.count()):
            item = self.arch_list.item(i)
            item.setCheckState(Qt.CheckState.Checked if item.text() in labels
                               else Qt.CheckState.Unchecked)

    # -- reading ---------------------------------------------------------------------------

    def space(self) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
        """The space, and the person's networks it names by file name; raises ValueError
        naming the setting when a field is not a number."""
        space: dict[str, Any] = {}
        for part in (self.lr, self.weight_decay, self.batch, self.optimizer):
            entry = part.entry()
            if entry is not None:
                space[part.key] = entry
        archs, networks = [], {}
        for i in range(self.arch_list.count()):
            item = self.arch_list.item(i)
            if item.checkState() != Qt.CheckState.Checked:
                continue
            value = item.data(KEY)
            if not isinstance(value, str):  # a person's network: a file beside the space
                file = network_file(item.text(), set(networks))
                networks[file] = value
                value = file
            archs.append(value)
        if archs:
            space["arch"] = archs[0] if len(archs) == 1 else {"choice": archs}
        space["epochs"] = self.epochs_spin.value()
        return space, networks

    @property
    def name(self) -> str:
        return self.name_edit.text().strip()

    @property
    def objective(self) -> str:
        return self.objective_combo.currentData()

    @property
    def pruner(self) -> str:
        return self.pruner_combo.currentData()

