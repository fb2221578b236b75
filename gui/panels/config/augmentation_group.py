"""The configuration's Augmentation group: how much each training image may be moved,
mirrored, turned, zoomed and relit, with a preview of what the network will see.

The settings are the run's ``augment`` text (:mod:`cnn_core.data.augment`). The preview
augments a few training images on the GUI thread: ten small images, augmented and drawn,
take a few milliseconds, less than handing them to a worker thread would save.
"""

from __future__ import annotations

import torch
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QCheckBox, QDoubleSpinBox, QGridLayout, QGroupBox, QLabel,
                               QPushButton, QSizePolicy, QSpinBox, QVBoxLayout, QWidget)

from cnn_core.data.augment import LIMITS, Augmentation, augment_batch, parse_augmentation
from cnn_core.data.bundle import DatasetInfo, denormalize
from cnn_core.export.render import render_grid

from ...widgets.grid_view import GridView

ROWS = 2  # training images in the preview, one per row
DRAWS = 5  # random draws of each, after the original
NO_SOURCE = "Examples appear once a dataset is loaded"

# option -> (label, suffix, tooltip)
AMOUNTS: dict[str, tuple[str, str, str]] = {
    "shift": ("Shift", " px", "Move each image by up to this many pixels, across and up or "
              "down (what is uncovered is black). Helps when things are not centred."),
    "rotate": ("Rotate", "°", "Turn each image by up to this many degrees either way. Helps "
               "with tilted handwriting or photos."),
    "scale": ("Scale", " %", "Zoom each image in or out by up to this percentage. Helps "
              "when things come in different sizes."),
    "brightness": ("Brightness", " %", "Make each image up to this much lighter or darker."),
    "contrast": ("Contrast", " %", "Make each image's light and dark parts up to this much "
                 "more or less different."),
}


class _Amount(QDoubleSpinBox):
    """A ± amount shown as briefly as the settings text writes it (10, not 10.00)."""

    def textFromValue(self, value: float) -> str:  # noqa: N802 - Qt naming
        return f"{value:g}"


class AugmentationGroup(QGroupBox):
    """``changed(text)`` whenever the settings change, by hand or by :meth:`set_text`."""

    changed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Augmentation", parent, objectName="augmentationGroup")
        self.setToolTip("Random changes to every training image, drawn afresh each epoch, "
                        "so the network learns what matters rather than where it is. "
                        "Test images are never changed.")
        self.spins: dict[str, QSpinBox | QDoubleSpinBox] = {}
        for name, (_, suffix, tip) in AMOUNTS.items():
            spin = QSpinBox() if name == "shift" else _Amount(decimals=2, singleStep=1.0)
            spin.setObjectName(f"augment{name.title()}Spin")
            spin.setRange(0, int(LIMITS[name][0]))
            spin.setSuffix(suffix)
            spin.setToolTip(tip)
            spin.setKeyboardTracking(False)
            self.spins[name] = spin
        self.flip = QCheckBox("Flip", objectName="augmentFlipCheck")
        self.flip.setToolTip("Mirror half of the images left to right. Good for photos; "
                             "wrong for digits and letters, which mean something else mirrored.")
        self.redraw = QPushButton("New examples", objectName="augmentRedrawButton")
        self.redraw.setToolTip("Draw other random changes for the examples")
        self.preview = GridView(object_name="augmentationPreview")
        self.preview.setToolTip("Each row: a training image, then what the network might "
                                "see of it in five epochs")
        self.preview.setFixedHeight(130)
        # as wide as the group is: its own wish (a plot's 640 pixels) would widen the dock
        self.preview.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self._source: torch.Tensor | None = None
        self._info: DatasetInfo | None = None
        self._draw = 0  # advanced by "New examples"
        self._augmentation = Augmentation()

        grid = QGridLayout()
        for i, (name, spin) in enumerate(self.spins.items()):
            label = QLabel(AMOUNTS[name][0])
            label.setBuddy(spin)
            grid.addWidget(label, i // 2, 2 * (i % 2))
            grid.addWidget(spin, i // 2, 2 * (i % 2) + 1)
        grid.addWidget(self.flip, 2, 2, 1, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        layout.addWidget(self.preview)
        layout.addWidget(self.redraw)

        for spin in self.spins.values():
            spin.valueChanged.connect(self._on_edited)
        self.flip.toggled.connect(self._on_edited)
        self.redraw.clicked.connect(self._on_redraw)
        self._refresh()

    # -- public --------------------------------------------------------------------------

    def text(self) -> str:
        """The canonical settings text, as ``TrainConfig.augment`` holds it ("" for none)."""
        return self._augmentation.text

    def set_text(self, text: str) -> None:
        """Show the settings ``text``; raises ValueError (and changes nothing) for bad text."""
        augmentation = parse_augmentation(text)
        widgets = [*self.spins.values(), self.flip]
        for widget in widgets:
            widget.blockSignals(True)
        for name, spin in self.spins.items():
            spin.setValue(getattr(augmentation, name))
        self.flip.setChecked(augmentation.flip)
        for widget in widgets:
            widget.blockSignals(False)
        self._on_edited()

    def set_source(self, images: torch.Tensor | None, info: DatasetInfo | None = None) -> None:
        """A few normalised training images (N, C, H, W) of the dataset ``info`` describes,
        for the preview; None clears it."""
        if images is None or len(images) == 0 or info is None:
            self._source, self._info = None, None
        else:
            self._source, self._info = images[:ROWS].detach().to("cpu", torch.float32), info
        self._refresh()

    # -- the controls' changes -----------------------------------------------------------

    def _on_edited(self) -> None:
        values = {name: spin.value() for name, spin in self.spins.items()}
        augmentation = Augmentation(flip=self.flip.isChecked(), **values)
        if augmentation == self._augmentation:
            return
        self._augmentation = augmentation
        self._refresh()
        self.changed.emit(augmentation.text)

    def _on_redraw(self) -> None:
        self._draw += 1
        self._refresh()

    def _refresh(self) -> None:
        source, info = self._source, self._info
        self.redraw.setEnabled(source is not None and self._augmentation.active)
        if source is None or info is None:
            self.preview.clear_grid(NO_SOURCE)
            return
        n = len(source)
        batch = source.repeat_interleave(DRAWS, dim=0)
        generator = torch.Generator().manual_seed(self._draw)
        drawn = augment_batch(batch, self._augmentation, info, generator).view(
            n, DRAWS, *source.shape[1:])
        tiles = torch.cat([source.unsqueeze(1), drawn], dim=1).flatten(0, 1)
        pixels = denormalize(tiles, info).permute(0, 2, 3, 1).expand(-1, -1, -1, 3).numpy()
        title = ("Original, then five random draws" if self._augmentation.active
                 else "No augmentation: every epoch sees the same images")
        self.preview.set_grid(render_grid(pixels, cols=DRAWS + 1, signed=False), title,
                              labels=False, describe=self._describe)

    @staticmethod
    def _describe(index: int) -> str:
        row, col = divmod(index, DRAWS + 1)
        return f"Image {row + 1}, as loaded" if col == 0 else f"Image {row + 1}, draw {col}"
