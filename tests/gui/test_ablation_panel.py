"""Switching filters off: tiles clicked as a person clicks them, the selection they make,
and what the panel shows of a result computed elsewhere."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtWidgets import QLabel, QListWidget, QProgressBar, QPushButton

from cnn_core.export.render import filter_grid
from cnn_core.inspect.ablation import Ablation
from gui.panels.deeper.ablation import AblationPanel, accuracy_text, points
from gui.widgets.grid_view import GridView


def kernels(*shapes: tuple[int, ...], seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {f"conv{i + 1}": rng.normal(size=s).astype(np.float32)
            for i, s in enumerate(shapes)}


def result(channels: tuple[int, ...], layer: str = "conv2", k: int = 3) -> Ablation:
    before = np.diag(np.full(k, 10)).astype(np.int64)
    after = before.copy()
    if channels:
        after[0, 0], after[0, 1] = 4, 6  # six images of class 0 now called class 1
    return Ablation(layer=layer, channels=channels,
                    accuracy_before=np.trace(before) / before.sum(),
                    accuracy_after=np.trace(after) / after.sum(),
                    per_class_before=np.diag(before) / 10, per_class_after=np.diag(after) / 10,
                    confusion_before=before, confusion_after=after)


def click_tile(qtbot, view: GridView, index: int) -> None:
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.tile_centre(index))


@pytest.fixture
def grid_view(qtbot) -> GridView:
    view = GridView()
    qtbot.addWidget(view)
    view.resize(300, 300)
    view.show()
    qtbot.waitExposed(view)
    view.set_grid(filter_grid(kernels((6, 1, 5, 5))["conv1"], cols=3))
    return view


@pytest.fixture
def panel(qtbot) -> AblationPanel:
    panel = AblationPanel()
    qtbot.addWidget(panel)
    panel.resize(840, 380)
    panel.show()
    qtbot.waitExposed(panel)
    panel.set_filters(kernels((8, 1, 3, 3), (12, 8, 3, 3)))
    return panel


# -- GridView --------------------------------------------------------------------------------

def test_a_left_click_on_a_tile_reports_it_and_a_gap_reports_nothing(qtbot, grid_view) -> None:
    with qtbot.waitSignal(grid_view.tileClicked) as clicked:
        click_tile(qtbot, grid_view, 4)
    assert clicked.args == [4]
    grid = grid_view.grid
    gap = grid_view.image.mapToScene(QPointF(grid.tile_w + grid.pad / 2, grid.tile_h / 2))
    with qtbot.assertNotEmitted(grid_view.tileClicked):
        qtbot.mouseClick(grid_view.viewport(), Qt.MouseButton.LeftButton,
                         pos=grid_view.mapFromScene(gap))
        qtbot.mouseClick(grid_view.viewport(), Qt.MouseButton.RightButton,
                         pos=grid_view.tile_centre(1))
        qtbot.mouseClick(grid_view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(2, 2))


def test_marks_are_drawn_and_kept_until_the_layout_changes(qtbot, grid_view) -> None:
    centre = grid_view.tile_centre(2)
    plain = grid_view.grab().toImage().pixelColor(centre)
    grid_view.set_marked([2, 5, 99])
    assert grid_view.marked == (2, 5)  # no tile 99
    marked = grid_view.grab().toImage().pixelColor(centre)
    assert marked.red() > marked.green() + 60 and marked != plain  # the red cross
    weights = kernels((6, 1, 5, 5), seed=1)["conv1"]
    grid_view.set_grid(filter_grid(weights, cols=3))  # new values, same layout
    assert grid_view.marked == (2, 5)
    grid_view.set_grid(filter_grid(weights, cols=2))
    assert grid_view.marked == ()
    grid_view.set_marked([1])
    grid_view.clear_grid()
    assert grid_view.marked == ()


# -- the panel -------------------------------------------------------------------------------

def test_clicking_tiles_switches_filters_off_and_on(qtbot, panel) -> None:
    assert panel.objectName() == "ablationView"
    assert panel.selection == ("conv1", ())
    view = panel.findChild(GridView, "ablationFilters")
    with qtbot.waitSignal(panel.selectionChanged) as changed:
        click_tile(qtbot, view, 5)
    assert changed.args == ["conv1", (5,)]
    with qtbot.waitSignal(panel.selectionChanged) as changed:
        click_tile(qtbot, view, 2)
    assert changed.args == ["conv1", (2, 5)] and view.marked == (2, 5)
    with qtbot.waitSignal(panel.selectionChanged) as changed:
        click_tile(qtbot, view, 5)
    assert changed.args == ["conv1", (2,)] and view.marked == (2,)
    with qtbot.waitSignal(panel.selectionChanged) as changed:
        qtbot.mouseClick(panel.findChild(QPushButton, "ablationClear"),
                         Qt.MouseButton.LeftButton)
    assert changed.args == ["conv1", ()] and view.marked == ()


def test_new_weights_keep_the_selection_and_new_layers_clear_it(qtbot, panel) -> None:
    panel.layer_combo.setCurrentIndex(1)
    panel.select([11, 3, 3, 40])
    assert panel.selection == ("conv2", (3, 11))  # sorted, once each, no filter 40
    view = panel.findChild(GridView, "ablationFilters")
    drawn = view.grid.rgba.copy()
    with qtbot.assertNotEmitted(panel.selectionChanged):
        panel.set_filters(kernels((8, 1, 3, 3), (12, 8, 3, 3), seed=1))  # the next epoch
    assert panel.selection == ("conv2", (3, 11)) and view.marked == (3, 11)
    assert not np.array_equal(view.grid.rgba, drawn)
    with qtbot.waitSignal(panel.selectionChanged) as changed:
        panel.layer_combo.setCurrentIndex(0)
    assert changed.args == ["conv1", ()] and view.marked == ()
    panel.select([1])
    with qtbot.waitSignal(panel.selectionChanged) as changed:
        panel.set_filters(kernels((4, 1, 3, 3), (12, 4, 3, 3)))  # another network
    assert changed.args == ["conv1", ()] and panel.selection == ("conv1", ())


def test_a_network_without_conv_layers_says_so(qtbot, panel) -> None:
    with qtbot.assertNotEmitted(panel.selectionChanged):
        panel.set_filters({})
    note = panel.findChild(QLabel, "ablationEmpty")
    assert note.isVisible() and "no filters to switch off" in note.text()
    assert not panel.findChild(GridView, "ablationFilters").isVisible()
    assert panel.selection == (None, ())


def test_a_result_shows_the_accuracy_and_a_pair_of_bars_per_class(qtbot, panel) -> None:
    panel.show_result(result((3, 7)), ["cat", "dog", "bird"])
    text = panel.findChild(QLabel, "ablationAccuracy").text()
    assert "100.0% → 80.0%" in text and "−20.0 points" in text
    assert "filters 3, 7 of conv2" in text
    assert len(panel.before_bars.opts["x"]) == len(panel.after_bars.opts["x"]) == 3
    assert list(panel.after_bars.opts["height"]) == [40, 100, 100]
    assert np.all(panel.after_bars.opts["x"] > panel.before_bars.opts["x"])  # side by side
    diff = panel.diff.values
    assert diff[0, 0] == -6 and diff[0, 1] == 6 and diff.sum() == 0
    panel.show_result(result(()), ["cat", "dog", "bird"])
    assert panel.accuracy.text() == ("Test accuracy 100.0% with every filter on. "
                                     "Click filters to switch them off.")
    assert len(panel.after_bars.opts["x"]) == 0 and panel.diff.values is None
    panel.clear("No run yet.")
    assert panel.accuracy.text() == "No run yet." and len(panel.before_bars.opts["x"]) == 0


def test_the_accuracy_sentence_counts_what_it_cannot_name() -> None:
    many = result(tuple(range(10)))
    assert "filters 0, 1, 2, 3, 4, 5, 6, 7 and 2 more of conv2" in accuracy_text(many)
    assert "with filter 4 of" in accuracy_text(result((4,)))
    assert points(0.0004) == "no change" and points(0.012) == "+1.2 points"


def test_importance_ranks_filters_and_a_click_switches_one_off(qtbot, panel) -> None:
    with qtbot.waitSignal(panel.importanceRequested) as asked:
        qtbot.mouseClick(panel.findChild(QPushButton, "importanceButton"),
                         Qt.MouseButton.LeftButton)
    assert asked.args == ["conv1"]
    panel.set_progress(3, 12)
    drops = np.zeros(12)
    drops[[9, 4, 6]] = [0.083, 0.02, 0.04]
    panel.show_importance("conv2", drops)  # ranked for another layer than the chosen one
    ranking = panel.findChild(QListWidget, "filterImportanceList")
    assert [ranking.item(i).text() for i in range(3)] == [
        "filter 9  −8.3 points", "filter 6  −4.0 points", "filter 4  −2.0 points"]
    assert not panel.findChild(QProgressBar, "importanceProgress").isVisible()
    ranking.scrollToItem(ranking.item(1))
    with qtbot.waitSignal(panel.selectionChanged,
                          check_params_cb=lambda layer, off: off == (6,)) as changed:
        qtbot.mouseClick(ranking.viewport(), Qt.MouseButton.LeftButton,
                         pos=ranking.visualItemRect(ranking.item(1)).center())
    assert changed.args == ["conv2", (6,)] and panel.selection == ("conv2", (6,))


def test_progress_and_cancel_show_only_while_busy(qtbot, panel) -> None:
    progress = panel.findChild(QProgressBar, "importanceProgress")
    cancel = panel.findChild(QPushButton, "importanceCancel")
    button = panel.findChild(QPushButton, "importanceButton")
    assert not progress.isVisible() and not cancel.isVisible()
    panel.set_progress(5, 12)
    assert progress.isVisible() and cancel.isVisible() and not button.isEnabled()
    assert (progress.value(), progress.maximum()) == (5, 12)
    with qtbot.waitSignal(panel.cancelRequested):
        qtbot.mouseClick(cancel, Qt.MouseButton.LeftButton)
    panel.set_busy(False)
    assert not progress.isVisible() and not cancel.isVisible() and button.isEnabled()
