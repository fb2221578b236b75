"""Exporting runs: CSV, ONNX (checked against PyTorch), TensorBoard logs, the zip bundle,
and the ``export`` command."""

from __future__ import annotations

import csv
import io
import json
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import cnn_core.export.exporters as export
from cnn_core.runs.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from cnn_core.cli import main
from cnn_core.train.config import TrainConfig
from cnn_core.data.datasets import DataBundle, Split
from cnn_core.export.exporters import (INSTALL_HINT, ExportError, export_bundle, export_csv, export_onnx,
                             export_tensorboard, missing_dependencies, resolve_source)
from cnn_core.nn.models import build_model
from cnn_core.runs.recorder import RunRecorder
from cnn_core.runs.store import METRIC_COLUMNS, read_metrics
from cnn_core.train.trainer import Trainer


def cfg(**kw) -> TrainConfig:
    return TrainConfig(**{"arch": "lenet5", "epochs": 2, "device": "cpu", "seed": 4, **kw})


@pytest.fixture(scope="module")
def tiny(sample: DataBundle) -> DataBundle:
    return DataBundle(sample.info,
                      Split(sample.train.images[:320], sample.train.labels[:320]),
                      Split(sample.test.images[:100], sample.test.labels[:100]))


@pytest.fixture(scope="module")
def runs(tmp_path_factory, tiny: DataBundle) -> tuple[Path, Path]:
    """Two finished runs: LeNet-5 for 2 epochs (named), SimpleCNN for 1."""
    root = tmp_path_factory.mktemp("runs")
    first, second = root / "lenet-run", root / "simple-run"
    Trainer(cfg(), [RunRecorder(first, name="first try")], data=tiny).fit()
    Trainer(cfg(arch="simplecnn", epochs=1), [RunRecorder(second)], data=tiny).fit()
    return first, second


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


# -- sources and dependencies ------------------------------------------------------------


def test_resolve_source_finds_the_run_and_its_best_checkpoint(runs, tmp_path) -> None:
    run, _ = runs
    assert resolve_source(run) == (run, run / "checkpoints" / "best.pt")
    last = run / "checkpoints" / "last.pt"
    assert resolve_source(last) == (run, last)
    lone = tmp_path / "model.pt"
    lone.write_bytes(last.read_bytes())
    assert resolve_source(lone) == (None, lone)
    with pytest.raises(ExportError, match="no such run folder or checkpoint"):
        resolve_source(tmp_path / "nowhere")
    with pytest.raises(ExportError, match="not a run folder"):
        resolve_source(tmp_path)


def test_missing_dependencies_are_named_without_importing_them(monkeypatch) -> None:
    assert missing_dependencies("onnx") == [] and missing_dependencies("tensorboard") == []
    real = export.importlib.util.find_spec
    monkeypatch.setattr(export.importlib.util, "find_spec",
                        lambda name: None if name in ("onnxruntime", "tensorboard") else real(name))
    assert missing_dependencies("onnx") == ["onnxruntime"]
    assert missing_dependencies("tensorboard") == ["tensorboard"]
    with pytest.raises(ValueError, match="unknown export kind"):
        missing_dependencies("pdf")


def test_exports_that_need_a_missing_package_say_how_to_install_it(monkeypatch, runs,
                                                                   tmp_path) -> None:
    run, _ = runs
    monkeypatch.setattr(export, "missing_dependencies", lambda kind: [f"{kind}-package"])
    with pytest.raises(ExportError, match="onnx-package") as info:
        export_onnx(run / "checkpoints" / "best.pt", tmp_path / "m.onnx")
    assert INSTALL_HINT in str(info.value)
    with pytest.raises(ExportError, match="tensorboard-package.*" + INSTALL_HINT):
        export_tensorboard(run, tmp_path / "tb")
    assert not list(tmp_path.iterdir())

    bundle = export_bundle(run, tmp_path / "run.zip")  # a bundle goes without the ONNX model
    with zipfile.ZipFile(bundle) as z:
        assert "model.onnx" not in z.namelist()
        assert INSTALL_HINT in z.read("model.onnx-MISSING.txt").decode()


# -- CSV ---------------------------------------------------------------------------------


def test_csv_of_two_runs_has_one_row_per_epoch_per_run(runs, tmp_path) -> None:
    first, second = runs
    path = tmp_path / "out" / "metrics.csv"
    assert export_csv([first, second], path) == 3
    rows = read_csv(path)
    assert list(rows[0]) == ["run", "run_dir", *METRIC_COLUMNS]
    assert [(r["run"], r["run_dir"], r["epoch"]) for r in rows] == [
        ("first try", "lenet-run", "1"), ("first try", "lenet-run", "2"),
        ("simplecnn adam lr 0.001", "simple-run", "1")]
    assert [float(r["test_acc"]) for r in rows[:2]] == [m.test_acc for m in read_metrics(first)]
    with pytest.raises(ExportError, match="not a run folder"):
        export_csv([first, tmp_path], tmp_path / "other.csv")
    with pytest.raises(ExportError, match="no run folders"):
        export_csv([], tmp_path / "other.csv")


# -- ONNX --------------------------------------------------------------------------------


def _checkpoint(tmp_path: Path, tiny: DataBundle, arch: str, in_channels: int,
                size: int) -> Path:
    """A checkpoint of an untrained model of any input shape (weights are random, which
    is all a numerical comparison needs)."""
    state = Trainer(cfg(arch=arch), [], data=tiny).state_dict()
    state["model_meta"].update(in_channels=in_channels, input_size=size)
    state["model"] = build_model(arch, in_channels=in_channels, input_size=size).state_dict()
    path = tmp_path / f"{arch}.pt"
    save_checkpoint(state, path)
    return path


@pytest.mark.parametrize("arch,in_channels,size", [
    ("lenet5", 1, 28), ("simplecnn", 1, 28), ("deepcnn", 1, 28), ("simplecnn", 3, 32)])
def test_onnx_matches_pytorch_for_any_batch_size(tmp_path, tiny, arch, in_channels,
                                                 size) -> None:
    ort = pytest.importorskip("onnxruntime")
    checkpoint = _checkpoint(tmp_path, tiny, arch, in_channels, size)
    path = tmp_path / "model.onnx"
    difference = export_onnx(checkpoint, path)
    assert 0 <= difference <= 1e-4

    # An independent check: onnxruntime on a batch size the export never saw.
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (image_input,) = session.get_inputs()
    assert image_input.name == "images" and image_input.shape[1:] == [in_channels, size, size]
    state = load_checkpoint(checkpoint)
    model = build_model(arch, in_channels=in_channels, input_size=size).eval()
    model.load_state_dict(state["model"])
    images = torch.randn(5, in_channels, size, size, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected = model(images).numpy()
    (logits,) = session.run(["logits"], {"images": images.numpy()})
    np.testing.assert_allclose(logits, expected, atol=1e-4, rtol=0)
    meta = session.get_modelmeta().custom_metadata_map
    assert meta["arch"] == arch and json.loads(meta["input_mean"]) == [0.1307]


def test_onnx_that_disagrees_with_pytorch_is_not_written(monkeypatch, runs, tmp_path) -> None:
    pytest.importorskip("onnxruntime")
    run, _ = runs
    monkeypatch.setattr(export, "ONNX_TOLERANCE", -1.0)
    with pytest.raises(ExportError, match="differs from PyTorch"):
        export_onnx(run / "checkpoints" / "best.pt", tmp_path / "model.onnx")
    assert not list(tmp_path.iterdir())


def test_onnx_of_a_file_that_is_not_a_checkpoint_is_refused(tmp_path) -> None:
    pytest.importorskip("onnxruntime")
    foreign = tmp_path / "weights.pt"
    torch.save({"conv1.weight": torch.zeros(6, 1, 5, 5)}, foreign)
    with pytest.raises(CheckpointError, match="not a CNN Studio checkpoint"):
        export_onnx(foreign, tmp_path / "model.onnx")
    assert not (tmp_path / "model.onnx").exists()


# -- TensorBoard -------------------------------------------------------------------------


def test_tensorboard_logs_read_back_with_tensorboards_own_reader(runs, tmp_path) -> None:
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run, _ = runs
    folder = export_tensorboard(run, tmp_path / "tb" / "first")
    assert folder == tmp_path / "tb" / "first"
    events = EventAccumulator(str(folder), size_guidance={"scalars": 0, "images": 0})
    events.Reload()
    tags = events.Tags()
    epoch_tags = {f"epoch/{k}" for k in ("train_loss", "train_acc", "test_loss", "test_acc", "lr")}
    assert set(tags["scalars"]) == epoch_tags | {"batch/loss"}
    metrics = read_metrics(run)
    for tag in epoch_tags:
        assert [e.step for e in events.Scalars(tag)] == [1, 2]
    assert [e.value for e in events.Scalars("epoch/test_acc")] == pytest.approx(
        [m.test_acc for m in metrics])
    assert [e.step for e in events.Scalars("batch/loss")] == list(range(1, 11))  # 320 / 64 x 2
    assert set(tags["images"]) == {"filters/conv1", "filters/conv2"}
    conv1 = events.Images("filters/conv1")
    assert [e.step for e in conv1] == [0, 1, 2]  # the initial snapshot and one per epoch
    assert Image.open(io.BytesIO(conv1[-1].encoded_image_string)).size == (
        conv1[-1].width, conv1[-1].height)

    # Exporting again replaces the logs instead of doubling every point.
    export_tensorboard(run, folder)
    assert len(list(folder.iterdir())) == 1
    assert [p.name for p in (tmp_path / "tb").iterdir()] == ["first"]  # no staging left


def test_a_failed_tensorboard_re_export_keeps_the_old_logs(runs, tmp_path, monkeypatch) -> None:
    pytest.importorskip("tensorboard")
    run, _ = runs
    folder = export_tensorboard(run, tmp_path / "tb")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}

    def half_written(run_dir, out):
        (out / "events.out.tfevents.partial").write_bytes(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(export, "_write_events", half_written)
    with pytest.raises(OSError, match="disk full"):
        export_tensorboard(run, folder)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["tb"]

    monkeypatch.undo()
    real_replace = os.replace

    def swap_fails(src, dst):  # setting the old logs aside works, moving the new ones in not
        if Path(src).suffix == ".tmp":
            raise OSError("interrupted")
        real_replace(src, dst)

    monkeypatch.setattr(export.os, "replace", swap_fails)
    with pytest.raises(OSError, match="interrupted"):
        export_tensorboard(run, folder)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["tb"]


def test_tensorboard_refuses_a_folder_that_holds_other_files(runs, tmp_path) -> None:
    pytest.importorskip("tensorboard")
    run, _ = runs
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ExportError, match="holds more than TensorBoard logs"):
        export_tensorboard(run, tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


# -- bundle ------------------------------------------------------------------------------


def test_bundle_holds_the_run_a_loadable_checkpoint_onnx_and_plots(runs, tmp_path) -> None:
    pytest.importorskip("onnxruntime")
    run, _ = runs
    path = export_bundle(run, tmp_path / "bundle.zip")
    with zipfile.ZipFile(path) as z:
        assert set(z.namelist()) == {
            "config.json", "summary.json", "metrics.csv", "batches.csv", "checkpoints/best.pt",
            "model.onnx", "plots/curves.png", "plots/filters.png"}
        z.extractall(tmp_path / "unzipped")
    unzipped = tmp_path / "unzipped"
    assert load_checkpoint(unzipped / "checkpoints" / "best.pt")["model_meta"]["arch"] == "lenet5"
    assert json.loads((unzipped / "summary.json").read_text())["name"] == "first try"
    assert read_metrics(unzipped) == read_metrics(run)  # the bundle is itself a run folder
    for name in ("curves.png", "filters.png"):
        with Image.open(unzipped / "plots" / name) as image:
            assert image.format == "PNG" and min(image.size) > 100
    assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob(".*"))


def test_bundle_takes_the_windows_own_plots_and_checks_them(monkeypatch, runs, tmp_path) -> None:
    run, _ = runs
    monkeypatch.setattr(export, "missing_dependencies", lambda kind: ["onnx"])  # faster
    buf = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(buf, "PNG")
    path = export_bundle(run, tmp_path / "bundle.zip", images={"loss-curve.png": buf.getvalue()})
    with zipfile.ZipFile(path) as z:
        assert [n for n in z.namelist() if n.startswith("plots/")] == ["plots/loss-curve.png"]
    with pytest.raises(ExportError, match="plot name"):
        export_bundle(run, tmp_path / "b.zip", images={"../evil.png": buf.getvalue()})
    with pytest.raises(ExportError, match="not PNG data"):
        export_bundle(run, tmp_path / "b.zip", images={"plot.png": b"GIF89a..."})
    assert not (tmp_path / "b.zip").exists()


def test_bundle_of_a_network_without_conv_layers_has_no_filters_plot(monkeypatch, tiny,
                                                                    tmp_path) -> None:
    network = {"name": "flat", "layers": [{"type": "flatten"}, {"type": "linear"}]}
    run = tmp_path / "flat-run"
    Trainer(cfg(arch="flat", epochs=1, network=network), [RunRecorder(run)], data=tiny).fit()
    monkeypatch.setattr(export, "missing_dependencies", lambda kind: ["onnx"])  # faster
    with zipfile.ZipFile(export_bundle(run, tmp_path / "bundle.zip")) as z:
        assert [n for n in z.namelist() if n.startswith("plots/")] == ["plots/curves.png"]


def test_bundle_of_a_run_without_a_finished_epoch_is_refused(tmp_path) -> None:
    run = tmp_path / "fresh"
    run.mkdir()
    (run / "config.json").write_text(json.dumps(cfg().to_dict()))
    with pytest.raises(ExportError, match="no checkpoint yet"):
        export_bundle(run, tmp_path / "bundle.zip")


# -- command line ------------------------------------------------------------------------


def test_cli_export_writes_every_file_and_one_line_each(runs, tmp_path, capsys) -> None:
    pytest.importorskip("onnxruntime")
    pytest.importorskip("tensorboard")
    first, second = runs
    out = tmp_path / "out"
    code = main(["export", str(first), str(second), "--csv", str(out / "all.csv"),
                 "--onnx", str(out / "model.onnx"), "--tensorboard", str(out / "tb"),
                 "--bundle", str(out / "run.zip")])
    lines = capsys.readouterr().out.strip().splitlines()
    assert code == 0
    assert len(lines) == 4 and all(line.startswith("wrote ") for line in lines)
    assert len(read_csv(out / "all.csv")) == 3
    assert (out / "model.onnx").stat().st_size > 0 and (out / "run.zip").is_file()
    assert (out / "tb" / "lenet-run").is_dir()


@pytest.mark.parametrize("args,code,needle", [
    (["export", "{run}"], 2, "at least one of --onnx"),
    (["export", "{run}", "{run}", "--onnx", "{tmp}/m.onnx"], 2, "only --csv"),
    (["export", "{tmp}/missing", "--csv", "{tmp}/m.csv"], 1, "no such run folder"),
    (["export", "{tmp}", "--bundle", "{tmp}/b.zip"], 1, "not a run folder"),
    (["export", "{tmp}/lone.pt", "--tensorboard", "{tmp}/tb"], 1, "needs a run folder"),
    (["export", "{tmp}/lone.pt", "--onnx", "{tmp}/m.onnx"], 1, "not a CNN Studio checkpoint"),
])
def test_cli_export_errors_are_one_line(runs, tmp_path, capsys, args, code, needle) -> None:
    torch.save({"weights": torch.zeros(3)}, tmp_path / "lone.pt")
    argv = [a.format(run=runs[0], tmp=tmp_path) for a in args]
    assert main(argv) == code
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0], err
    assert not list(tmp_path.glob("*.onnx")) and not list(tmp_path.glob("*.csv"))
