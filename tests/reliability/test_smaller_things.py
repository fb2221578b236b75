"""What users notice: interrupted runs, late errors, overflowing snapshots, broken exports
and confusing messages."""

from __future__ import annotations

import signal
import time

import numpy as np
import pytest
import torch

from cnn_core.data.datasets import DatasetError, load_dataset
from cnn_core.export.exporters import ExportError, export_onnx
from cnn_core.runs.atomic import atomic_write_text
from cnn_core.runs.checkpoint import save_checkpoint
from cnn_core.runs.store import read_snapshots, read_summary
from cnn_core.train.config import TrainConfig
from cnn_core.train.launch import launch
from cnn_core.train.trainer import Trainer
from tests.idx import write_mnist_folder
from tests.reliability.helpers import assert_coherent, assert_one_clean_line, cli, popen_cli


def test_ctrl_c_leaves_the_run_stopped(tmp_path) -> None:
    run = tmp_path / "run"
    proc = popen_cli("train", "--arch", "lenet5", "--device", "cpu", "--epochs", "50",
                     "--quiet", "--out", str(run))
    try:
        deadline = time.monotonic() + 120
        while not (run / "summary.json").is_file() or read_summary(run).epochs_done < 1:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130
    assert read_summary(run).status == "stopped"
    assert assert_coherent(run) >= 1


def test_errors_about_out_come_before_the_slow_work(tmp_path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    started = time.monotonic()
    # mnist is not downloaded: had the data been looked for first, that would be the error
    proc = cli("train", "--dataset", "mnist", "--device", "cpu", "--out", str(blocker / "run"))
    assert proc.returncode == 1
    assert_one_clean_line(proc.stderr)
    assert f"{blocker} is a file, not a folder" in proc.stderr
    assert "Errno" not in proc.stderr
    assert time.monotonic() - started < 60


def test_snapshots_of_huge_weights_keep_them_finite(tmp_path, small) -> None:
    config = TrainConfig(arch="lenet5", epochs=1, device="cpu")
    run = tmp_path / "run"
    trainer = launch(config, run_dir=run, data=small).trainer
    with torch.no_grad():  # beyond float16's 65,504, as in a diverging run
        trainer.model.features.conv1.weight.fill_(1e6)
    trainer.fit()
    (first, *_) = read_snapshots(run)
    assert np.isfinite(first.filters["conv1"]).all()
    assert first.filters["conv1"].max() == pytest.approx(1e6)


def test_onnx_export_of_a_model_with_non_finite_outputs_fails_its_check(tmp_path,
                                                                       small) -> None:
    pytest.importorskip("onnxruntime")
    trainer = Trainer(TrainConfig(arch="lenet5", epochs=1, device="cpu"), data=small)
    with torch.no_grad():  # finite weights whose products overflow to inf, then NaN
        for parameter in trainer.model.parameters():
            parameter.fill_(3e38)
    save_checkpoint(trainer.state_dict(), tmp_path / "overflowing.pt")
    with pytest.raises(ExportError, match="NaN or infinite"):
        export_onnx(tmp_path / "overflowing.pt", tmp_path / "model.onnx")
    assert not (tmp_path / "model.onnx").exists()


def test_an_idx_file_with_a_wrong_magic_number_says_so(tmp_path) -> None:
    raw = write_mnist_folder(tmp_path)
    images = raw / "train-images-idx3-ubyte"
    images.write_bytes(b"\x00\x00\x09\x03" + images.read_bytes()[4:])
    with pytest.raises(DatasetError) as caught:
        load_dataset("mnist", tmp_path)
    assert "()" not in str(caught.value)
    assert "damaged" in str(caught.value)


def test_a_file_where_a_folder_should_be_and_back_are_named_plainly(tmp_path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(NotADirectoryError) as caught:
        atomic_write_text(blocker / "deeper" / "metrics.csv", "x")
    assert caught.value.filename == str(blocker / "deeper")
    assert caught.value.strerror == f"{blocker} is a file, not a folder"
    with pytest.raises(IsADirectoryError) as caught:
        atomic_write_text(tmp_path, "x")  # e.g. --onnx given a folder
    assert caught.value.filename == str(tmp_path) and ".tmp" not in str(caught.value)
    assert list(tmp_path.iterdir()) == [blocker]
