"""Every panel on an ImageNet backbone: a ResNet-18 (its weights a file the test made)
trains an epoch on a folder of colour pictures in the window, and its 20 conv layers,
named as torchvision names them, are there to look at."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QComboBox, QLabel, QListWidget, QTableWidget

from cnn_core.nn.models import build_model
from cnn_core.train.config import TrainConfig
from gui.window.main_window import MainWindow
from tests.backbones import fake_imagenet_weights
from tests.gui.conftest import find
from tests.pictures import make_folder

SHOTS = os.environ.get("CNN_STUDIO_SHOTS")  # a folder for the panels' pictures, if set
NESTED = "backbone.layer1.0.conv1"
CONVS = [name for name, _ in build_model("resnet18-imagenet", 3, 3, 64).conv_layers()]


def shoot(widget, name: str) -> None:
    """A picture of the panel, to look at (the weights are random: noise is expected)."""
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        QApplication.processEvents()  # the layout settles first
        widget.grab().save(str(Path(SHOTS) / f"{name}.png"))


@pytest.fixture
def resnet(qtbot, window: MainWindow, tmp_path) -> MainWindow:
    """The window after one epoch of a frozen ResNet-18 on 3 classes of 64x64 pictures."""
    fake_imagenet_weights("resnet18", window.config_panel.data_dir)
    folder = make_folder(tmp_path / "shapes", per_class=8, sizes=(64, 48))
    window.resize(1400, 900)
    window.config_panel.set_config(TrainConfig(
        arch="resnet18-imagenet", dataset=str(folder), image_size=64, epochs=1, batch_size=8,
        device="cpu"))
    qtbot.waitUntil(lambda: window.config_panel.data.preview_data is not None, timeout=30_000)
    with qtbot.waitSignal(window.session.runFinished, timeout=180_000) as finished:
        window.start_training()
    assert finished.args == ["completed"]
    qtbot.waitUntil(lambda: window.inside.details is not None, timeout=30_000)
    return window


def test_a_resnet_trains_and_its_filters_maps_and_saliency_are_drawn(qtbot, resnet) -> None:
    assert [m.epoch for m in resnet.session.history] == [1]
    filters = resnet.filters_panel
    resnet.tabs.setCurrentWidget(filters)
    combo = find(resnet, QComboBox, "filterLayerCombo")
    assert [combo.itemData(i) for i in range(combo.count())] == CONVS
    combo.setCurrentIndex(combo.findData("backbone.conv1"))
    assert filters.grid.count == 64 and filters.filters["backbone.conv1"].shape == (64, 3, 7, 7)
    assert find(resnet, QComboBox, "filterChannelCombo").currentText() == "RGB colour"
    tiles = filters.grid
    tile = tiles.rgba[:tiles.tile_h, :tiles.tile_w, :3].astype(int)
    assert (tile.max(axis=2) - tile.min(axis=2)).max() > 0  # true colour, not grey
    shoot(filters, "filters-resnet18-conv1")
    combo.setCurrentIndex(combo.findData("backbone.layer4.1.conv2"))
    assert filters.grid.count == 512

    maps = resnet.feature_maps_panel
    resnet.tabs.setCurrentWidget(maps)
    layer = find(resnet, QComboBox, "featureMapsViewLayerCombo")
    assert layer.isVisible() and [layer.itemData(i) for i in range(layer.count())] == CONVS
    layer.setCurrentIndex(layer.findData(NESTED))
    qtbot.waitUntil(lambda: NESTED in maps.grids, timeout=10_000)
    assert list(maps.grids) == [NESTED] and maps.grids[NESTED].count == 64
    shoot(maps, "feature-maps-resnet18-layer1.0.conv1")

    saliency = resnet.inside.saliency_panel
    resnet.tabs.setCurrentWidget(saliency)
    qtbot.waitUntil(lambda: saliency.result is not None, timeout=20_000)
    assert saliency.result.grad_cam.shape == (64, 64)  # on layer4, the last block
    cam = find(resnet, QComboBox, "saliencyViewCamLayer")
    assert cam.count() == 1 + len(CONVS)
    cam.setCurrentIndex(cam.findData(NESTED))
    qtbot.waitUntil(lambda: f"Grad-CAM on {NESTED}" in saliency.caption.text(), timeout=20_000)
    assert saliency.result.grad_cam.shape == (64, 64)
    shoot(saliency, "saliency-resnet18-layer1.0.conv1")


def test_the_explainer_health_ablation_and_embedding_of_a_resnet(qtbot, resnet) -> None:
    explainer = resnet.inside.explainer_panel
    resnet.tabs.setCurrentWidget(explainer)
    caption = find(resnet, QLabel, "explainerCaption")
    qtbot.waitUntil(lambda: "Stride 2, padding 3" in caption.text(), timeout=20_000)
    assert explainer.explained.conv.layer == "backbone.conv1"
    assert explainer.explained.after == ("BatchNorm2d", "ReLU")
    assert explainer.patch_title.text() == "input patch, " + (
        "red", "green", "blue")[explainer.input_channel]
    shoot(explainer, "explainer-resnet18-conv1")

    health = resnet.inside.health_panel
    resnet.tabs.setCurrentWidget(health)
    qtbot.waitUntil(lambda: [e for e, _ in health.history] == [0, 1], timeout=60_000)
    layers = find(resnet, QComboBox, "layerHealthLayers")
    assert layers.isEnabled() and layers.currentData() is True  # the layers that train
    assert len(health.plot.getPlotItem().listDataItems()) == 1  # the head's fc
    layers.setCurrentIndex(1)
    assert len(health.plot.getPlotItem().listDataItems()) == 21  # every conv, and fc
    key = find(resnet, QLabel, "layerHealthKey")  # 21 names: below the plot, not over it
    assert key.isVisible() and key.text().count("&#9632;") == 21 and not health.legend.items
    warnings = find(resnet, QLabel, "layerHealthWarnings").text()
    assert "frozen" in warnings and "backbone." not in warnings
    shoot(health, "layer-health-resnet18")

    ablation = resnet.inside.pages.panel("Ablation")
    resnet.tabs.setCurrentWidget(ablation)
    combo = find(resnet, QComboBox, "ablationLayerCombo")
    qtbot.waitUntil(lambda: combo.count() == len(CONVS), timeout=20_000)
    combo.setCurrentIndex(combo.findData("backbone.layer3.0.conv1"))
    ablation.select([0, 1, 2])
    accuracy = find(resnet, QLabel, "ablationAccuracy")
    qtbot.waitUntil(lambda: "switched off" in accuracy.text(), timeout=30_000)
    assert "filters 0, 1, 2 of backbone.layer3.0.conv1" in accuracy.text()

    resnet.tabs.setCurrentWidget(resnet.inside.errors_panel)  # a mistake's detail
    matrix = resnet.inside.errors_panel.matrix
    wrong = np.argwhere(matrix - np.diag(np.diag(matrix)) > 0)
    assert len(wrong)  # an untrained backbone's head, after one epoch: it makes some
    table = find(resnet, QTableWidget, "confusionMatrixView")
    rect = table.visualItemRect(table.item(int(wrong[0][0]), int(wrong[0][1])))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    mistakes = find(resnet, QListWidget, "misclassifiedList")
    mistakes.itemClicked.emit(mistakes.item(0))
    qtbot.waitUntil(lambda: resnet.inside.errors_saliency.result is not None, timeout=20_000)
    assert list(resnet.inside.errors_maps.grids) == ["backbone.conv1"]  # one at a time

    embedding = resnet.inside.pages.panel("Embedding")
    resnet.tabs.setCurrentWidget(embedding)
    qtbot.waitUntil(lambda: embedding.layer_combo.count() > 0, timeout=20_000)
    names = [embedding.layer_combo.itemData(i) for i in range(embedding.layer_combo.count())]
    assert "backbone" in names and not any(str(n).startswith("backbone.") for n in names)
    assert np.isfinite(resnet.inside.details.losses).all()
