"""``layerTable``: the chosen network's layers, one row each -- type, name, settings, and
the output shape and parameter count they give for the chosen dataset.

A view of :class:`~gui.session.networks.Networks`. Every keystroke in a cell goes straight
to the network, so the shapes (and whether Start may train it) follow as one types; the
table then shows what the network says, without touching the cell being typed in.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (QAbstractItemModel, QModelIndex, QPersistentModelIndex, Qt, QTimer,
                            Signal)
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (QAbstractItemDelegate, QComboBox, QHeaderView, QLineEdit,
                               QStyledItemDelegate, QStyleOptionViewItem, QTableWidget,
                               QTableWidgetItem, QWidget)

from cnn_core.nn.spec import LAYER_TYPES

from ...session.network_text import parse_settings, settings_help, settings_text
from ...session.networks import Networks
from ..config import BAD_ROW, shape_text

TYPE, NAME, SETTINGS, OUTPUT, PARAMS = range(5)
EDIT_TEXT = Qt.ItemDataRole.UserRole  # what a cell's editor starts with
AUTO_NAME = QColor("#888888")
NAME_TIP = ("The layer's name (the filters and feature maps panels show it). Leave it empty "
            "to have one given (in grey); a dot groups layers into a block: block1.conv.")


class _TextDelegate(QStyledItemDelegate):
    """A line editor that reports every keystroke; the model's echo of it is ignored, so
    the cursor stays where the person is typing."""

    typed = Signal(int, int, str)  # row, column, text

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem,  # noqa: N802
                     index: QModelIndex) -> QWidget:
        editor = QLineEdit(parent)
        editor.setFrame(False)
        where = QPersistentModelIndex(index)
        editor.textEdited.connect(lambda text: self.typed.emit(where.row(), where.column(), text))
        return editor

    def setEditorData(self, editor: QWidget, index: QModelIndex) -> None:  # noqa: N802
        if editor.property("started"):
            return
        editor.setProperty("started", True)
        editor.setText(index.data(EDIT_TEXT) or "")
        if index.column() == NAME:
            editor.setPlaceholderText(index.data(Qt.ItemDataRole.DisplayRole) or "")

    def setModelData(self, editor: QWidget, model: QAbstractItemModel,  # noqa: N802
                     index: QModelIndex) -> None:
        pass  # already there, keystroke by keystroke


class _TypeDelegate(QStyledItemDelegate):
    """A list of the layer types, open at once; choosing one changes the layer."""

    chosen = Signal(int, str)  # row, type

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem,  # noqa: N802
                     index: QModelIndex) -> QWidget:
        editor = QComboBox(parent)
        editor.addItems(LAYER_TYPES)
        where = QPersistentModelIndex(index)

        def choose(position: int) -> None:
            self.chosen.emit(where.row(), LAYER_TYPES[position])
            self.closeEditor.emit(editor, QAbstractItemDelegate.EndEditHint.NoHint)

        editor.activated.connect(choose)
        QTimer.singleShot(0, editor, editor.showPopup)
        return editor

    def setEditorData(self, editor: QWidget, index: QModelIndex) -> None:  # noqa: N802
        if not editor.property("started"):
            editor.setProperty("started", True)
            editor.setCurrentText(index.data(EDIT_TEXT) or "")

    def setModelData(self, editor: QWidget, model: QAbstractItemModel,  # noqa: N802
                     index: QModelIndex) -> None:
        pass  # chosen by activation, not by leaving the list


class LayerTable(QTableWidget):
    def __init__(self, networks: Networks, parent: QWidget | None = None) -> None:
        super().__init__(0, 5, parent)
        self.setObjectName("layerTable")
        self.networks = networks
        self.setHorizontalHeaderLabels(["Type", "Name", "Settings", "Output", "Params"])
        self.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.setEditTriggers(QTableWidget.EditTrigger.DoubleClicked
                             | QTableWidget.EditTrigger.SelectedClicked
                             | QTableWidget.EditTrigger.EditKeyPressed
                             | QTableWidget.EditTrigger.AnyKeyPressed)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        header = self.horizontalHeader()
        header.setSectionResizeMode(SETTINGS, QHeaderView.ResizeMode.Stretch)
        for col in (TYPE, NAME, OUTPUT, PARAMS):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
        for col, width in ((TYPE, 110), (NAME, 110), (OUTPUT, 90), (PARAMS, 80)):
            self.setColumnWidth(col, width)
        self._text_delegate = _TextDelegate(self)
        self._type_delegate = _TypeDelegate(self)
        for col in (NAME, SETTINGS):
            self.setItemDelegateForColumn(col, self._text_delegate)
        self.setItemDelegateForColumn(TYPE, self._type_delegate)
        self._text_delegate.typed.connect(self._on_typed)
        self._type_delegate.chosen.connect(networks.set_type)
        for signal in (networks.edited, networks.currentChanged, networks.lockedChanged):
            signal.connect(self.refresh)
        self.refresh()

    def stop_typing(self) -> None:
        """Close an open cell editor (what it holds is in the network already): before
        rows move, so that it cannot go on typing into another layer."""
        index = self.currentIndex()
        editor = self.indexWidget(index) if index.isValid() else None
        if editor is not None:
            self.closeEditor(editor, QAbstractItemDelegate.EndEditHint.NoHint)

    def refresh(self) -> None:
        networks = self.networks
        report = networks.report
        layers = networks.current.layers
        shapes = {row.number: row for row in report.shapes}
        if self.rowCount() != len(layers):
            self.setRowCount(len(layers))
        for row, raw in enumerate(layers):
            layer: dict[str, Any] = raw if isinstance(raw, dict) else {}
            kind = str(layer.get("type", ""))
            shape = shapes.get(row + 1)
            given = layer.get("name")
            given = given if isinstance(given, str) else ""
            bad = report.bad_layer == row + 1
            settings = settings_text(layer)
            cells = [
                (kind, kind, "Double-click or press F2 to change the type"),
                (given or (shape.name if shape else ""), given, NAME_TIP),
                (settings, settings, settings_help(kind)),
                (shape_text(shape.output) if shape else "⚠" if bad else "", None, None),
                (f"{shape.parameters:,}" if shape and shape.parameters else "", None, None),
            ]
            number = self.verticalHeaderItem(row) or QTableWidgetItem()
            number.setText(f"⚠ {row + 1}" if bad else str(row + 1))
            number.setToolTip(report.error if bad else "")
            self.setVerticalHeaderItem(row, number)
            for col, (text, edit_text, tip) in enumerate(cells):
                item = self._item(row, col, edit_text is not None)
                _update(item, Qt.ItemDataRole.DisplayRole, text)
                _update(item, EDIT_TEXT, edit_text)
                _update(item, Qt.ItemDataRole.ToolTipRole, report.error if bad else tip)
                _update(item, Qt.ItemDataRole.BackgroundRole, BAD_ROW if bad else None)
                if col == NAME:
                    auto = not given
                    _update(item, Qt.ItemDataRole.ForegroundRole, AUTO_NAME if auto else None)
                    font = QFont(self.font())
                    font.setItalic(auto)
                    _update(item, Qt.ItemDataRole.FontRole, font)

    def _item(self, row: int, col: int, editable: bool) -> QTableWidgetItem:
        item = self.item(row, col)
        if item is None:
            item = QTableWidgetItem()
            if col in (OUTPUT, PARAMS):
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.setItem(row, col, item)
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if editable and not self.networks.locked:
            flags |= Qt.ItemFlag.ItemIsEditable
        if item.flags() != flags:
            item.setFlags(flags)
        return item

    def _on_typed(self, row: int, col: int, text: str) -> None:
        if col == NAME:
            self.networks.set_layer_name(row, text)
        else:
            self.networks.set_settings(row, parse_settings(text))


def _update(item: QTableWidgetItem, role: Qt.ItemDataRole, value: Any) -> None:
    """Set only what changed: each change repaints, and re-reads an open editor."""
    if item.data(role) != value:
        item.setData(role, value)
