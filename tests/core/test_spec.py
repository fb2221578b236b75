"""Networks as data: presets, shape inference against real forward passes, refusals."""

from __future__ import annotations

import random

import pytest
import torch

from cnn_core.nn.models import MODELS, CustomNetwork, build_model, count_parameters
from cnn_core.nn.presets import PRESETS
from cnn_core.nn.spec import SpecError, infer_shapes, leading_shapes, parse_spec
from cnn_core.train.config import TrainConfig

EXPECTED_PARAMS = {"lenet5": 61_706, "simplecnn": 421_642, "deepcnn": 981_450,
                   "resnet18-imagenet": 5_130, "mobilenet-v3-small-imagenet": 5_770}
EXAMPLE = {"name": "tiny", "layers": [
    {"type": "conv2d", "out_channels": 8, "kernel_size": 5, "stride": 1, "padding": 2},
    {"type": "relu"},
    {"type": "maxpool2d", "kernel_size": 2},
    {"type": "conv2d", "out_channels": 16, "kernel_size": 3},
    {"type": "batchnorm2d"},
    {"type": "tanh"},
    {"type": "avgpool2d", "kernel_size": 2, "stride": 2},
    {"type": "flatten"},
    {"type": "dropout", "p": 0.25},
    {"type": "linear", "out_features": 64},
    {"type": "sigmoid"},
    {"type": "linear"},
]}


@pytest.mark.parametrize("name", list(MODELS))
def test_every_preset_builds_its_builtin(name: str) -> None:
    preset = CustomNetwork(parse_spec(PRESETS[name]))
    builtin = build_model(name)
    assert count_parameters(preset) == count_parameters(builtin) == EXPECTED_PARAMS[name]
    assert [(k, v.shape) for k, v in preset.state_dict().items()] == [
        (k, v.shape) for k, v in builtin.state_dict().items()]
    assert [n for n, _ in preset.conv_layers()] == [n for n, _ in builtin.conv_layers()]
    rows = infer_shapes(parse_spec(PRESETS[name]), (1, 28, 28), 10)
    # every weight, a frozen backbone's included (they take memory all the same)
    assert sum(row.parameters for row in rows) == sum(p.numel() for p in builtin.parameters())


def test_a_spec_survives_its_own_json() -> None:
    spec = parse_spec(EXAMPLE)
    assert parse_spec(spec.to_json()) == spec
    assert [layer.name for layer in spec.layers][:4] == ["conv1", "relu1", "pool1", "conv2"]


def random_spec(rng: random.Random) -> dict:
    layers: list[dict] = []
    for _ in range(rng.randint(0, 4)):
        kind = rng.choice(["conv2d", "conv2d", "maxpool2d", "avgpool2d", "batchnorm2d",
                           "relu", "leaky_relu", "gelu", "dropout"])
        if kind == "conv2d":
            k = rng.choice([1, 2, 3, 5, [3, 1]])
            layers.append({"type": kind, "out_channels": rng.randint(1, 6), "kernel_size": k,
                           "stride": rng.choice([1, 2, [1, 2]]), "padding": rng.choice([0, 1, 2])})
        elif kind in ("maxpool2d", "avgpool2d"):
            k = rng.choice([2, 3])
            layers.append({"type": kind, "kernel_size": k, "padding": rng.choice([0, 1])})
        else:
            layers.append({"type": kind})
    layers.append({"type": "flatten"})
    for _ in range(rng.randint(0, 2)):
        layers += [{"type": "linear", "out_features": rng.randint(1, 20)},
                   {"type": rng.choice(["tanh", "sigmoid", "relu"])}]
    layers.append({"type": "linear"})
    return {"name": "random", "layers": layers}


@pytest.mark.parametrize("channels,size", [(1, 28), (3, 32), (1, 9)])
def test_shape_inference_agrees_with_a_forward_pass(channels: int, size: int) -> None:
    rng = random.Random(size)
    checked = 0
    for _ in range(60):
        data = random_spec(rng)
        try:
            spec = parse_spec(data)
            rows = infer_shapes(spec, (channels, size, size), 7)
        except SpecError as exc:
            assert str(exc).startswith("layer "), exc
            continue
        model = CustomNetwork(spec, 7, channels, size).eval()
        seen = {}
        flatten = next(row.number for row in rows if row.type == "flatten")
        for row in rows:
            part = "features" if row.number < flatten else "classifier"
            module = model.get_submodule(f"{part}.{row.name}")
            module.register_forward_hook(
                lambda _m, _i, out, name=row.name: seen.__setitem__(name, tuple(out.shape[1:])))
            assert sum(p.numel() for p in module.parameters()) == row.parameters
        with torch.no_grad():
            model(torch.zeros(2, channels, size, size))
        assert seen == {row.name: row.output for row in rows}
        checked += 1
    assert checked >= 20


@pytest.mark.parametrize("layers,number,reason", [
    ([{"type": "conv2d", "out_channels": 4, "kernel_size": 29}], 1, "larger than its 28x28"),
    ([{"type": "conv2d", "out_channels": 0, "kernel_size": 3}], 1, "out_channels"),
    ([{"type": "maxpool2d", "kernel_size": -2}], 1, "kernel_size"),
    ([{"type": "relu"}, {"type": "conv2d", "out_channels": 2, "kernel_size": [3, 0]}], 2,
     "kernel_size"),
    ([{"type": "relu"}, {"type": "softmax"}], 2, "unknown type 'softmax'"),
    ([{"type": "conv2d", "out_channels": 4, "kernel_size": 3, "dilation": 2}], 1,
     "no field 'dilation'"),
    ([{"type": "relu"}, {"type": "linear", "out_features": 5}], 2, "put a flatten before it"),
    ([{"type": "flatten"}, {"type": "conv2d", "out_channels": 4, "kernel_size": 3}], 2,
     "image-shaped input"),
    ([{"type": "flatten"}, {"type": "linear", "out_features": 3}], 2, "10 classes"),
])
def test_impossible_networks_are_refused_with_the_layer_number(layers, number, reason) -> None:
    if layers[-1]["type"] != "linear":
        layers = [*layers, {"type": "flatten"}, {"type": "linear"}]
    with pytest.raises(SpecError) as caught:
        infer_shapes(parse_spec({"name": "bad", "layers": layers}), (1, 28, 28), 10)
    assert str(caught.value).startswith(f"layer {number}")
    assert reason in str(caught.value)


def test_a_network_must_end_in_a_linear_layer() -> None:
    with pytest.raises(SpecError, match="layer 2: a network must end in a linear layer"):
        parse_spec({"name": "x", "layers": [{"type": "flatten"}, {"type": "relu"}]})


def test_a_config_with_a_network_is_checked_against_its_dataset() -> None:
    config = TrainConfig(arch="tiny", network=EXAMPLE, device="cpu")
    config.validate()
    deep = {"name": "deep", "layers": [{"type": "maxpool2d", "kernel_size": 2}] * 6
            + [{"type": "flatten"}, {"type": "linear"}]}
    with pytest.raises(ValueError, match=r"^network: layer 5 \(maxpool2d\)"):
        TrainConfig(arch="deep", network=deep, device="cpu").validate()
    with pytest.raises(ValueError, match="^arch:"):
        TrainConfig(arch="simplecnn", network=EXAMPLE, device="cpu").validate()


def test_automatic_names_step_around_the_names_given() -> None:
    spec = parse_spec({"name": "x", "layers": [
        {"type": "conv2d", "out_channels": 4, "kernel_size": 3},
        {"type": "conv2d", "name": "conv1", "out_channels": 4, "kernel_size": 3},
        {"type": "flatten", "name": "flatten"}, {"type": "flatten"}, {"type": "linear"}]})
    assert [layer.name for layer in spec.layers] == ["conv2", "conv1", "flatten",
                                                     "flatten2", "fc1"]


def test_leading_shapes_stop_at_the_first_wrong_layer() -> None:
    good = [row.output for row in leading_shapes(EXAMPLE, (1, 28, 28), 10)]
    assert good == [row.output for row in infer_shapes(parse_spec(EXAMPLE), (1, 28, 28), 10)]
    broken = {"name": "x", "layers": [*EXAMPLE["layers"][:3],
                                      {"type": "conv2d", "out_channels": "abc"},
                                      *EXAMPLE["layers"][4:]]}
    assert [row.output for row in leading_shapes(broken, (1, 28, 28), 10)] == good[:3]
    assert leading_shapes({"layers": "no"}, (1, 28, 28), 10) == []
