"""The embedding panel: a point per test image, coloured by its true class, mistakes
marked; hover shows the image, a click chooses it; the user's zoom survives new epochs."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtWidgets import QLabel

from gui.panels.deeper import EmbeddingPanel

NAMES = ("zero", "one", "two")
# six images on a wide grid, so that no two points overlap on screen
COORDS = np.array([[0, 0], [10, 0], [20, 0], [0, 10], [10, 10], [20, 10]], float)
INDICES = np.array([5, 4, 3, 2, 1, 0])  # rows in another order than the test set
LABELS = np.array([0, 0, 1, 1, 2, 2], np.int64)  # of the test set, by test index
PREDICTIONS = np.array([2, 2, 1, 1, 2, 0])  # per row: test image 1 (class 0) is wrong


@pytest.fixture
def panel(qtbot) -> EmbeddingPanel:
    panel = EmbeddingPanel()
    qtbot.addWidget(panel)
    panel.resize(840, 380)
    images = np.arange(6 * 4 * 4 * 3, dtype=np.uint8).reshape(6, 4, 4, 3)
    panel.set_test_set(images, LABELS, NAMES)
    return panel


def shown(qtbot, panel: EmbeddingPanel) -> None:
    panel.show()
    qtbot.waitExposed(panel)
    panel.show_embedding(COORDS, INDICES, PREDICTIONS, "Epoch 1: PCA")
    box = panel.plot.getPlotItem().getViewBox()
    qtbot.waitUntil(lambda: box.viewRect().contains(QPointF(20, 10)))


def spot(panel: EmbeddingPanel, test_index: int) -> np.void:
    """The scatter's record of one test image (the panel draws them in its own order)."""
    rows = np.flatnonzero(panel.scatter.data["data"] == test_index)
    assert len(rows) == 1
    return panel.scatter.data[rows[0]]


def legend(panel: EmbeddingPanel) -> list[str]:
    return [label.text() for label in panel.legend.findChildren(QLabel)
            if label.text() and label.isVisibleTo(panel.legend)]


def on_screen(panel: EmbeddingPanel, test_index: int) -> QPoint:
    """Where test image ``test_index`` is drawn, in the plot's viewport."""
    row = int(np.flatnonzero(INDICES == test_index)[0])
    box = panel.plot.getPlotItem().getViewBox()
    scene = box.mapViewToScene(QPointF(*COORDS[row]))
    return panel.plot.mapFromScene(scene)


def test_one_point_per_row_coloured_by_true_class_mistakes_marked(panel) -> None:
    panel.show_embedding(COORDS, INDICES, PREDICTIONS, "Epoch 1: PCA")
    assert len(panel.scatter.data) == len(COORDS)
    assert sorted(panel.scatter.data["data"]) == sorted(INDICES)
    row = spot(panel, 2)  # row 3 of COORDS
    assert (row["x"], row["y"]) == (0, 10)
    colour = {i: spot(panel, i)["brush"].color().name() for i in range(6)}
    assert colour[0] == colour[1] and colour[2] == colour[3] and colour[4] == colour[5]
    assert len({colour[0], colour[2], colour[4]}) == 3
    assert spot(panel, 1)["symbol"] == "x"  # class 0 predicted 2
    assert {spot(panel, i)["symbol"] for i in (0, 2, 3, 4, 5)} == {"o"}
    assert panel.caption.text() == "Epoch 1: PCA"
    assert panel.plot.getPlotItem().getAxis("bottom").labelText == "component 1"


def test_without_predictions_nothing_is_marked_and_the_legend_says_so(panel) -> None:
    panel.show_embedding(COORDS, INDICES, None, "")
    assert {spot(panel, i)["symbol"] for i in range(6)} == {"o"}
    assert legend(panel) == list(NAMES)
    panel.show_embedding(COORDS, INDICES, PREDICTIONS, "")
    assert legend(panel) == [*NAMES, "predicted wrong"]


def test_many_classes_are_counted_not_listed(qtbot) -> None:
    panel = EmbeddingPanel()
    qtbot.addWidget(panel)
    labels = np.arange(40, dtype=np.int64)
    panel.set_test_set(np.zeros((40, 2, 2, 1), np.uint8), labels, [str(i) for i in labels])
    panel.show_embedding(np.random.default_rng(0).normal(size=(40, 2)), labels, labels, "")
    assert legend(panel)[0].startswith("40 classes")
    assert len({spot(panel, i)["brush"].color().name() for i in range(40)}) == 40


def test_a_click_on_a_point_chooses_its_image(qtbot, panel) -> None:
    shown(qtbot, panel)
    with qtbot.waitSignal(panel.imageChosen) as chosen:
        qtbot.mouseClick(panel.plot.viewport(), Qt.MouseButton.LeftButton,
                         pos=on_screen(panel, 4))
    assert chosen.args == [4]


def test_hovering_a_point_shows_its_image_and_classes(qtbot, panel) -> None:
    shown(qtbot, panel)
    qtbot.mouseMove(panel.plot.viewport(), on_screen(panel, 1))
    qtbot.waitUntil(lambda: panel.hover_caption.text().startswith("test image #1"))
    assert panel.hover_caption.text() == "test image #1\ntrue zero\npredicted two (wrong)"
    assert panel.hover_image.pixmap().width() == 96  # 4x4 pixels, scaled up
    panel.show_embedding(COORDS, INDICES, None, "t-SNE")  # the preview stays, up to date
    assert panel.hover_caption.text() == "test image #1\ntrue zero"


def test_set_layers_keeps_the_chosen_layer_without_a_signal(qtbot, panel) -> None:
    panel.set_layers(["conv1", "fc1"])
    assert panel.layer is None and panel.layer_combo.itemText(0) == "last hidden layer"
    with qtbot.waitSignal(panel.layerChanged) as changed:
        panel.layer_combo.setCurrentIndex(2)
    assert changed.args == ["fc1"] and panel.layer == "fc1"
    with qtbot.assertNotEmitted(panel.layerChanged):
        panel.set_layers(["conv1", "conv2", "fc1"])
        assert panel.layer == "fc1"
        panel.set_layers(["conv1"])  # gone: back to the last hidden layer
    assert panel.layer is None


def test_the_method_decides_the_tsne_button_and_busy_shows_cancel(qtbot, panel) -> None:
    panel.show()
    assert panel.method == "pca" and not panel.tsne_button.isVisible()
    with qtbot.waitSignal(panel.methodChanged) as changed:
        panel.method_combo.setCurrentIndex(1)
    assert changed.args == ["tsne"] and panel.tsne_button.isVisible()
    with qtbot.waitSignal(panel.tsneRequested):
        qtbot.mouseClick(panel.tsne_button, Qt.MouseButton.LeftButton)
    panel.set_busy(True, "computing t-SNE of 6 images")
    assert panel.progress.isVisible() and panel.cancel_button.isVisible()
    assert panel.progress_text.text() == "computing t-SNE of 6 images"
    assert not panel.tsne_button.isVisible()  # Cancel stands in for it
    with qtbot.waitSignal(panel.cancelRequested):
        qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
    panel.set_busy(False)
    assert not panel.progress.isVisible() and not panel.cancel_button.isVisible()
    assert panel.tsne_button.isVisible()
    panel.show_embedding(COORDS, INDICES, None, "t-SNE")
    assert panel.plot.getPlotItem().getAxis("bottom").labelText == "t-SNE 1"


def test_a_new_epoch_keeps_the_zoom_a_new_method_refits(qtbot, panel) -> None:
    shown(qtbot, panel)
    box = panel.plot.getPlotItem().getViewBox()
    box.setRange(xRange=(8, 12), yRange=(8, 12), padding=0)  # as a wheel zoom does
    zoomed = box.viewRange()
    panel.show_embedding(COORDS * 1.5, INDICES, PREDICTIONS, "Epoch 2: PCA")
    qtbot.waitUntil(lambda: panel.caption.text() == "Epoch 2: PCA")
    panel.grab()  # a paint, where an auto-range would apply
    assert box.viewRange() == zoomed
    panel.method_combo.setCurrentIndex(1)
    panel.show_embedding(COORDS * 3, INDICES, None, "t-SNE")
    qtbot.waitUntil(lambda: box.viewRect().contains(QPointF(60, 30)))


def test_clear_says_why_and_the_panel_renders_offscreen(qtbot, panel) -> None:
    shown(qtbot, panel)
    panel.clear("The embedding appears after the first epoch.")
    assert len(panel.scatter.data) == 0
    assert panel.note.isVisible() and not panel.plot.isVisible()
    assert panel.note.text() == "The embedding appears after the first epoch."
    assert not panel.grab().isNull()
