"""Network specs that passed every check and then crashed, or never finished reading: each
is refused in one line naming the file or the layer, by ``arch show`` and by training."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cnn_core import cli
from cnn_core.nn.models import build_model, network_spec
from cnn_core.nn.spec import SpecError, infer_shapes, load_spec, parse_spec, training_bytes
from cnn_core.train.config import TrainConfig, available_memory
from tests.reliability.helpers import assert_one_clean_line

TINY = [{"type": "conv2d", "out_channels": 4, "kernel_size": 3}, {"type": "relu"},
        {"type": "flatten"}, {"type": "linear"}]


def named(*names: str) -> dict:
    return {"name": "odd", "layers": [{**layer, "name": name} for layer, name in
                                      zip(TINY, [*names, "flat", "out"][:len(TINY)])]}


@pytest.mark.parametrize("name", ["train", "forward", "__class__", "block.append",
                                  "append.conv", "state_dict", "cuda"])
def test_a_layer_named_like_a_modules_own_attribute_is_refused(name: str) -> None:
    with pytest.raises(SpecError, match=f"layer 1: name '{name}': .* is a name PyTorch's "
                                        "modules use themselves"):
        parse_spec(named(name, "act"))


def test_every_accepted_name_builds() -> None:
    """The other side: names that pass are names a model can be built with."""
    for name in ("conv", "block1.conv", "trainer", "forward_conv", "b.c.d"):
        build_model("odd", network=named(name, "act"), in_channels=1, num_classes=3)


def spec_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "net.json"
    path.write_text(text)
    return path


@pytest.mark.parametrize("make, says", [
    (lambda p: spec_file(p, "[" * 100_000 + "]" * 100_000), "nested too deeply"),
    (lambda p: spec_file(p, '{"name": "n", "layers": [{"type": "linear", "out_features": '
                            + "9" * 5000 + "}]}"), "a number too long to be a size"),
    (lambda p: spec_file(p, " " * 10_000_001), "too large to be a network spec"),
    (lambda p: p, "not a regular file"),
])
def test_a_spec_file_that_cannot_be_one_is_refused_in_one_line(tmp_path: Path, capsys,
                                                                make, says: str) -> None:
    path = make(tmp_path)
    with pytest.raises(SpecError, match=says):
        load_spec(path)
    assert cli.main(["arch", "show", str(path)]) == 2
    err = capsys.readouterr().err
    assert_one_clean_line(err)
    assert says in err and str(path) in err


def test_a_device_behind_a_link_is_not_read(tmp_path: Path) -> None:
    link = tmp_path / "zero.json"
    os.symlink("/dev/zero", link)
    with pytest.raises(SpecError, match="not a regular file"):
        load_spec(link)


def test_a_network_too_large_for_memory_is_refused_with_the_figure() -> None:
    """The probe's network: 210 parameters, and 69 GB for its first batch."""
    huge = {"name": "huge", "layers": [
        {"type": "conv2d", "out_channels": 16, "kernel_size": 1, "padding": 4096},
        {"type": "maxpool2d", "kernel_size": 4096}, {"type": "flatten"}, {"type": "linear"}]}
    config = TrainConfig(arch="huge", network=huge, device="cpu")
    with pytest.raises(ValueError, match=r"network: one training batch of 64 needs about "
                                         r"[\d,.]+ GB, more than the [\d,.]+ GB"):
        config.validate()


def test_a_built_in_network_with_a_batch_too_large_for_memory_is_refused() -> None:
    config = TrainConfig(arch="deepcnn", dataset="cifar10", batch_size=65_536, device="cpu")
    needed = training_bytes(infer_shapes(network_spec("deepcnn"), (3, 32, 32), 10),
                            (3, 32, 32), 65_536)
    if needed <= (available_memory("cpu") or 0):
        pytest.skip(f"this machine has {needed / 1e9:.0f} GB free")
    with pytest.raises(ValueError, match=r"batch_size: one training batch of 65536 needs about"):
        config.validate()
