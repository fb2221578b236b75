"""``architectureEditor``: compose a network layer by layer and see, as you type, what
each layer makes of the chosen dataset's images.

A view of :class:`~gui.session.networks.Networks`, like the configuration's Model group:
the network shown is the one chosen there, and the one the next Start trains. A built-in
is shown as it is; the first change makes a copy of one's own.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (QComboBox, QDialog, QFileDialog, QHBoxLayout, QLabel, QLineEdit,
                               QMessageBox, QPushButton, QVBoxLayout, QWidget)

from cnn_core.export.exporters import ExportError, outside_runs
from cnn_core.nn.models import MODELS
from cnn_core.nn.spec import LAYER_TYPES, SpecError, parse_spec, spec_text
from cnn_core.runs.atomic import atomic_write_text

from ...session.network_text import new_layer
from ...session.networks import BLANK, Networks
from .layer_table import LayerTable
from ..config import ERROR_STYLE, shape_text

SPEC_FILES = "Network specs (*.json);;All files (*)"
NOTE_STYLE = "color: palette(placeholder-text);"


class ArchitectureEditor(QDialog):
    def __init__(self, networks: Networks, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("architectureEditor")
        self.setWindowTitle("Network editor")
        self.setModal(False)
        self.networks = networks
        self._saved_to: str | None = None  # said until the next change

        self.name_edit = QLineEdit(objectName="networkNameEdit")
        self.name_edit.setToolTip("The network's name: the runs list and the architecture "
                                  "list show it")
        self.start_from = QComboBox(objectName="startFromCombo")
        self.start_from.addItem("Start from…", None)
        for arch, cls in MODELS.items():
            self.start_from.addItem(cls.display_name, arch)
        self.start_from.addItem("Blank (flatten, linear)", BLANK)
        self.start_from.setToolTip("Start a new network of your own from a built-in's layers")
        self.forget_button = QPushButton("Remove from list", objectName="forgetNetworkButton")
        self.forget_button.setToolTip("Take this network off the architecture list (a saved "
                                      "file stays)")
        self.note = QLabel(wordWrap=True, objectName="networkNote")
        self.note.setStyleSheet(NOTE_STYLE)
        self.table = LayerTable(networks)

        self.add_type = QComboBox(objectName="addLayerType")
        self.add_type.addItems(LAYER_TYPES)
        self.add_type.setCurrentText("conv2d")
        self.add_type.setToolTip("The type of layer Add inserts")
        self.buttons = {
            "add": self._button("Add", "addLayerButton", "Insert a layer of this type after "
                                "the selected one", ("Insert", "Ctrl+I"), self.add_layer),
            "remove": self._button("Remove", "removeLayerButton", "Remove the selected layer",
                                   ("Delete", "Ctrl+Backspace"), self.remove_layer),
            "duplicate": self._button("Duplicate", "duplicateLayerButton",
                                      "Insert a copy of the selected layer after it",
                                      ("Ctrl+D",), self.duplicate_layer),
            "up": self._button("▲ Up", "moveLayerUpButton", "Move the selected layer up",
                               ("Alt+Up", "Ctrl+Up"), lambda: self.move_layer(-1)),
            "down": self._button("▼ Down", "moveLayerDownButton",
                                 "Move the selected layer down", ("Alt+Down", "Ctrl+Down"),
                                 lambda: self.move_layer(1)),
        }
        self.save_button = self._button("Save as…", "saveArchitectureButton",
                                        "Write this network to a JSON file",
                                        ("Ctrl+S",), self.save_as)
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        self.message = QLabel(wordWrap=True, objectName="networkMessage")
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        top = QHBoxLayout()
        name_label = QLabel("&Name")
        name_label.setBuddy(self.name_edit)
        top.addWidget(name_label)
        top.addWidget(self.name_edit, 1)
        top.addWidget(self.start_from)
        top.addWidget(self.forget_button)
        edits = QHBoxLayout()
        edits.addWidget(self.add_type)
        for key in ("add", "remove", "duplicate", "up", "down"):
            edits.addWidget(self.buttons[key])
        edits.addStretch(1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.message, 1)
        bottom.addWidget(self.save_button, 0, Qt.AlignmentFlag.AlignTop)
        bottom.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.note)
        layout.addWidget(self.table, 1)
        layout.addLayout(edits)
        layout.addLayout(bottom)
        self.table.setMinimumHeight(220)
        for button in self.findChildren(QPushButton):
            button.setAutoDefault(False)  # Enter in the name field must not remove anything
        self.resize(860, 560)

        self.name_edit.textEdited.connect(networks.set_name)
        self.start_from.currentIndexChanged.connect(self._on_start_from)
        self.forget_button.clicked.connect(self.forget)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        for signal in (networks.edited, networks.currentChanged, networks.lockedChanged):
            signal.connect(self.refresh)
        self.refresh()

    def _button(self, text: str, name: str, tip: str, keys: tuple[str, ...],
                slot: Callable[[], object]) -> QPushButton:
        button = QPushButton(text, objectName=name)
        button.setToolTip(f"{tip} ({' or '.join(QKeySequence(k).toString() for k in keys)})")
        button.clicked.connect(slot)
        for key in keys:
            QShortcut(QKeySequence(key), self, slot)
        return button

    # -- what the network says ----------------------------------------------------------

    def refresh(self) -> None:
        networks = self.networks
        network = networks.current
        if self.name_edit.text().strip() != network.name:
            self.name_edit.setText(network.name)
        locked = networks.locked
        if locked:
            self.note.setText("The network cannot change now: a run is training, or is about "
                              "to resume or branch with its own network.")
        elif network.builtin is not None:
            self.note.setText(f"{MODELS[network.builtin].display_name} is built in: your first "
                              "change makes a copy of your own, which Start then trains.")
        else:
            self.note.setText("Your own network: Start trains it as it is here. Double-click "
                              "a cell (or press F2) to change it.")
        self.name_edit.setReadOnly(locked)
        self.start_from.setEnabled(not locked)
        self.forget_button.setEnabled(not locked and network.builtin is None)
        self._show_report()
        self._update_buttons()

    def _show_report(self) -> None:
        networks, report = self.networks, self.networks.report
        if report.error is not None:
            self.message.setStyleSheet(ERROR_STYLE)
            self.message.setText(f"Cannot train this network: {report.error}")
            self._saved_to = None
            return
        self.message.setStyleSheet(NOTE_STYLE)
        text = (f"Input {shape_text(networks.input_shape)}, {networks.num_classes} classes: "
                f"{report.parameters:,} parameters.")
        self.message.setText(f"{text} Saved to {self._saved_to}." if self._saved_to else text)
        self._saved_to = None

    def _update_buttons(self) -> None:
        locked = self.networks.locked
        row, count = self._row(), len(self.networks.current.layers)
        self.add_type.setEnabled(not locked)
        self.buttons["add"].setEnabled(not locked)
        self.buttons["remove"].setEnabled(not locked and row is not None and count > 1)
        self.buttons["duplicate"].setEnabled(not locked and row is not None)
        self.buttons["up"].setEnabled(not locked and row is not None and row > 0)
        self.buttons["down"].setEnabled(not locked and row is not None and row < count - 1)

    # -- the person's edits -------------------------------------------------------------

    def add_layer(self) -> None:
        row = self._row()
        self._insert(len(self.networks.current.layers) if row is None else row + 1,
                     new_layer(self.add_type.currentText()))

    def duplicate_layer(self) -> None:
        row = self._row()
        if row is not None:
            copy = self.networks.layer(row)
            copy.pop("name", None)  # names are unique: the copy gets one of its own
            self._insert(row + 1, copy)

    def remove_layer(self) -> None:
        row = self._row()
        if row is not None and self.buttons["remove"].isEnabled():
            self.table.stop_typing()
            self.networks.remove_layer(row)
            self._select(min(row, len(self.networks.current.layers) - 1))

    def move_layer(self, step: int) -> None:
        row = self._row()
        if row is not None and 0 <= row + step < len(self.networks.current.layers):
            self.table.stop_typing()
            self.networks.move_layer(row, row + step)
            self._select(row + step)

    def _insert(self, row: int, layer: dict[str, Any]) -> None:
        if self.networks.locked:
            return
        self.table.stop_typing()
        self.networks.insert_layer(row, layer)
        self._select(row)

    def _on_start_from(self, index: int) -> None:
        preset = self.start_from.itemData(index)
        if preset is None:
            return
        self.start_from.blockSignals(True)
        self.start_from.setCurrentIndex(0)
        self.start_from.blockSignals(False)
        self.table.stop_typing()
        self.networks.start_from(preset)
        self.name_edit.setFocus()
        self.name_edit.selectAll()

    def forget(self) -> None:
        name = self.networks.current.name
        answer = QMessageBox.question(
            self, "Remove from list", f"Take “{name}” off the architecture list? A file you "
            "saved it to stays; anything not saved is lost.")
        if answer == QMessageBox.StandardButton.Yes:
            self.table.stop_typing()
            self.networks.remove_current()

    def save_as(self) -> None:
        """Write the network as a JSON spec (``python -m cnn_core train --arch`` takes it)."""
        try:
            spec = parse_spec(self.networks.current.spec)
        except SpecError as exc:
            self._say(f"Cannot save: {exc}")
            return
        suggested = (re.sub(r"[^\w.-]+", "-", spec.name).strip("-") or "network") + ".json"
        path, _ = QFileDialog.getSaveFileName(self, "Save network", suggested, SPEC_FILES)
        if not path:
            return
        try:
            atomic_write_text(outside_runs(path), spec_text(spec))
        except ExportError as refused:
            self._say(f"Could not save: {refused}")
            return
        except OSError as exc:
            self._say(f"Could not save {Path(path).name}: {exc.strerror or exc}")
            return
        self._saved_to = path
        self._show_report()

    # -- inside -------------------------------------------------------------------------

    def _say(self, text: str) -> None:
        self.message.setStyleSheet(ERROR_STYLE)
        self.message.setText(text)

    def _row(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        return rows[0].row() if rows else None

    def _select(self, row: int) -> None:
        if 0 <= row < self.table.rowCount():
            self.table.selectRow(row)
            self.table.setFocus()
