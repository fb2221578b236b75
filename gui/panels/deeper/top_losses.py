"""The hardest test images: those with the highest loss, which are the confidently wrong
ones (and the right ones the network barely believed), hardest first."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QWidget

from cnn_core.inspect.class_report import hardest

from ...widgets.thumbnails import ICON, thumbnail

TOP_K = 50
LOSS_ROLE = Qt.ItemDataRole.UserRole + 1


class TopLossesList(QListWidget):
    """``imageSelected(index)`` when a listed test image is clicked."""

    imageSelected = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("topLossesList")
        self.setIconSize(QSize(ICON, ICON))
        self.setToolTip("The test images the network finds hardest (highest loss) first. "
                        "Click one to see where the network looked.")
        self.itemClicked.connect(
            lambda item: self.imageSelected.emit(int(item.data(Qt.ItemDataRole.UserRole))))

    def set_losses(self, images: np.ndarray, labels: np.ndarray, predictions: np.ndarray,
                   confidence: np.ndarray, losses: np.ndarray,
                   class_names: Sequence[str]) -> None:
        """List the ``TOP_K`` images of highest loss, with true class, prediction and the
        probability given to the prediction."""
        self.clear()
        for i in hardest(losses, TOP_K):
            true, predicted = class_names[labels[i]], class_names[predictions[i]]
            verdict = "right" if labels[i] == predictions[i] else "wrong"
            item = QListWidgetItem(thumbnail(images[i]),
                                   f"loss {losses[i]:.2f}\ntrue {true}\n"
                                   f"said {predicted} {confidence[i]:.0%}")
            item.setData(Qt.ItemDataRole.UserRole, int(i))
            item.setData(LOSS_ROLE, float(losses[i]))
            item.setToolTip(f"test image #{i}: true {true}, predicted {predicted} with "
                            f"{confidence[i]:.1%} ({verdict}); loss {losses[i]:.3f}")
            self.addItem(item)

    def losses(self) -> list[float]:
        """The listed losses, top to bottom."""
        return [self.item(r).data(LOSS_ROLE) for r in range(self.count())]
