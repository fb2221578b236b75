"""Every panel inside the network on networks a person composed, and the convolution
explainer, driven through the real window after a one-epoch run."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QComboBox, QLabel, QSlider, QSpinBox, QWidget

from cnn_core.data import BuiltinSource
from cnn_core.data.datasets import DATASETS, DataBundle, Split
from cnn_core.train.config import TrainConfig
from gui.panels.inside.conv_explainer import fmt
from gui.widgets.matrix_view import MatrixView
from tests.gui.conftest import find

# Strided and padded convs, a leaky ReLU, a conv with no activation after it (a pooling
# comes first), batch norm and GELU.
ODD = {"name": "odd", "layers": [
    {"type": "conv2d", "out_channels": 4, "kernel_size": 5, "stride": 2, "padding": 2},
    {"type": "leaky_relu"},
    {"type": "conv2d", "out_channels": 6, "kernel_size": 3, "padding": 1},
    {"type": "maxpool2d", "kernel_size": 2},
    {"type": "conv2d", "out_channels": 8, "kernel_size": 3},
    {"type": "batchnorm2d"}, {"type": "gelu"},
    {"type": "flatten"}, {"type": "linear"}]}
FLAT = {"name": "flat", "layers": [{"type": "flatten"}, {"type": "linear", "out_features": 32},
                                   {"type": "relu"}, {"type": "linear"}]}


def train(qtbot, window, monkeypatch, network: dict, dataset: str) -> None:
    """One epoch of ``network`` on a small synthetic set with ``dataset``'s shape (the real
    sets take minutes on a busy machine; the window and the engine are the same)."""
    info = DATASETS[dataset]
    g = torch.Generator().manual_seed(0)
    mean = torch.tensor(info.mean).reshape(-1, 1, 1)
    std = torch.tensor(info.std).reshape(-1, 1, 1)

    def split(n: int) -> Split:  # images of whole 8-bit pixels, as the window shows them
        pixels = torch.randint(0, 256, (n, *info.input_shape), generator=g) / 255
        return Split((pixels - mean) / std, torch.arange(n) % 10)

    fake = DataBundle(info, split(256), split(64))
    monkeypatch.setattr(BuiltinSource, "load", lambda *a, **k: fake)
    config = TrainConfig(arch=network["name"], network=network, dataset=dataset, epochs=1,
                         batch_size=64, device="cpu")
    with qtbot.waitSignal(window.session.runFinished, timeout=120_000) as finished:
        assert window.session.start(config)
    assert finished.args == ["completed"]
    qtbot.waitUntil(lambda: window.inside.details is not None, timeout=10_000)


def show(window, panel: QWidget) -> None:
    window.tabs.setCurrentWidget(panel)


def test_every_panel_follows_a_custom_network_on_colour_images(qtbot, window,
                                                               monkeypatch) -> None:
    train(qtbot, window, monkeypatch, ODD, "cifar10")
    convs = {"conv1": 4, "conv2": 6, "conv3": 8}

    combo = find(window, QComboBox, "filterLayerCombo")
    assert [combo.itemData(i) for i in range(combo.count())] == list(convs)
    for i, out in enumerate(convs.values()):
        combo.setCurrentIndex(i)
        assert window.filters_panel.grid.count == out  # one tile per output channel

    show(window, window.feature_maps_panel)
    maps = window.feature_maps_panel
    qtbot.waitUntil(lambda: set(maps.grids) == set(convs), timeout=10_000)
    assert {k: g.count for k, g in maps.grids.items()} == convs  # conv2 has no activation
    maps.show_index(5)  # another test image: computed on the inference thread
    qtbot.waitUntil(lambda: "#5," in maps.input_title.text(), timeout=10_000)
    assert {k: g.count for k, g in maps.grids.items()} == convs

    show(window, window.inside.saliency_panel)
    saliency = window.inside.saliency_panel
    qtbot.waitUntil(lambda: saliency.result is not None, timeout=10_000)
    assert saliency.result.grad_cam.shape == (32, 32)

    show(window, window.inside.health_panel)  # measured from the saved epochs, off the GUI
    qtbot.waitUntil(lambda: len(
        window.inside.health_panel.plot.getPlotItem().listDataItems()) == 4, timeout=30_000)

    show(window, window.inside.explainer_panel)
    panel = window.inside.explainer_panel
    qtbot.waitUntil(lambda: panel.explained is not None, timeout=10_000)
    assert "test image #5" in find(window, QLabel, "explainerCaption").text()
    # the first conv reads RGB: a click on an input channel's sum shows its products
    sums = find(window, MatrixView, "explainerChannelSums")
    qtbot.mouseClick(sums, Qt.MouseButton.LeftButton, pos=sums.cell_centre(0, 2).toPoint())
    assert panel.patch_title.text() == "input patch, blue"
    np.testing.assert_array_equal(panel.products_view.values, panel.explained.conv.products[2])
    layers = find(window, QComboBox, "explainerLayerCombo")
    assert [layers.itemData(i) for i in range(layers.count())] == list(convs)
    for i, name in enumerate(convs):
        layers.setCurrentIndex(i)
        qtbot.waitUntil(lambda: panel.explained.conv.layer == name, timeout=10_000)
        conv = panel.explained.conv
        assert conv.channel_sums.sum() + conv.bias == pytest.approx(conv.value, abs=1e-4)
        assert f"= <b>{fmt(conv.value)}</b>" in panel.equation.text()
    assert panel.explained.after == ("BatchNorm2d", "GELU")


def test_the_explainer_takes_apart_the_feature_map_pixel_clicked(qtbot, window,
                                                                 monkeypatch) -> None:
    train(qtbot, window, monkeypatch, ODD, "mnist-sample")
    show(window, window.inside.explainer_panel)
    panel = window.inside.explainer_panel
    qtbot.waitUntil(lambda: panel.explained is not None, timeout=10_000)
    layers = find(window, QComboBox, "explainerLayerCombo")
    layers.setCurrentIndex(layers.findData("conv2"))  # no activation: the map is its output
    find(window, QSpinBox, "explainerChannelSpin").setValue(3)
    fmap = find(window, MatrixView, "explainerFeatureMap")
    qtbot.waitUntil(lambda: panel.explained.conv.layer == "conv2"
                    and panel.explained.conv.channel == 3, timeout=10_000)

    qtbot.mouseClick(fmap, Qt.MouseButton.LeftButton, pos=fmap.cell_centre(2, 9).toPoint())
    qtbot.waitUntil(lambda: (panel.explained.conv.row, panel.explained.conv.col) == (2, 9),
                    timeout=10_000)
    conv = panel.explained.conv
    shown = fmap.values[2, 9]  # the pixel clicked, as the view shows it
    assert conv.channel_sums.sum() + conv.bias == pytest.approx(shown, abs=1e-4)
    assert panel.explained.after == () and panel.explained.shown == shown
    # the same pixel of the Feature maps tab (the probe image, kept in float16 there)
    probe = window.inside.timelapse[-1].maps["conv2"][3, 2, 9]
    assert float(probe) == pytest.approx(shown, rel=1e-2, abs=1e-2)
    text = find(window, QLabel, "explainerEquation").text()
    assert f"+ bias {fmt(conv.bias)} = <b>{fmt(conv.value)}</b>" in text
    assert fmap.outline == (2, 9, 2, 9)

    qtbot.keyClick(fmap, Qt.Key.Key_Down)
    qtbot.keyClick(fmap, Qt.Key.Key_Left)
    qtbot.waitUntil(lambda: (panel.explained.conv.row, panel.explained.conv.col) == (3, 8),
                    timeout=10_000)

    # the first conv, before its leaky ReLU: the map shows the value after it
    layers.setCurrentIndex(layers.findData("conv1"))
    qtbot.waitUntil(lambda: panel.explained.conv.layer == "conv1", timeout=10_000)
    pixel = panel.explained
    value = pixel.conv.value
    assert pixel.shown == pytest.approx(value if value > 0 else 0.01 * value, abs=1e-6)
    assert "leaky ReLU" in panel.equation.text() and pixel.padded.shape == (5, 5)

    # scrubbing the time-lapse explains the pixel with the weights of that moment
    latest = pixel.conv.value
    find(window, QSlider, "snapshotSlider").setValue(0)
    qtbot.waitUntil(lambda: "time-lapse" in panel.caption.text(), timeout=10_000)
    early = panel.explained.conv
    assert early.value != latest
    assert early.channel_sums.sum() + early.bias == pytest.approx(early.value, abs=1e-4)


def test_a_network_without_conv_layers_trains_and_the_conv_panels_say_why_they_are_empty(
        qtbot, window, monkeypatch) -> None:
    train(qtbot, window, monkeypatch, FLAT, "mnist-sample")
    assert find(window, QLabel, "filtersEmpty").isVisible()
    assert "no conv layer" in find(window, QLabel, "filtersEmpty").text()

    show(window, window.feature_maps_panel)
    note = find(window, QLabel, "featureMapsViewEmpty")
    qtbot.waitUntil(note.isVisible, timeout=10_000)
    assert "no conv layer" in note.text()
    assert window.feature_maps_panel.probabilities is not None  # the prediction still shows

    show(window, window.inside.explainer_panel)
    assert "no conv layer" in find(window, QLabel, "explainerEmpty").text()
    assert find(window, QLabel, "explainerEmpty").isVisible()

    show(window, window.inside.saliency_panel)
    saliency = window.inside.saliency_panel
    qtbot.waitUntil(lambda: saliency.result is not None, timeout=10_000)
    assert saliency.result.grad_cam is None and saliency.result.gradient.shape == (28, 28)
    assert "no conv layer" in saliency.caption.text()

    drawing = window.inside.drawing_panel
    show(window, drawing)
    canvas = find(window, QWidget, "drawingCanvas")
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=QPoint(80, 60))
    for step in range(1, 15):
        qtbot.mouseMove(canvas, QPoint(80 + 3 * step, 60 + 9 * step))
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=QPoint(122, 186))
    qtbot.waitUntil(lambda: drawing.probabilities is not None, timeout=10_000)
    assert find(window, QLabel, "drawingFeatureMapsEmpty").isVisible()
    np.testing.assert_allclose(drawing.probabilities.sum(), 1.0, rtol=1e-5)

    with pytest.raises(ValueError, match="no conv layer"):
        window.inside.export_timelapse(window.config_panel.data_dir / "filters.gif")
