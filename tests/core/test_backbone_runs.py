"""A run of a frozen ImageNet backbone on disk: what does not train is saved once, not
with every epoch, every epoch still reads back whole, and the run exports."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from cnn_core.data.datasets import DataBundle, Split
from cnn_core.runs.checkpoint import load_checkpoint
from cnn_core.runs.snapshots import FIXED, read_snapshot, read_snapshots
from cnn_core.train.config import TrainConfig
from cnn_core.train.launch import launch
from tests.backbones import fake_imagenet_weights

EPOCHS = 3


@pytest.fixture(scope="module")
def frozen_run(tmp_path_factory, sample) -> tuple[Path, dict[str, torch.Tensor]]:
    """A 3-epoch ResNet-18 run (its weights a file the test made), and those weights."""
    home = tmp_path_factory.mktemp("frozen")
    weights = fake_imagenet_weights("resnet18", home / "data")
    data = DataBundle(sample.info, Split(sample.train.images[:64], sample.train.labels[:64]),
                      Split(sample.test.images[:32], sample.test.labels[:32]))
    run = home / "run"
    config = TrainConfig(arch="resnet18-imagenet", epochs=EPOCHS, batch_size=32, device="cpu",
                         seed=3, data_dir=str(home / "data"))
    launch(config, run_dir=run, data=data).trainer.fit()
    return run, weights


def test_a_frozen_backbone_is_saved_once_and_each_epoch_adds_the_head_only(frozen_run) -> None:
    run, _ = frozen_run
    folder = run / "snapshots"
    epochs = sorted(folder.glob("epoch-*.npz"))
    assert [p.name for p in epochs] == [f"epoch-{e:04d}.npz" for e in range(EPOCHS + 1)]
    fixed = (folder / FIXED).stat().st_size
    assert fixed > 20e6  # ResNet-18's 11 million weights, in half precision, once
    head = 512 * 10 + 10  # the linear layer that trains
    for path in epochs:  # the head and a little zip bookkeeping, not the backbone
        assert path.stat().st_size < 4 * 2 * head
    total = sum(p.stat().st_size for p in folder.iterdir())
    assert total < fixed + (EPOCHS + 1) * 4 * 2 * head


def test_every_epoch_reads_back_whole(frozen_run) -> None:
    run, weights = frozen_run
    snapshots = list(read_snapshots(run))
    assert [s.epoch for s in snapshots] == list(range(EPOCHS + 1))
    state = load_checkpoint(run / "checkpoints" / "last.pt")["model"]
    last = snapshots[-1]
    assert set(last.state) == set(state)
    for key, value in state.items():
        assert np.allclose(last.state[key], value.float().numpy(), atol=2e-3, rtol=2e-3), key
    conv1 = weights["conv1.weight"].numpy()
    for snap in snapshots:
        assert np.allclose(snap.filters["backbone.conv1"], conv1, atol=1e-3)
        assert np.allclose(snap.state["features.backbone.conv1.weight"], conv1, atol=1e-3)
    heads = [s.state["classifier.fc.weight"] for s in snapshots]
    assert not any(np.array_equal(a, b) for a, b in zip(heads, heads[1:]))  # it trained


def test_old_snapshots_read_as_before_and_a_damaged_fixed_file_spoils_none(
        frozen_run, tmp_path) -> None:
    run, _ = frozen_run
    whole = read_snapshot(run / "snapshots" / "epoch-0002.npz")
    old = tmp_path / "old" / "snapshots"
    old.mkdir(parents=True)
    arrays = {**{f"filters/{k}": v.astype(np.float16) for k, v in whole.filters.items()},
              **{f"state/{k}": v.astype(np.float16) if v.dtype.kind == "f" else v
                 for k, v in whole.state.items()}}
    np.savez(old / "epoch-0002.npz", **arrays)  # everything in it: no fixed.npz then
    again = read_snapshot(old / "epoch-0002.npz")
    assert all(np.array_equal(again.state[k], v) for k, v in whole.state.items())

    damaged = tmp_path / "damaged" / "snapshots"
    shutil.copytree(run / "snapshots", damaged)
    data = (damaged / FIXED).read_bytes()
    (damaged / FIXED).write_bytes(data[:len(data) // 2])
    assert list(read_snapshots(damaged.parent)) == []  # skipped, never half a network


def test_a_backbone_network_exports_to_onnx_that_agrees(frozen_run, tmp_path) -> None:
    pytest.importorskip("onnxruntime")
    from cnn_core.export.exporters import ONNX_TOLERANCE, export_onnx

    run, _ = frozen_run
    target = tmp_path / "resnet.onnx"
    difference = export_onnx(run / "checkpoints" / "best.pt", target)  # resizes inside
    assert difference is not None and difference <= ONNX_TOLERANCE
    assert target.stat().st_size > 40e6  # the whole network, backbone included


def test_tensorboard_draws_a_frozen_layers_filters_once(frozen_run, tmp_path) -> None:
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from cnn_core.export.exporters import export_tensorboard

    run, _ = frozen_run
    logs = EventAccumulator(str(export_tensorboard(run, tmp_path / "logs")),
                            size_guidance={"images": 0})
    logs.Reload()
    tags = logs.Tags()["images"]
    assert "filters/backbone.conv1" in tags and len(tags) == 20
    assert all(len(logs.Images(tag)) == 1 for tag in tags)
    first = logs.Images("filters/backbone.conv1")[0]
    assert first.width > 8 * 7 and first.height > 8 * 7  # 64 tiles of 7x7
