"""Two runs' settings and results side by side, the differences highlighted: what changed
between a run that learned and one that did not."""

from __future__ import annotations

from dataclasses import fields

from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (QCheckBox, QDialog, QDialogButtonBox, QHBoxLayout, QHeaderView,
                               QLabel, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from cnn_core.train.config import TrainConfig
from cnn_core.runs.store import RunError, RunSummary, read_config

from ..session.describe import describe_change, format_duration, format_value
from ..session.network_text import differing_layers, layer_text, network_layers

DIFFERENT_BACKGROUND = QColor("#ffe9a8")
# What the settings are called in the dialog; a field missing here shows its own name.
FIELD_LABELS = {
    "arch": "architecture", "dataset": "dataset", "epochs": "epochs", "batch_size": "batch size",
    "optimizer": "optimizer", "lr": "learning rate", "momentum": "momentum (SGD)",
    "weight_decay": "weight decay", "step_size": "lr step every (epochs)",
    "gamma": "lr step factor (gamma)", "seed": "seed", "device": "device asked for",
    "data_dir": "data folder", "network": "network",
}
FACT_LABELS = {
    "status": "status", "best": "best test accuracy", "epochs_done": "epochs done",
    "trained_on": "trained on", "train_time": "training time", "parent": "branched from",
    "changes": "changed during the run",
}


def network_text(config: TrainConfig) -> str:
    """A run's network in a few words: its own networks have names and layers to compare."""
    if config.network is None:
        return "built-in"
    layers = config.network.get("layers")
    return f"own network “{config.arch}”, {len(layers) if isinstance(layers, list) else '?'} layers"


def layer_rows(a: TrainConfig, b: TrainConfig) -> dict[str, tuple[str, str]]:
    """``{"layer 2": (how a has it, how b has it)}`` for each layer that differs, when one
    of the two trained a network of its own."""
    if a.network is None and b.network is None:
        return {}  # the architecture's row says it all
    layers = network_layers(a.arch, a.network), network_layers(b.arch, b.network)
    if layers[0] is None or layers[1] is None:
        return {}
    return {f"layer {n}": tuple(layer_text(side[n - 1]) if n <= len(side) else "—"
                                for side in layers)  # type: ignore[misc]
            for n in differing_layers(*layers)}


def run_facts(run: RunSummary) -> dict[str, str]:
    """The results and history of a run, as the dialog shows them (keys of FACT_LABELS)."""
    best = ("—" if run.best_test_acc is None
            else f"{run.best_test_acc:.2%} (epoch {run.best_epoch})")
    parent = (f"{run.parent.get('run', '?')} @ epoch {run.parent.get('epoch', '?')}"
              if run.parent else "—")
    changes = "; ".join(f"@ epoch {c.epoch:.2f}: {describe_change(c)}"
                        for c in run.changes) or "—"
    status = "damaged" if run.damaged else str(run.status.value)
    return {"status": status, "best": best,
            "epochs_done": f"{run.epochs_done} of {run.epochs}", "trained_on": run.device or "—",
            "train_time": format_duration(run.train_seconds), "parent": parent, "changes": changes}


class ConfigDiffDialog(QDialog):
    """Every setting and result of two runs in two columns; rows that differ are
    highlighted, and "Only differences" hides the rest."""

    def __init__(self, a: RunSummary, b: RunSummary, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Compare settings: {a.name} and {b.name}")
        self.runs = (a, b)
        values: list[dict[str, str]] = []
        configs: list[TrainConfig] = []
        problems = []
        for run in self.runs:
            try:
                config = read_config(run.path)
                shown = {k: format_value(v) for k, v in config.to_dict().items()}
                shown["network"] = network_text(config)
                configs.append(config)
            except RunError as exc:
                problems.append(str(exc))
                shown = {f.name: "unreadable" for f in fields(TrainConfig)}
            values.append({**shown, **run_facts(run)})
        layers = layer_rows(*configs) if len(configs) == 2 else {}
        for side, shown in enumerate(values):
            shown.update({key: texts[side] for key, texts in layers.items()})
        settings = [f.name for f in fields(TrainConfig)]
        at = settings.index("network") + 1
        self._keys = settings[:at] + list(layers) + settings[at:] + list(FACT_LABELS)
        self._differing = [k for k in self._keys if values[0].get(k) != values[1].get(k)]

        self.table = QTableWidget(len(self._keys), 2, objectName="configDiffTable")
        names = [a.name, b.name]
        if a.name == b.name:  # tell them apart by folder
            names = [f"{r.name} ({r.path.name})" for r in self.runs]
        self.table.setHorizontalHeaderLabels(names)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        bold = QFont(self.table.font())
        bold.setBold(True)
        for row, key in enumerate(self._keys):
            label = QTableWidgetItem(FIELD_LABELS.get(key) or FACT_LABELS.get(key)
                                     or key.replace("_", " "))
            label.setToolTip(key)
            self.table.setVerticalHeaderItem(row, label)
            for col in (0, 1):
                item = QTableWidgetItem(values[col].get(key, "—"))
                item.setToolTip(item.text())
                if key in self._differing:
                    item.setBackground(DIFFERENT_BACKGROUND)
                    item.setFont(bold)
                self.table.setItem(row, col, item)
            if key in self._differing:
                label.setFont(bold)
        self.table.resizeRowsToContents()

        self.only_differences = QCheckBox("Only differences", objectName="onlyDifferencesCheck")
        self.only_differences.setToolTip("Hide the rows where both runs agree")
        self.only_differences.toggled.connect(self._on_only_differences_toggled)
        count = QLabel(f"{len(self._differing)} of {len(self._keys)} rows differ")
        count.setStyleSheet("color: #666;")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)

        top = QHBoxLayout()
        top.addWidget(self.only_differences)
        top.addStretch(1)
        top.addWidget(count)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        if problems:
            warning = QLabel("\n".join(problems), wordWrap=True)
            warning.setStyleSheet("color: #b71c1c;")
            layout.addWidget(warning)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        table_height = (self.table.verticalHeader().length() + 2 * self.table.frameWidth()
                        + self.table.horizontalHeader().sizeHint().height())
        self.resize(620, min(720, table_height + 100))

    def differences(self) -> list[str]:
        """Keys (TrainConfig fields, then FACT_LABELS keys) of the rows that differ."""
        return list(self._differing)

    def _on_only_differences_toggled(self, only: bool) -> None:
        for row, key in enumerate(self._keys):
            self.table.setRowHidden(row, only and key not in self._differing)
