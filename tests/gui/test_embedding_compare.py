"""Two runs' projections side by side: B turned onto A, so that the same image sits in the
same place; the same ranges in both; a click chooses an image, hovering rings it in both."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QLabel

import pyqtgraph as pg

from gui.panels.deeper.embedding import class_colours
from gui.panels.deeper.embedding_compare import EmbeddingCompareView

NAMES = ("zero", "one", "two")
# six images on a wide grid, so that no two points overlap on screen
XY_A = np.array([[0, 0], [10, 0], [20, 0], [0, 10], [10, 10], [20, 10]], float)
TURN = np.array([[0.0, 1.0], [-1.0, 0.0]])  # a quarter turn of the row vectors
XY_B = XY_A @ TURN * 2.0 + [5.0, -3.0]  # B: A turned, doubled and shifted
INDICES = np.array([15, 14, 13, 12, 11, 10])  # test images, in another order
LABELS = np.array([0, 0, 1, 1, 2, 2])


@pytest.fixture
def view(qtbot) -> EmbeddingCompareView:
    view = EmbeddingCompareView()
    qtbot.addWidget(view)
    view.resize(900, 550)
    images = np.arange(16 * 4 * 4, dtype=np.uint8).reshape(16, 4, 4, 1)
    view.show_projections("run-5x5", "run-3x3", XY_A, XY_B, INDICES, LABELS, NAMES, images)
    return view


def plot(view: EmbeddingCompareView, name: str) -> pg.PlotWidget:
    widget = view.findChild(pg.PlotWidget, name)
    assert widget is not None, f"no plot named {name}"
    return widget


def scatter(widget: pg.PlotWidget) -> pg.ScatterPlotItem:
    """The plot's scatter of test images (the ring is the other, with at most one point)."""
    items = [item for item in widget.getPlotItem().listDataItems()
             if isinstance(item, pg.ScatterPlotItem) and len(item.points()) > 1]
    assert len(items) == 1
    return items[0]


def positions(widget: pg.PlotWidget) -> dict[int, tuple[float, float]]:
    """Test index -> where its point is drawn."""
    return {int(p.data()): (p.pos().x(), p.pos().y()) for p in scatter(widget).points()}


def test_b_is_turned_onto_a(view) -> None:
    a = positions(plot(view, "compareEmbeddingA"))
    b = positions(plot(view, "compareEmbeddingB"))
    assert sorted(a) == sorted(INDICES) == sorted(b)
    for row, index in enumerate(INDICES):
        assert a[index] == pytest.approx(tuple(XY_A[row]))
        assert b[index] == pytest.approx(tuple(XY_A[row]), abs=1e-9)
    caption = view.findChild(QLabel, "compareEmbeddingCaption").text()
    assert "turned \u221290°, scaled ×0.5 and shifted" in caption  # undoing B's quarter turn
    assert "the 6 test images both show" in caption and "agree 100%" in caption


def test_a_mirror_is_said(view) -> None:
    mirrored = XY_A * [-1.0, 1.0]
    view.show_projections("a", "b", XY_A, mirrored, INDICES, LABELS, NAMES)
    assert "B was mirrored, turned" in view.findChild(QLabel, "compareEmbeddingCaption").text()
    b = positions(plot(view, "compareEmbeddingB"))
    assert b[INDICES[1]] == pytest.approx(tuple(XY_A[1]), abs=1e-9)


def test_colours_per_class_as_the_single_run_view(view) -> None:
    expected = [c.name() for c in class_colours(3)]
    for name in ("compareEmbeddingA", "compareEmbeddingB"):
        colours = {int(p.data()): p.brush().color().name()
                   for p in scatter(plot(view, name)).points()}
        assert [colours[i] for i in INDICES] == [expected[c] for c in LABELS]


def test_both_plots_show_the_same_ranges(qtbot, view) -> None:
    view.show()
    qtbot.waitExposed(view)
    a, b = plot(view, "compareEmbeddingA"), plot(view, "compareEmbeddingB")
    box_a, box_b = a.getPlotItem().getViewBox(), b.getPlotItem().getViewBox()
    qtbot.waitUntil(lambda: box_a.viewRect().contains(QPointF(20, 10)))
    np.testing.assert_allclose(box_b.viewRange(), box_a.viewRange())
    box_b.setRange(xRange=(8, 12), yRange=(8, 12), padding=0)  # a zoom in B zooms A too
    np.testing.assert_allclose(box_a.viewRange(), [[8, 12], [8, 12]])
    view.show_projections("run-5x5", "run-3x3", XY_A * 1.1, XY_B, INDICES, LABELS, NAMES)
    np.testing.assert_allclose(box_a.viewRange(), [[8, 12], [8, 12]])  # the zoom stays
    view.show_projections("run-5x5", "run-3x3", XY_A[:4], XY_B[:4], INDICES[:4], LABELS[:4],
                          NAMES)  # other points: fitted again
    assert box_a.viewRect().contains(QPointF(10, 10))


def test_a_click_on_a_point_chooses_its_image(qtbot, view) -> None:
    view.show()
    qtbot.waitExposed(view)
    b = plot(view, "compareEmbeddingB")
    box = b.getPlotItem().getViewBox()
    qtbot.waitUntil(lambda: box.viewRect().contains(QPointF(20, 10)))
    row = 4  # test image 11
    where = b.mapFromScene(box.mapViewToScene(QPointF(*XY_A[row])))
    with qtbot.waitSignal(view.imageChosen) as chosen:
        qtbot.mouseClick(b.viewport(), Qt.MouseButton.LeftButton, pos=where)
    assert chosen.args == [11]


def test_hovering_rings_the_image_in_both_plots(qtbot, view) -> None:
    view.show()
    qtbot.waitExposed(view)
    a = plot(view, "compareEmbeddingA")
    box = a.getPlotItem().getViewBox()
    qtbot.waitUntil(lambda: box.viewRect().contains(QPointF(20, 10)))
    qtbot.mouseMove(a.viewport(), a.mapFromScene(box.mapViewToScene(QPointF(*XY_A[2]))))
    hover = view.findChild(QLabel, "compareEmbeddingHover")
    qtbot.waitUntil(lambda: hover.text() == "test image #13\na one")
    for name in ("compareEmbeddingA", "compareEmbeddingB"):
        rings = [item for item in plot(view, name).getPlotItem().listDataItems()
                 if isinstance(item, pg.ScatterPlotItem) and len(item.points()) == 1]
        assert len(rings) == 1
        spot = rings[0].points()[0]
        assert (spot.pos().x(), spot.pos().y()) == pytest.approx((20, 0), abs=1e-9)


def test_clear_and_busy_say_why(qtbot, view) -> None:
    view.show()
    note = view.findChild(QLabel, "compareEmbeddingEmpty")
    view.set_busy("Projecting…")
    assert note.isVisible() and note.text() == "Projecting…"
    assert not plot(view, "compareEmbeddingA").isVisible()
    view.clear("the two runs were tested on different images")
    assert note.text() == "the two runs were tested on different images"
    assert len(scatter_points(view)) == 0
    view.show_projections("a", "b", XY_A, XY_B[:3], INDICES, LABELS, NAMES)
    assert note.isVisible() and "must be the same images" in note.text()


def scatter_points(view: EmbeddingCompareView) -> list:
    return [p for name in ("compareEmbeddingA", "compareEmbeddingB")
            for item in plot(view, name).getPlotItem().listDataItems()
            if isinstance(item, pg.ScatterPlotItem) for p in item.points()]


def test_fits_a_laptop_window(qtbot) -> None:
    view = EmbeddingCompareView()
    qtbot.addWidget(view)
    rng = np.random.default_rng(0)
    xy = rng.normal(size=(1000, 2))
    view.show_projections("lenet5-with-a-long-name-" * 3, "another-long-run-name-" * 3, xy,
                          rng.normal(size=(1000, 2)), np.arange(1000),
                          rng.integers(0, 10, 1000), [f"class number {i}" for i in range(10)])
    assert view.minimumSizeHint().width() <= 850
    assert view.minimumSizeHint().height() <= 550
    view.resize(900, 550)
    view.show()
    qtbot.waitExposed(view)
    assert view.width() == 900
    assert plot(view, "compareEmbeddingA").width() >= 300
