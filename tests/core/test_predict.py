"""Asking a trained model about picture files, from Python and from the command line."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from cnn_core.cli import main
from cnn_core.data.folders import load_image_folder
from cnn_core.inspect.predict import ImageError, Predictor, picture_tensor
from cnn_core.train.config import TrainConfig
from cnn_core.train.launch import launch
from tests.pictures import SHAPES, draw_shape, make_folder


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cnn_core", *args], capture_output=True,
                          text=True, timeout=300)


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[Path, Path]:
    """(a folder of shapes, a run trained on it)."""
    base = tmp_path_factory.mktemp("predict")
    root = make_folder(base / "shapes", per_class=20)
    config = TrainConfig(arch="lenet5", dataset=str(root), epochs=2, device="cpu",
                         data_dir=str(base / "cache"))
    run = launch(config, runs_dir=base / "runs")
    run.trainer.fit()
    return root, run.run_dir


def test_a_picture_is_prepared_exactly_as_in_training(trained, tmp_path) -> None:
    root, run_dir = trained
    predictor = Predictor.open(run_dir)
    bundle = load_image_folder(root, cache_dir=tmp_path)
    files = sorted((root / "circle").iterdir())
    # the folder's first circle is a training or test picture: find it by its pixels
    tensor = picture_tensor(files[0], predictor.info)
    assert tensor.shape == (1, 3, 32, 32)
    every = torch.cat([bundle.train.images, bundle.test.images])
    assert (every - tensor).abs().flatten(1).amax(1).min() < 1e-5


def test_predict_agrees_with_the_models_own_forward_pass(trained, tmp_path) -> None:
    _, run_dir = trained
    predictor = Predictor.open(run_dir)
    rng = np.random.default_rng(7)
    paths = []
    for i, shape in enumerate(SHAPES):
        path = tmp_path / f"new-{shape}.{'jpg' if i % 2 else 'webp'}"
        draw_shape(shape, 80 + 30 * i, rng).save(path)  # sizes never seen in training
        paths.append(path)
    predictions = predictor.predict(paths)
    for path, prediction in zip(paths, predictions):
        with torch.no_grad():
            logits = predictor.model(picture_tensor(path, predictor.info))
        expected = torch.softmax(logits, dim=1)[0].numpy()
        np.testing.assert_allclose(prediction.probabilities, expected, atol=1e-6)
        assert prediction.probabilities.sum() == pytest.approx(1.0, abs=1e-5)
        assert prediction.top(1)[0][0] == SHAPES[int(expected.argmax())]


def test_a_file_that_is_no_picture_is_named(trained, tmp_path) -> None:
    _, run_dir = trained
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(ImageError, match=f"^{text}: not a picture Pillow can read"):
        Predictor.open(run_dir).predict([text])
    with pytest.raises(ImageError, match="no such file"):
        Predictor.open(run_dir).predict([tmp_path / "missing.png"])


def test_the_command_line_trains_on_a_folder_predicts_and_exports(tmp_path) -> None:
    root = make_folder(tmp_path / "shapes", per_class=12)
    (root / "triangle" / "scan.pdf").write_bytes(b"%PDF-1.4")
    out = tmp_path / "run"
    proc = run_cli("train", "--dataset", str(root), "--arch", "simplecnn", "--epochs", "2",
                   "--image-size", "24", "--augment", "shift=2,flip", "--device", "cpu",
                   "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "skipped 1 file that is not a readable picture: triangle/scan.pdf" in proc.stderr
    train, test = map(int, re.search(r"on shapes, (\d+) train / (\d+) test images",
                                     proc.stdout).groups())
    assert train + test == 36 and test >= 3  # 36 pictures, one of each class held out at least

    rng = np.random.default_rng(3)
    pictures = []
    for shape in SHAPES:
        pictures.append(tmp_path / f"{shape}.png")
        draw_shape(shape, 50, rng).save(pictures[-1])
    proc = run_cli("predict", str(out), *map(str, pictures), "--top", "3")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 3
    for picture, line in zip(pictures, lines):
        assert line.startswith(str(picture))
        assert all(name in line for name in SHAPES)  # top 3 of 3: every class, with its %

    onnx = tmp_path / "model.onnx"
    proc = run_cli("export", str(out), "--onnx", str(onnx))
    assert proc.returncode == 0, proc.stderr
    import onnx as onnx_lib

    model = onnx_lib.load(str(onnx))
    meta = {p.key: p.value for p in model.metadata_props}
    assert meta["class_names"] == '["circle", "square", "triangle"]'
    dims = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim[1:]]
    assert dims == [3, 24, 24]


@pytest.mark.parametrize("args,message", [
    (["predict", "{run}", "{text}"], "not a picture Pillow can read"),
    (["predict", "{tmp}/nothing.pt", "{text}"], "no such checkpoint file"),
    (["train", "--dataset", "{tmp}/nowhere"], "is neither a dataset"),
    (["train", "--dataset", "{text}"], "is a file, not a folder"),
    (["train", "--dataset", "{tmp}", "--augment", "spin=2"], "--augment: unknown augmentation"),
    (["train", "--dataset", "{tmp}", "--image-size", "4"], "image_size: must be between 8"),
])
def test_bad_arguments_and_files_are_one_line(trained, tmp_path, capsys, args, message) -> None:
    _, run_dir = trained
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    values = {"run": str(run_dir), "text": str(text), "tmp": str(tmp_path)}
    assert main([a.format(**values) for a in args]) in (1, 2)
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err
