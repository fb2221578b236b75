"""Compare mode in the window: two runs trained for the test (LeNet-5, and the same network
with 3x3 kernels), chosen in the Runs panel and compared inside."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QComboBox, QLabel, QListWidget, QPushButton, QTabWidget, QTreeWidget

from cnn_core.data.datasets import DataBundle
from cnn_core.nn.models import network_spec
from cnn_core.train.config import TrainConfig
from cnn_core.train.launch import launch
from gui.panels.inside.filter_pairs import pair_filters
from gui.session.compare_mode import layers_without_counterpart

from .conftest import find

WAIT = 120_000


def small_kernels() -> dict:
    """LeNet-5 with every 5x5 kernel made 3x3 (padding kept: the maps grow by two)."""
    spec = network_spec("lenet5").to_json()
    spec["name"] = "lenet5-3x3"
    for layer in spec["layers"]:
        if layer["type"] == "conv2d":
            layer["kernel_size"] = 3
    return spec


@pytest.fixture
def two_runs(tmp_path: Path, sample: DataBundle) -> tuple[Path, Path]:
    runs = tmp_path / "runs"
    first = runs / "a-lenet5"
    launch(TrainConfig(arch="lenet5", epochs=1, device="cpu", seed=0), run_dir=first,
           data=sample).trainer.fit()
    second = runs / "b-3x3"
    launch(TrainConfig(arch="lenet5-3x3", network=small_kernels(), epochs=1, device="cpu",
                       seed=0), run_dir=second, data=sample).trainer.fit()
    return first, second


def choose_both(qtbot, window, runs: tuple[Path, Path]) -> QAction:
    window.runs.set_folder(runs[0].parent)
    window.runs_dock.raise_()
    tree = find(window, QTreeWidget, "runsList")
    qtbot.waitUntil(lambda: tree.topLevelItemCount() == 2)
    action = window.findChild(QAction, "compareInsideAction")
    assert not action.isEnabled()
    for i in range(2):
        tree.topLevelItem(i).setSelected(True)
    assert action.isEnabled()
    return action


def opened(qtbot, window) -> None:
    """Wait until both runs are shown, their details and time-lapses in."""
    mode = window.inside.compare.mode
    qtbot.waitUntil(lambda: not window.session.busy and not mode.partner.loading,
                    timeout=WAIT)
    assert mode.b.details is not None and window.inside.state.details is not None


def points(plot: pg.PlotWidget) -> int:
    """How many test images the plot shows."""
    return max((len(item.points()) for item in plot.getPlotItem().items
                if isinstance(item, pg.ScatterPlotItem)), default=0)


def shown(window, title: str):
    tabs = find(window, QTabWidget, "panelTabs")
    index = next(i for i in range(tabs.count()) if tabs.tabText(i) == title)
    tabs.setCurrentIndex(index)
    return tabs.widget(index)


def test_compare_inside_shows_both_runs_in_the_views(qtbot, window, two_runs) -> None:
    action = choose_both(qtbot, window, two_runs)
    action.trigger()
    compare = window.inside.compare
    bar = find(window, QLabel, "compareBarText")
    opened(qtbot, window)
    assert compare.active and bar.isVisible()
    text = bar.text()  # A: the older run
    assert 0 < text.index("lenet5 adam") < text.index("lenet5-3x3 adam")
    assert text.count("epoch 1.00") == 2 and "Opening" not in text
    assert window.curves.legend_labels() == ["this run", "lenet5-3x3 adam lr 0.001"]  # B behind

    filters = shown(window, "Filters")
    headline = filters.findChild(QLabel, "filtersMatchHeadline")
    qtbot.waitUntil(lambda: headline.isVisible() and "matched similarity" in headline.text())
    assert headline.text().startswith("conv1: 0.") or headline.text().startswith("conv1: 1.")
    assert "3x3 kernels" in headline.text()  # B's kernels are smaller than A's
    view_a = filters.findChild(type(filters.view), "filtersView")
    view_b = filters.findChild(type(filters.view), "filtersCompareView")
    assert view_a.grid.count == view_b.grid.count == 6
    assert not filters.findChild(QComboBox, "filterShowCombo").isVisible()  # weights only
    assert all(text[0] in "01–" and "." in text for text in view_b.tile_texts)  # similarities

    errors = shown(window, "Errors")
    disagreements = errors.findChild(QListWidget, "compareDisagreementsList")
    qtbot.waitUntil(lambda: disagreements.count() > 0, timeout=WAIT)
    headline = find(window, QLabel, "compareErrorsHeadline").text()
    only_a = int(re.search(r"([\d,]+) images? only A gets right", headline)[1].replace(",", ""))
    assert disagreements.count() == only_a
    assert disagreements.item(0).toolTip().startswith("#")

    # the time-lapse moves both sides: back to the initial weights, then forward again
    timelapse = window.inside.timelapse_bar
    assert len(window.inside.timelapse) >= 2 and len(compare.mode.b.timelapse) >= 2
    assert not timelapse.compare_box.isEnabled()  # two runs, not two moments of one
    shown(window, "Filters")
    latest_a, latest_b = view_a.grid.rgba.copy(), view_b.grid.rgba.copy()
    with qtbot.waitSignal(compare.mode.partnerChanged):
        timelapse.slider.setValue(0)
    qtbot.waitUntil(lambda: (view_a.grid.rgba != latest_a).any()
                    and (view_b.grid.rgba != latest_b).any())
    assert compare.mode.b.moment.progress == 0 == window.inside.state.moment.progress
    assert "initial weights" in bar.text()

    leave = find(window, QPushButton, "compareLeaveButton")
    qtbot.mouseClick(leave, Qt.MouseButton.LeftButton)
    assert not compare.active and not bar.isVisible() and timelapse.compare_box.isEnabled()
    assert window.curves.legend_labels() == []  # no run is ticked
    assert shown(window, "Filters") is window.filters_panel  # the single run's views again
    assert shown(window, "Errors") is window.inside.errors_panel


def test_the_command_line_opens_compare_mode(qtbot, window, two_runs) -> None:
    window.runs.set_folder(two_runs[0].parent)
    window.compare.compare(*two_runs)
    compare = window.inside.compare
    opened(qtbot, window)
    maps = shown(window, "Feature maps")
    assert maps.objectName() == "compareFeatureMaps"
    maps.a.show_index(12)  # a test image chosen in A's browser: B's follows
    assert maps.b.current_index == 12 == compare.mode.b.inspected.index
    embedding = shown(window, "Embedding")
    plots = [embedding.findChild(pg.PlotWidget, f"compareEmbedding{w}") for w in "AB"]
    qtbot.waitUntil(lambda: all(points(p) == len(window.inside.state.details.hidden)
                                for p in plots), timeout=WAIT)
    window.inside.compare.inspect(7)  # an image picked: both runs look at it
    assert compare.mode.b.inspected.index == 7 == window.inside.state.inspected.index
    saliency = shown(window, "Saliency")
    targets = [view.findChild(QComboBox, "saliencyViewTarget")
               for view in (saliency.a, saliency.b)]
    targets[0].setCurrentIndex(3)  # explain another class in A: B explains it too
    assert targets[1].currentText() == targets[0].currentText() != ""


def test_starting_a_run_ends_compare_mode(qtbot, window, two_runs) -> None:
    window.runs.set_folder(two_runs[0].parent)
    window.compare.compare(*two_runs)
    opened(qtbot, window)
    window.config_panel.set_config(TrainConfig(arch="lenet5", epochs=1, batch_size=256,
                                               device="cpu"))
    with qtbot.waitSignal(window.session.runStarted, timeout=WAIT):
        window.start_training()
    assert not window.inside.compare.active
    window.stop_training()
    qtbot.waitUntil(lambda: not window.session.busy, timeout=WAIT)


def test_runs_that_do_not_exist_are_refused_in_one_line(window, tmp_path) -> None:
    window.compare.compare(tmp_path / "nowhere", tmp_path / "neither")
    assert "Cannot compare" in find(window, QLabel, "errorBanner").text()
    assert not window.inside.compare.active



def test_a_run_b_that_cannot_be_opened_says_why_and_ends_compare_mode(
        qtbot, window, two_runs, tmp_path) -> None:
    not_a_run = tmp_path / "holiday photos"
    not_a_run.mkdir()
    window.compare.compare(two_runs[0], not_a_run)
    banner = find(window, QLabel, "errorBanner")
    qtbot.waitUntil(lambda: "Could not open holiday photos" in banner.text()
                    and not window.session.busy, timeout=WAIT)
    assert banner.isVisible() and not window.inside.compare.active
    assert window.inside.state.info is not None  # run A is shown, alone


def test_a_run_a_that_cannot_be_opened_ends_compare_mode(qtbot, window, two_runs,
                                                         tmp_path) -> None:
    not_a_run = tmp_path / "holiday photos"
    not_a_run.mkdir()
    window.compare.compare(not_a_run, two_runs[1])
    banner = find(window, QLabel, "errorBanner")
    qtbot.waitUntil(lambda: "Could not open holiday photos" in banner.text(), timeout=WAIT)
    assert not window.inside.compare.active


def test_the_layers_without_a_counterpart_are_named_a_few_at_a_time() -> None:
    simple = {"conv1": 0, "conv2": 0}
    resnet = {"conv1": 0, **{f"backbone.layer{i}.conv": 0 for i in range(6)}}
    assert layers_without_counterpart(simple, simple) == ""
    assert layers_without_counterpart(simple, resnet) == (
        "only in A: conv2; only in B: backbone.layer0.conv, backbone.layer1.conv, "
        "backbone.layer2.conv, backbone.layer3.conv and 2 more")


def test_more_filters_in_b_are_all_shown_the_unpaired_last() -> None:
    a = np.random.default_rng(0).normal(size=(3, 1, 3, 3)).astype(np.float32)
    b = np.concatenate([np.random.default_rng(1).normal(size=(2, 1, 3, 3)), a[::-1]])
    pairs = pair_filters("conv1", a, b)
    assert pairs.shown.tolist() == [4, 3, 2, 0, 1]
    np.testing.assert_array_equal(pairs.weights_b[:3], a)
    assert pairs.tile_texts() == ["1.00", "1.00", "1.00", "–", "–"]
    assert "B's 2 without a pair come last" in pairs.headline
    assert pairs.describe(4) == "B's filter 1: no pair, A has 3 filters"
