"""The views inside the network, driven through the real window after a short run."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QComboBox, QLabel, QListWidget, QSlider, QTableWidget

from cnn_core.data.datasets import load_dataset
from cnn_core.inspect.analysis import layer_health
from cnn_core.nn.models import build_model
from cnn_core.runs.checkpoint import load_checkpoint
from cnn_core.train.config import TrainConfig
from gui.panels.inside import LayerHealthPanel, TimeLapseBar
from gui.session.timelapse import TimeLapse
from gui.widgets.png_export import export_png
from tests.gui.conftest import ARTICLE_NETWORKS, find, train

HEALTHY = "every layer looks healthy"


@pytest.fixture
def trained(qtbot, window):
    """The window after a 2-epoch SimpleCNN run on the bundled sample."""
    return train(qtbot, window, "simplecnn", epochs=2, batch_size=32)


@pytest.mark.parametrize("arch", ARTICLE_NETWORKS)  # the backbones: test_backbone_window
def test_filters_grid_has_one_tile_per_kernel_for_every_conv_layer(qtbot, window, arch) -> None:
    window.config_panel.set_config(TrainConfig(arch=arch, epochs=1, batch_size=64,
                                               device="cpu"))
    with qtbot.waitSignal(window.session.runFinished, timeout=120_000):
        window.start_training()
    combo = find(window, QComboBox, "filterLayerCombo")
    panel = window.filters_panel
    names = [combo.itemData(i) for i in range(combo.count())]
    assert names == [n for n, _ in build_model(arch).conv_layers()]
    for i, name in enumerate(names):
        combo.setCurrentIndex(i)
        assert panel.grid.count == panel.filters[name].shape[0]


def test_time_lapse_scrubs_and_exports(qtbot, trained, tmp_path) -> None:
    slider = find(trained, QSlider, "snapshotSlider")
    assert slider.maximum() + 1 == len(trained.inside.timelapse) > 1
    latest = trained.filters_panel.grid.rgba.copy()
    slider.setValue(0)
    assert not np.array_equal(trained.filters_panel.grid.rgba, latest)
    assert "initial weights" in trained.filters_panel.caption
    slider.setValue(slider.maximum())
    assert np.array_equal(trained.filters_panel.grid.rgba, latest)
    bar = trained.inside.timelapse_bar
    bar.compare_box.setChecked(True)
    bar.compare_slider.setValue(0)
    assert trained.filters_panel.compare_view.isVisible()
    assert not np.array_equal(trained.filters_panel.compare_view.grid.rgba, latest)
    (gif,) = trained.inside.export_timelapse(tmp_path / "filters.gif")
    # One GIF frame per moment, except that Pillow merges identical consecutive frames
    # (showing the frame for their summed duration): two close moments can look the same.
    layer = trained.filters_panel.current_layer()
    frames = [trained.filters_panel.layer_grid(m.filters, layer, 1.6).rgba
              for m in trained.inside.timelapse]
    distinct = 1 + sum(not np.array_equal(a, b) for a, b in zip(frames, frames[1:]))
    with Image.open(gif) as img:
        assert img.n_frames == distinct
    series = trained.inside.export_timelapse(tmp_path / "frame.png")
    assert len(series) == len(trained.inside.timelapse) and all(p.stat().st_size for p in series)


def test_the_time_lapse_keeps_room_to_scrub_in_a_narrow_window(qtbot) -> None:
    bar = TimeLapseBar()
    qtbot.addWidget(bar)
    bar.set_moments([f"epoch {e:.2f}" for e in (0, 0.5, 1, 1.5, 2)])
    bar.resize(bar.minimumSizeHint().width(), bar.minimumSizeHint().height())
    bar.show()
    qtbot.waitExposed(bar)
    assert bar.slider.width() >= 100
    assert bar.label.width() >= bar.label.sizeHint().width()  # "epoch 2.00  (5/5)" whole
    assert not bar.compare_slider.isVisible()  # until two moments are compared
    bar.compare_box.setChecked(True)
    assert bar.compare_slider.isVisible()


def test_tabs_shown_later_explain_the_image_picked_and_the_moment_chosen(qtbot, trained) -> None:
    """The panels follow the run's state while hidden: an image picked in Errors, then the
    time-lapse moved back, are what Saliency and Convolution show when first opened."""
    trained.tabs.setCurrentWidget(trained.inside.errors_panel)
    table = find(trained, QTableWidget, "confusionMatrixView")
    matrix = trained.inside.errors_panel.matrix
    t, p = np.argwhere(matrix - np.diag(np.diag(matrix)) > 0)[0]
    rect = table.visualItemRect(table.item(int(t), int(p)))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    lst = find(trained, QListWidget, "misclassifiedList")
    lst.itemClicked.emit(lst.item(0))
    index = trained.inside.errors_panel.listed[0]
    find(trained, QSlider, "snapshotSlider").setValue(0)
    trained.tabs.setCurrentWidget(trained.inside.saliency_panel)
    caption = trained.inside.saliency_panel.caption
    qtbot.waitUntil(lambda: f"test image #{index} " in caption.text(), timeout=10_000)
    trained.tabs.setCurrentWidget(trained.inside.explainer_panel)
    explained = find(trained, QLabel, "explainerCaption")
    qtbot.waitUntil(lambda: f"test image #{index} " in explained.text(), timeout=10_000)
    assert "weights at initial weights (time-lapse)" in explained.text()


def test_feature_maps_of_a_chosen_test_image(qtbot, trained) -> None:
    trained.tabs.setCurrentWidget(trained.feature_maps_panel)
    panel = trained.feature_maps_panel
    class_filter = find(trained, QComboBox, "imageClassFilter")
    class_filter.setCurrentIndex(class_filter.findData(7))
    qtbot.mouseClick(panel.next_button, Qt.MouseButton.LeftButton)
    index = panel.current_index
    assert trained.inside.info.test_labels[index] == 7 and index != 0
    qtbot.waitUntil(lambda: f"#{index}," in panel.input_title.text(), timeout=10_000)
    model_convs = {"conv1": 32, "conv2": 64}
    assert {k: g.count for k, g in panel.grids.items()} == model_convs
    np.testing.assert_allclose(panel.probabilities.sum(), 1.0, rtol=1e-5)


def test_drawing_a_stroke_gives_an_input_and_a_prediction(qtbot, trained) -> None:
    trained.tabs.setCurrentWidget(trained.inside.drawing_panel)
    canvas = trained.findChild(type(trained.inside.drawing_panel.canvas), "drawingCanvas")
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=QPoint(60, 60))
    for step in range(1, 20):
        qtbot.mouseMove(canvas, QPoint(60 + 4 * step, 60 + 8 * step))
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=QPoint(136, 212))
    panel = trained.inside.drawing_panel
    qtbot.waitUntil(lambda: panel.probabilities is not None, timeout=10_000)
    assert panel.field.shape == (28, 28) and panel.field.max() > 0.5
    # the network read the drawing: every conv layer's maps of it are shown
    assert {k: g.count for k, g in panel.maps.grids.items()} == {"conv1": 32, "conv2": 64}
    np.testing.assert_allclose(panel.probabilities.sum(), 1.0, rtol=1e-5)
    qtbot.mouseClick(panel.undo_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.probabilities is None, timeout=5_000)
    assert not canvas.strokes


def test_confusion_matrix_and_its_cells(qtbot, trained) -> None:
    trained.tabs.setCurrentWidget(trained.inside.errors_panel)
    table = find(trained, QTableWidget, "confusionMatrixView")
    matrix = trained.inside.errors_panel.matrix
    assert matrix.sum() == trained.session.run_info.test_size == 1000
    counts = [[int(table.item(r, c).text()) for c in range(10)] for r in range(10)]
    assert np.array_equal(np.array(counts), matrix)
    details = trained.inside.details
    labels = trained.session.run_info.test_labels
    t, p = np.argwhere(matrix - np.diag(np.diag(matrix)) > 0)[0]
    rect = table.visualItemRect(table.item(int(t), int(p)))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    listed = trained.inside.errors_panel.listed
    expected = np.flatnonzero((labels == t) & (details.predictions == p))
    assert sorted(listed) == sorted(expected.tolist())
    confidences = details.confidence[listed]
    assert list(confidences) == sorted(confidences, reverse=True)
    lst = find(trained, QListWidget, "misclassifiedList")
    assert lst.count() == len(expected)
    # clicking an image shows its saliency and feature maps in the detail pane
    lst.itemClicked.emit(lst.item(0))
    qtbot.waitUntil(lambda: trained.inside.errors_saliency.result is not None, timeout=10_000)
    assert trained.inside.errors_saliency.result.grad_cam.shape == (28, 28)
    assert set(trained.inside.errors_maps.grids) == {"conv1", "conv2"}


def test_saliency_has_the_input_size_for_any_class(qtbot, trained) -> None:
    trained.tabs.setCurrentWidget(trained.inside.saliency_panel)
    panel = trained.inside.saliency_panel
    qtbot.waitUntil(lambda: panel.result is not None, timeout=10_000)
    assert panel.result.grad_cam.shape == (28, 28) and panel.result.gradient.shape == (28, 28)
    target = find(trained, QComboBox, "saliencyViewTarget")
    target.setCurrentIndex(target.findData(3))
    qtbot.waitUntil(lambda: panel.result.target == 3, timeout=10_000)


def test_layer_health_is_measured_from_every_saved_epoch_once_shown(qtbot, trained) -> None:
    panel = trained.inside.health_panel
    assert panel.history == []  # nothing spent on it while hidden
    trained.tabs.setCurrentWidget(panel)
    qtbot.waitUntil(lambda: [e for e, _ in panel.history] == [0, 1, 2], timeout=30_000)
    curves = panel.plot.getPlotItem().listDataItems()
    assert len(curves) == 4  # conv1, conv2, fc1, fc2
    final = load_checkpoint(trained.inside.state.info.history / "checkpoints" / "last.pt")
    norms = [float(final["model"][f"{layer}.weight"].norm())
             for layer in ("features.conv1", "features.conv2", "classifier.fc1",
                           "classifier.fc2")]
    assert panel.history[-1][1].weight_norm == pytest.approx(norms, rel=1e-3)  # float16
    latest = panel.history[-1][1]
    shown = find(trained, QLabel, "layerHealthWarnings").text()
    if latest.warnings:
        assert shown == "\n".join(f"⚠ {w}" for w in latest.warnings)
    else:
        assert shown.startswith("Epoch 2:") and HEALTHY in shown


def test_layer_health_says_healthy_or_names_every_problem(qtbot) -> None:
    """A fresh network is healthy; the same one with its first layer's ReLUs switched off
    (a bias of -100) must be warned about, layer by layer."""
    test = load_dataset("mnist-sample").test
    images, labels = test.images[:256], test.labels[:256]
    torch.manual_seed(0)
    model = build_model("simplecnn")
    healthy = layer_health(model, images, labels)
    _, first = model.conv_layers()[0]
    with torch.no_grad():
        first.bias.fill_(-100.0)
    dead = layer_health(model, images, labels)
    assert healthy.warnings == []
    assert any(w.startswith("relu1: 100%") for w in dead.warnings)

    panel = LayerHealthPanel()
    qtbot.addWidget(panel)
    label = panel.findChild(QLabel, "layerHealthWarnings")
    panel.add(1, healthy)
    panel.redraw()
    assert label.text().startswith("Epoch 1:") and HEALTHY in label.text()
    assert "⚠" not in label.text()
    panel.add(2, dead)
    panel.redraw()
    assert label.text() == "\n".join(f"⚠ {w}" for w in dead.warnings)


@pytest.mark.parametrize("tab", range(6))
def test_every_panel_exports_a_png_at_a_chosen_scale(qtbot, trained, tmp_path, tab) -> None:
    trained.tabs.setCurrentIndex(tab)
    panel = trained.tabs.currentWidget()
    qtbot.waitUntil(panel.isVisible)
    path = export_png(panel, tmp_path / "panel.png", scale=1.5)
    image = QImage(str(path))
    assert not image.isNull() and path.stat().st_size > 1000
    assert image.width() == round(panel.width() * 1.5)


def test_time_lapse_memory_is_capped_evenly() -> None:
    lapse = TimeLapse(memory_cap=10_000)
    filters = {"conv1": np.zeros((10, 1, 5, 5), np.float32)}  # 500 bytes in float16
    for i in range(100):
        lapse.add(i / 10, i, filters, {}, np.zeros(10, np.float32))
        assert lapse.nbytes <= 10_000
    assert lapse[0].progress == 0 and lapse[-1].progress == pytest.approx(9.9)
    steps = [m.step for m in lapse]
    assert len(steps) > 8 and steps == sorted(steps)


def test_colour_dataset_shows_rgb_first_layer_filters(qtbot, window, monkeypatch) -> None:
    """CIFAR-10 cannot be downloaded here; a synthetic 3x32x32 bundle with its metadata
    goes through the same window, worker and panels."""
    import torch

    from cnn_core.data import BuiltinSource
    from cnn_core.data.datasets import DATASETS, DataBundle, Split

    g = torch.Generator().manual_seed(0)
    fake = DataBundle(DATASETS["cifar10"],
                      Split(torch.randn(256, 3, 32, 32, generator=g), torch.arange(256) % 10),
                      Split(torch.randn(64, 3, 32, 32, generator=g), torch.arange(64) % 10))
    monkeypatch.setattr(BuiltinSource, "load", lambda *a, **k: fake)
    monkeypatch.setattr(BuiltinSource, "problem", lambda *a, **k: None)
    window.config_panel.set_config(TrainConfig(arch="lenet5", dataset="cifar10", epochs=1,
                                               device="cpu"))
    with qtbot.waitSignal(window.session.runFinished, timeout=60_000) as finished:
        window.start_training()
    assert finished.args == ["completed"]
    panel = window.filters_panel
    assert panel.rgb_input and panel.channel_combo.currentText() == "RGB colour"
    rgba = panel.grid.rgba
    assert panel.grid.count == 6 and rgba.shape[-1] == 4
    assert not (np.array_equal(rgba[..., 0], rgba[..., 1])
                and np.array_equal(rgba[..., 1], rgba[..., 2]))  # real colour, not grey
    panel.channel_combo.setCurrentIndex(panel.channel_combo.findData(2))  # blue input only
    assert panel.grid.count == 6
    combo = find(window, QComboBox, "filterLayerCombo")
    combo.setCurrentIndex(1)
    assert panel.grid.count == 16  # conv2: 16 kernels over 6 inputs, averaged
    assert not window.inside.drawing_panel.isEnabled()  # a pen draws one channel
    assert "in colour" in window.inside.drawing_panel.note.text()
