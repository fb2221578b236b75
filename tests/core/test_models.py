from __future__ import annotations

import pytest
import torch
from torch import nn

from cnn_core.nn.layers import Conv2D
from cnn_core.nn.models import MODELS, DeepCNN, build_model, count_parameters, model_for_weights

EXPECTED_PARAMS = {"lenet5": 61_706, "simplecnn": 421_642, "deepcnn": 981_450,
                   "resnet18-imagenet": 5_130, "mobilenet-v3-small-imagenet": 5_770}


@pytest.mark.parametrize("name", list(MODELS))
def test_parameter_counts_on_mnist_shape(name: str) -> None:
    assert count_parameters(build_model(name, 1, 10, 28)) == EXPECTED_PARAMS[name]


@pytest.mark.parametrize("name", list(MODELS))
@pytest.mark.parametrize("channels,size", [(1, 28), (3, 32)])
def test_forward_and_backward_on_both_input_shapes(name: str, channels: int, size: int) -> None:
    model = build_model(name, channels, 10, size)
    out = model(torch.randn(4, channels, size, size))
    assert out.shape == (4, 10)
    out.sum().backward()
    assert all((p.grad is not None) == p.requires_grad for p in model.parameters())


@pytest.mark.parametrize("name", ["lenet5", "simplecnn", "deepcnn"])
def test_the_article_networks_use_only_the_projects_conv(name: str) -> None:
    model = build_model(name)
    assert not any(isinstance(m, nn.Conv2d) for m in model.modules())
    convs = model.conv_layers()
    assert convs and all(isinstance(layer, Conv2D) for _, layer in convs)
    # one activation per conv layer, named after it, for the feature-map view
    assert [n for n, _ in model.activation_layers()] == [n for n, _ in convs]


def test_readable_layer_names() -> None:
    assert [n for n, _ in build_model("lenet5").conv_layers()] == ["conv1", "conv2"]
    assert [n for n, _ in build_model("deepcnn").conv_layers()] == [
        "block1.conv", "block2.conv", "block3.conv", "block4.conv"]


def test_deepcnn_channels_double_block_by_block() -> None:
    model = DeepCNN()
    assert [(c.in_channels, c.out_channels) for _, c in model.conv_layers()] == [
        (1, 32), (32, 64), (64, 128), (128, 256)]
    assert model.classifier.fc1.in_features == 256 * 3 * 3


def test_lenet_flatten_size_follows_the_input() -> None:
    assert build_model("lenet5", 1, 10, 28).classifier.fc1.in_features == 16 * 5 * 5
    assert build_model("lenet5", 3, 10, 32).classifier.fc1.in_features == 16 * 6 * 6


def test_build_model_errors() -> None:
    with pytest.raises(ValueError, match="unknown architecture"):
        build_model("resnet")
    with pytest.raises(ValueError, match="larger than its 1x1 input"):
        build_model("deepcnn", 1, 10, 4)


def test_dry_run_does_not_touch_batchnorm_statistics() -> None:
    model = DeepCNN()
    assert model.features.block1.bn.num_batches_tracked.item() == 0
    assert model.training


@pytest.mark.parametrize("arch", list(MODELS))
def test_a_model_for_saved_weights_leaves_the_global_generator_alone(arch: str) -> None:
    trained = build_model(arch)
    before = torch.get_rng_state()
    model = model_for_weights({"arch": arch, "in_channels": 1, "num_classes": 10,
                               "input_size": 28})
    assert torch.equal(torch.get_rng_state(), before)  # a run's dropout draws from it
    model.load_state_dict(trained.state_dict())
    x = torch.randn(3, 1, 28, 28)
    assert torch.equal(model.eval()(x), trained.eval()(x))
