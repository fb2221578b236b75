"""The configuration's Model group: which network (the built-ins, then one's own), what it
starts from (from scratch, or one of your runs' weights, and which layers stay frozen),
what it is, and its layers' shapes for the chosen dataset; "Edit…" opens the editor.

A view of :class:`~gui.session.networks.Networks` and of the runs folder
(:class:`~gui.session.runs_model.RunsModel`, as the Runs panel lists it). The untrained
model it describes is built only for a network that can be built, and after typing
pauses: a big network takes a moment to initialise, and the filters panel shows it.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QHeaderView,
                               QLabel, QPushButton, QTableWidget, QTableWidgetItem, QWidget)

from pathlib import Path
from typing import Any

from cnn_core.nn.models import MODELS, StudioModel, build_model
from cnn_core.runs.store import shown_checkpoint

from ...session.networks import Networks
from ...session.runs_model import RunsModel

BAD_ROW = QColor("#ffebee")
ERROR_STYLE = "color: #c62828;"
PREVIEW_DELAY_MS = 400
SCRATCH = "From scratch"
FREEZE_CHOICES = (("Nothing", "none"), ("Features (before the 1st linear)", "features"),
                  ("All but the last linear", "all-but-head"))


def error_label() -> QLabel:
    """A red, wrapping label under a field, hidden until there is something to say."""
    label = QLabel()
    label.setStyleSheet(ERROR_STYLE)
    label.setWordWrap(True)
    label.hide()
    return label


def shape_text(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape))


class ModelGroup(QGroupBox):
    editRequested = Signal()
    modelPreviewed = Signal(object)  # the untrained model the summary describes
    startChanged = Signal()  # what the network starts from, or what of it is frozen

    def __init__(self, networks: Networks, runs: RunsModel | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__("Model", parent)
        self.networks = networks
        self.runs = runs
        self.combo = QComboBox(objectName="architectureCombo")
        self.combo.setToolTip("The network to train (all built from CNN Studio's own Conv2D "
                              "layers). Your own networks follow the built-ins.")
        self.edit_button = QPushButton("Edit…", objectName="editArchitectureButton")
        self.edit_button.setToolTip("Compose your own network, layer by layer, or see how "
                                    "this one is built")
        self.error = error_label()
        self.error.setObjectName("archError")
        self.description = QLabel(wordWrap=True)
        self.description.setStyleSheet("color: palette(placeholder-text);")
        self.summary = QTableWidget(0, 3, objectName="layerSummary")
        self.summary.setHorizontalHeaderLabels(["Layer", "Output", "Params"])
        self.summary.verticalHeader().hide()
        self.summary.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.summary.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        header = self.summary.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in (1, 2):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        self.summary.setMinimumHeight(150)
        self.init_combo = QComboBox(objectName="initFromCombo")
        self.init_combo.setToolTip(
            "Start from scratch, or from what one of your runs learnt (its best epoch): "
            "every layer whose name and shape match is copied; the rest, such as a last "
            "layer for another number of classes, starts fresh.")
        self.init_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.init_combo.setMinimumContentsLength(12)  # run names are long: the window is not
        self.init_error = error_label()
        self.freeze_combo = QComboBox(objectName="freezeCombo")
        self.freeze_combo.setToolTip(
            "Layers that keep the weights they start with (no gradient; batch norm keeps "
            "its statistics): the features, or all but the last linear layer.")
        for text, mode in FREEZE_CHOICES:
            self.freeze_combo.addItem(text, mode)
        self.freeze_error = error_label()
        self._starts: list[str | dict[str, Any] | None] = []  # the init combo's items
        self._start_editable = True
        self.preview_model: StudioModel | None = None
        self._preview_timer = QTimer(self, singleShot=True, interval=PREVIEW_DELAY_MS)
        self._preview_timer.timeout.connect(self._preview)

        row = QHBoxLayout()
        row.addWidget(self.combo, 1)
        row.addWidget(self.edit_button)
        form = QFormLayout(self)
        label = QLabel("&Architecture")
        label.setBuddy(self.combo)
        form.addRow(label, row)
        form.addRow("", self.error)
        form.addRow("Start &from", self.init_combo)
        form.addRow("", self.init_error)
        form.addRow("Free&ze", self.freeze_combo)
        form.addRow("", self.freeze_error)
        form.addRow(self.description)
        form.addRow(self.summary)

        self._on_list_changed()
        self._on_edited()
        self._preview()
        networks.listChanged.connect(self._on_list_changed)
        networks.currentChanged.connect(self._on_current_changed)
        networks.edited.connect(self._on_edited)
        networks.lockedChanged.connect(lambda locked: locked and self._preview_timer.stop())
        self.combo.currentIndexChanged.connect(self._on_combo_changed)
        self.edit_button.clicked.connect(self.editRequested)
        self._fill_starts(None)
        self.init_combo.currentIndexChanged.connect(self._on_start_chosen)
        self.freeze_combo.currentIndexChanged.connect(self.startChanged)
        if runs is not None:
            runs.runsChanged.connect(self._on_runs_changed)  # a new runs folder too

    # -- the model's changes ------------------------------------------------------------

    def _on_list_changed(self) -> None:
        networks = self.networks
        self.combo.blockSignals(True)
        self.combo.clear()
        for index, network in enumerate(networks.networks):
            if network.builtin is not None:
                cls = MODELS[network.builtin]
                self.combo.addItem(cls.display_name, network.builtin)
                tip = cls.description
            else:
                if self.combo.count() == len(MODELS):
                    self.combo.insertSeparator(self.combo.count())
                self.combo.addItem(networks.label(index), network.name)
                tip = f"Your own network: {len(network.layers)} layers"
            self.combo.setItemData(self.combo.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        self.combo.setCurrentIndex(self._combo_index(networks.index))
        self.combo.blockSignals(False)

    def _on_current_changed(self) -> None:
        self.combo.blockSignals(True)
        self.combo.setCurrentIndex(self._combo_index(self.networks.index))
        self.combo.blockSignals(False)
        self._on_edited()
        self._preview()

    def _on_edited(self) -> None:
        networks = self.networks
        network = networks.current
        if network.builtin is not None:
            self.description.setText(MODELS[network.builtin].description)
        else:
            self.description.setText(f"Your own network, {len(network.layers)} layers: "
                                     "Edit… changes it, and Start trains it as it is.")
        self._fill_summary()
        self._preview_timer.start()

    def _fill_summary(self) -> None:
        report = self.networks.report
        rows = report.shapes
        bad = report.bad_layer
        extra = 1 if bad is not None and bad > len(rows) else 0
        self.summary.setRowCount(len(rows) + extra + 1)
        cells = [(f"{row.name}  ({row.type})", shape_text(row.output),
                  f"{row.parameters:,}" if row.parameters else "") for row in rows]
        if extra:
            cells.append((f"layer {bad}: cannot be built", "", ""))
        for r, texts in enumerate(cells):
            for c, text in enumerate(texts):
                item = QTableWidgetItem(text)
                if c:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                if r + 1 == bad:
                    item.setBackground(BAD_ROW)
                    item.setToolTip(report.error)
                self.summary.setItem(r, c, item)
        last = len(cells)
        self.summary.setItem(last, 0, QTableWidgetItem(
            f"total, input {shape_text(self.networks.input_shape)}"))
        total = QTableWidgetItem(f"{report.parameters:,}" if report.error is None else "—")
        total.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.summary.setItem(last, 1, QTableWidgetItem(""))
        self.summary.setItem(last, 2, total)

    def _preview(self) -> None:
        """Build the untrained model (only one that can be built) for the filters panel;
        never while a run trains: building draws from torch's random generator, which the
        run's seeded initialisation shares."""
        self._preview_timer.stop()
        networks = self.networks
        if networks.report.error is not None or networks.locked:
            return
        channels, size, _ = networks.input_shape
        self.preview_model = build_model(networks.arch, channels, networks.num_classes, size,
                                         network=networks.network)
        self.modelPreviewed.emit(self.preview_model)

    # -- the person's choice ------------------------------------------------------------

    def _on_combo_changed(self, combo_index: int) -> None:
        self.networks.choose(combo_index - (combo_index > len(MODELS)))  # the separator

    def _combo_index(self, index: int) -> int:
        return index + (index >= len(MODELS))

    # -- what it starts from ------------------------------------------------------------

    @property
    def start(self) -> str | dict[str, Any] | None:
        """The run folder chosen to start from (a recorded start as its record), or None
        for from scratch."""
        index = self.init_combo.currentIndex()
        return self._starts[index] if 0 <= index < len(self._starts) else None

    @property
    def freeze(self) -> str:
        """The layers kept as they start ("none" from scratch: nothing was given)."""
        return "none" if self.start is None else self.freeze_combo.currentData()

    def set_start(self, start: str | dict[str, Any] | None, freeze: str) -> None:
        self._fill_starts(start)
        index = self.freeze_combo.findData(freeze)
        self.freeze_combo.setCurrentIndex(max(index, 0))

    def set_start_editable(self, editable: bool) -> None:
        """Whether the start may change (not for a continuation: it has its weights)."""
        self._start_editable = editable
        self.init_combo.setEnabled(editable)
        self._update_freeze()

    def _fill_starts(self, keep: str | dict[str, Any] | None) -> None:
        """From scratch, then every run with a checkpoint, newest first; ``keep`` stays
        chosen, listed on its own if it is not one of them (a run's recorded start, or a
        run gone since: its check says so)."""
        runs = [run for run in (self.runs.runs() if self.runs is not None else [])
                if not run.damaged and shown_checkpoint(run.path).is_file()]
        starts: list[str | dict[str, Any] | None] = [None, *(str(run.path) for run in runs)]
        labels = [SCRATCH, *(run.name for run in runs)]
        tips = ["Random weights, as the seed draws them",
                *(f"{run.path}\n{run.arch} on {Path(run.dataset).name}" for run in runs)]
        if isinstance(keep, str):  # one spelling per run folder
            keep = next((s for s in starts[1:] if Path(s).resolve() == Path(keep).resolve()),
                        keep)
        if keep not in starts:
            names = {str(run.path.resolve()): run.name for run in runs}
            path = Path(keep["path"]).parent.parent if isinstance(keep, dict) else Path(keep)
            name = names.get(str(path.resolve()), path.name)
            starts.append(keep)
            labels.append(f"{name} (as recorded)" if isinstance(keep, dict) else name)
            tips.append(keep["path"] if isinstance(keep, dict) else str(keep))
        self.init_combo.blockSignals(True)
        self.init_combo.clear()
        for label, tip in zip(labels, tips):
            self.init_combo.addItem(label)
            self.init_combo.setItemData(self.init_combo.count() - 1, tip,
                                        Qt.ItemDataRole.ToolTipRole)
        self._starts = starts
        self.init_combo.setCurrentIndex(starts.index(keep))
        self.init_combo.blockSignals(False)
        self._update_freeze()

    def _on_runs_changed(self) -> None:
        self._fill_starts(self.start)
        self.startChanged.emit()  # the run chosen may be gone: checked again

    def _on_start_chosen(self) -> None:
        self._update_freeze()
        self.startChanged.emit()

    def _update_freeze(self) -> None:
        self.freeze_combo.setEnabled(self._start_editable and self.start is not None)
