"""The configuration's Model group: which network (the built-ins, then one's own), what it
is, and its layers' shapes for the chosen dataset; "Edit…" opens the editor.

A view of :class:`~gui.session.networks.Networks`. The untrained model it describes is
built only for a network that can be built, and after typing pauses: a big network takes
a moment to initialise, and the filters panel shows it.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QHeaderView,
                               QLabel, QPushButton, QTableWidget, QTableWidgetItem, QWidget)

from cnn_core.nn.models import MODELS, StudioModel, build_model

from ...session.networks import Networks

BAD_ROW = QColor("#ffebee")
ERROR_STYLE = "color: #c62828;"
PREVIEW_DELAY_MS = 400


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

    def __init__(self, networks: Networks, parent: QWidget | None = None) -> None:
        super().__init__("Model", parent)
        self.networks = networks
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
