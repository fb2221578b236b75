"""The curves' overlays of other runs, markers and preloaded history, with real run logs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QRectF
from PySide6.QtGui import QImage, QPainter, QTextDocumentFragment
from PySide6.QtWidgets import QLabel

from cnn_core.train.callbacks import BatchProgress
from cnn_core.train.config import TrainConfig
from cnn_core.data.datasets import DataBundle, Split, load_dataset
from cnn_core.runs.recorder import RunRecorder
from cnn_core.runs.store import BatchLog, read_batches, read_metrics
from cnn_core.train.trainer import Trainer
from gui.runtime.theme import apply_plot_theme
from gui.panels.curves.curve_data import lr_ticks
from gui.panels.curves import CurvesWidget, Overlay


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two real runs: 'short' (1 epoch, Adam) and 'long' (3 epochs, SGD)."""
    sample = load_dataset("mnist-sample")
    # every 12th / 10th image: the sample is sorted by digit, and all ten should be there
    data = DataBundle(sample.info, Split(sample.train.images[::12], sample.train.labels[::12]),
                      Split(sample.test.images[::10], sample.test.labels[::10]))
    folder = tmp_path_factory.mktemp("curves-runs")
    out = {}
    for name, epochs, optimizer in (("short", 1, "adam"), ("long", 3, "sgd")):
        out[name] = folder / name
        Trainer(TrainConfig(arch="lenet5", epochs=epochs, optimizer=optimizer, device="cpu"),
                [RunRecorder(out[name])], data=data).fit()
    return out


@pytest.fixture
def curves(qtbot) -> CurvesWidget:
    apply_plot_theme()
    widget = CurvesWidget()
    qtbot.addWidget(widget)
    widget.resize(1000, 360)
    widget.show()
    qtbot.waitExposed(widget)
    widget.reset(2)
    return widget


def overlay(path: Path) -> Overlay:
    return Overlay(str(path), path.name, read_metrics(path), read_batches(path))


def data_items(plot: pg.PlotWidget) -> list[pg.PlotDataItem]:
    return plot.getPlotItem().listDataItems()


def markers(plot: pg.PlotWidget) -> list[pg.InfiniteLine]:
    return [i for i in plot.getPlotItem().items if isinstance(i, pg.InfiniteLine)]


def progress_reports(log: BatchLog, epochs: list[int], chunk: int = 2) -> list[BatchProgress]:
    """The batches of ``epochs`` as the trainer would report them live, a few at a time."""
    reports = []
    for epoch in epochs:
        rows = np.flatnonzero(log.epoch == epoch)
        for start in range(0, len(rows), chunk):
            part = rows[start:start + chunk]
            reports.append(BatchProgress(epoch=epoch, epochs=max(epochs), batch=start + len(part),
                                         num_batches=len(rows), global_step=int(log.step[part[-1]]),
                                         losses=log.loss[part].tolist()))
    return reports


def test_two_overlaid_runs_get_their_own_curves_and_a_legend(curves: CurvesWidget,
                                                              runs: dict[str, Path]) -> None:
    before = {p: len(data_items(p)) for p in (curves.loss_plot, curves.acc_plot)}
    curves.set_overlays([overlay(runs["short"]), overlay(runs["long"])])
    items = curves.overlay_items()
    assert list(items) == [str(runs["short"]), str(runs["long"])]
    for plot in (curves.loss_plot, curves.acc_plot):
        drawn = [i for i in data_items(plot) if any(i in run for run in items.values())]
        per_run = {key: sum(i in run for i in drawn) for key, run in items.items()}
        assert all(n >= 2 for n in per_run.values())  # loss: test + batches; accuracy: test + train
        assert len(data_items(plot)) == before[plot] + len(drawn)
    colours = [items[k][0].opts["pen"].color().name() for k in items]
    assert colours[0] != colours[1]
    assert curves.legend_labels() == ["short", "long"]  # no live run: no "this run"
    assert all(legend.isVisible() for legend in curves.run_legends.values())
    curves.add_epoch(read_metrics(runs["short"])[0])
    curves.set_overlays([overlay(runs["short"]), overlay(runs["long"])])
    assert curves.legend_labels() == ["this run", "short", "long"]
    # the x axis reaches the end of the longest run, although this run plans only 2 epochs
    assert curves.acc_plot.getPlotItem().vb.viewRange()[0][1] >= 3

    curves.set_overlays([])
    assert curves.overlay_items() == {} and curves.legend_labels() == []
    assert {p: len(data_items(p)) for p in before} == before
    assert not any(legend.isVisible() for legend in curves.run_legends.values())
    assert curves.acc_plot.getPlotItem().vb.viewRange()[0][1] < 3


def test_a_run_keeps_its_colour_while_overlaid(curves: CurvesWidget, runs: dict[str, Path]) -> None:
    def colour(key: Path) -> str:
        return curves.overlay_items()[str(key)][-1].opts["pen"].color().name()

    curves.set_overlays([overlay(runs["short"]), overlay(runs["long"])])
    long_colour = colour(runs["long"])
    curves.set_overlays([overlay(runs["long"])])
    assert colour(runs["long"]) == long_colour
    curves.set_overlays([overlay(runs["short"]), overlay(runs["long"])])
    assert colour(runs["long"]) == long_colour and colour(runs["short"]) != long_colour


def test_hovering_an_overlaid_curve_names_its_run(curves: CurvesWidget,
                                                  runs: dict[str, Path]) -> None:
    curves.set_overlays([overlay(runs["long"])])
    history = read_metrics(runs["long"])
    vb = curves.acc_plot.getPlotItem().vb
    point = vb.mapViewToScene(pg.Point(3, 100 * history[2].test_acc))
    curves.acc_plot.scene().sigMouseMoved.emit(point)
    shown = [i.toPlainText() for i in curves.acc_plot.getPlotItem().items
             if isinstance(i, pg.TextItem) and i.isVisible()]
    assert any(text.startswith("long: ") for text in shown), shown


def test_a_marker_shows_on_both_plots_until_reset(curves: CurvesWidget) -> None:
    curves.add_marker(1.5, "lr 1e-3 → 3e-4")
    curves.add_marker(2.0, "branched from first try\nbatch size 64 → 32")
    note = curves.findChild(QLabel, "curveMarkers")
    for plot in (curves.loss_plot, curves.acc_plot):
        first, second = markers(plot)
        assert (first.value(), second.value()) == (1.5, 2.0)
        # a short tag on the line, explained in the note under the plots
        assert [first.label.toPlainText(), second.label.toPlainText()] == ["1", "2"]
        assert second.toolTip() == "branched from first try\nbatch size 64 → 32"
    assert curves.marker_texts() == ["lr 1e-3 → 3e-4",
                                     "branched from first try\nbatch size 64 → 32"]
    assert note.isVisible()
    shown = QTextDocumentFragment.fromHtml(note.text()).toPlainText()
    assert "1 epoch 1.5: lr 1e-3 → 3e-4" in shown
    assert "2 epoch 2: branched from first try, batch size 64 → 32" in shown
    curves.reset(3)
    assert markers(curves.loss_plot) == [] and markers(curves.acc_plot) == []
    assert curves.marker_texts() == [] and not note.isVisible()


def test_loaded_history_continues_live_exactly_where_the_run_would(
        qtbot, curves: CurvesWidget, runs: dict[str, Path]) -> None:
    history, log = read_metrics(runs["long"]), read_batches(runs["long"])
    # the whole run, live, as the oracle
    live = CurvesWidget()
    qtbot.addWidget(live)
    live.reset(3)
    for report in progress_reports(log, [1, 2, 3]):
        live.add_batch(report)
    for m in history:
        live.add_epoch(m)
    live.refresh()

    # resumed after epoch 2: the log's later batches are left out, then come live
    curves.reset(3)
    curves.load_history(history[:2], log)
    assert curves.batch_points == int((log.epoch <= 2).sum())
    assert curves.test_acc.getData()[0].tolist() == [1.0, 2.0]
    for report in progress_reports(log, [3]):
        curves.add_batch(report)
    curves.add_epoch(history[2])
    curves.refresh()

    assert curves.test_acc.getData()[0].tolist() == [1.0, 2.0, 3.0]
    for mine, oracle in ((curves.raw_loss, live.raw_loss), (curves.smooth_loss, live.smooth_loss)):
        np.testing.assert_allclose(mine.xData, oracle.xData)
        np.testing.assert_allclose(mine.yData, oracle.yData)
    assert curves.best_text() == live.best_text() != ""


def test_a_longer_run_widens_the_x_axis_once(curves: CurvesWidget) -> None:
    curves.set_epochs(6)
    assert curves.loss_plot.getPlotItem().vb.viewRange()[0][1] >= 6
    assert curves.acc_plot.getPlotItem().vb.viewRange()[0][1] >= 6


def test_the_best_epoch_is_named_in_the_title_not_over_the_curves(curves: CurvesWidget,
                                                                 runs: dict[str, Path]) -> None:
    history = read_metrics(runs["long"])
    for m in history:
        curves.add_epoch(m)
    curves.refresh()
    best = max(history, key=lambda m: m.test_acc)
    assert curves.best_text() == f"best test {best.test_acc:.1%} (epoch {best.epoch})"
    assert curves.best_text() in curves.acc_plot.getPlotItem().titleLabel.text
    shown = [i for i in curves.acc_plot.getPlotItem().items
             if isinstance(i, pg.TextItem) and i.isVisible()]
    assert shown == []  # no text floats over the curves
    curves.reset(3)
    assert curves.best_text() == ""


def test_a_narrow_plot_shortens_its_title_and_keeps_the_learning_rate_axis_in_sight(
        qtbot, curves: CurvesWidget, runs: dict[str, Path]) -> None:
    history = read_metrics(runs["long"])
    for m in history:
        curves.add_epoch(m)
    curves.refresh()
    best = max(history, key=lambda m: m.test_acc)
    plot = curves.acc_plot
    title = plot.getPlotItem().titleLabel
    axis = plot.getPlotItem().getAxis("right")  # the learning rate's, with its label

    curves.resize(640, 360)  # half of a 1280x800 window with a dock open, or less
    qtbot.waitUntil(lambda: axis.mapRectToScene(axis.boundingRect()).right() <= plot.width())
    assert f"best {best.test_acc:.1%}" in title.text and "epoch" not in title.text
    curves.resize(1000, 360)
    qtbot.waitUntil(lambda: curves.best_text() in title.text)


def test_learning_rate_ticks_are_the_rates_used_and_never_crowd() -> None:
    assert lr_ticks([1e-3] * 4 + [5e-4] * 2) == [(-3.0, "0.001"), (np.log10(5e-4), "0.0005")]
    assert [label for _, label in lr_ticks([1e-3, 9e-4, 8e-4])] == ["0.001"]  # too close
    decay = [0.1 * 0.5**i for i in range(12)]
    ticks = lr_ticks(decay)
    assert len(ticks) <= 4 and ticks[0][1] == "0.1" and ticks[-1][1] == f"{decay[-1]:.2g}"
    assert min(-np.diff([t for t, _ in ticks])) >= 0.25
    assert lr_ticks([]) == []


def drawn_labels(axis: pg.AxisItem) -> list[tuple[QRectF, str]]:
    """The tick labels an axis draws, where it draws them."""
    image = QImage(10, 10, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    specs = axis.generateDrawSpecs(painter)
    painter.end()
    return [(rect, text) for rect, _, text in specs[2]] if specs else []


def test_the_learning_rate_axis_shows_the_rates_of_the_run(qtbot, curves: CurvesWidget,
                                                           runs: dict[str, Path]) -> None:
    history = read_metrics(runs["long"])
    for m in history:
        curves.add_epoch(m)
    curves.refresh()
    axis = curves.acc_plot.getPlotItem().getAxis("right")
    qtbot.waitUntil(lambda: bool(drawn_labels(axis)))  # once the axis is laid out
    labels = drawn_labels(axis)
    assert sorted(text for _, text in labels) == sorted(
        text for _, text in lr_ticks([m.lr for m in history]))
    rects = [rect for rect, _ in labels]
    assert not any(a.intersects(b) for i, a in enumerate(rects) for b in rects[i + 1:])


def test_the_accuracy_plot_keeps_its_place_when_the_first_epoch_arrives(
        qtbot, curves: CurvesWidget, runs: dict[str, Path]) -> None:
    """The learning-rate axis is laid out before the first epoch: the plot does not shrink
    under the person's eyes (and relayout every item) when its ticks come."""
    view = curves.acc_plot.getPlotItem().vb
    before = view.sceneBoundingRect()
    curves.add_epoch(read_metrics(runs["short"])[0])
    curves.refresh()
    axis = curves.acc_plot.getPlotItem().getAxis("right")
    qtbot.waitUntil(lambda: bool(drawn_labels(axis)))
    assert view.sceneBoundingRect() == before
