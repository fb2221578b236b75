"""Activation maximisation: images that make a channel fire harder than real digits do."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cnn_core.data.datasets import DataBundle
from cnn_core.inspect.reach import run_until, seen_module
from cnn_core.introspection import Cancelled, maximize_activation
from cnn_core.nn.models import CustomNetwork, SimpleCNN
from cnn_core.nn.spec import parse_spec
from tests.trained import trained_simplecnn


@pytest.fixture(scope="module")
def model() -> SimpleCNN:
    return trained_simplecnn()


def _channel_means(model: SimpleCNN, layer: str, images: torch.Tensor) -> np.ndarray:
    """Spatial mean of the feature map people see (after the ReLU), (N, channels)."""
    with torch.no_grad():
        return run_until(model, seen_module(model, layer), images).mean(dim=(2, 3)).numpy()


@pytest.mark.parametrize("layer, channels", [("conv1", [0, 8, 16, 24]),
                                             ("conv2", [0, 21, 42, 63])])
def test_images_beat_most_real_digits(model: SimpleCNN, sample: DataBundle, layer: str,
                                      channels: list[int]) -> None:
    before = {k: v.clone() for k, v in model.state_dict().items()}
    mean, std = np.array(sample.info.mean), np.array(sample.info.std)
    images = maximize_activation(model, layer, channels,
                                 input_range=(list(-mean / std), list((1 - mean) / std)))
    assert images.dtype == np.float32 and images.shape == (len(channels), 1, 28, 28)
    assert images.min() >= -mean[0] / std[0] - 1e-6 and images.max() <= (1 - mean[0]) / std[0]
    reached = _channel_means(model, layer, torch.from_numpy(images))
    real = _channel_means(model, layer, sample.test.images)
    for i, c in enumerate(channels):
        assert reached[i, c] > np.percentile(real[:, c], 90), (layer, c)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert all(p.grad is None for p in model.parameters())
    assert not model.training


def _vertical_edge_network() -> CustomNetwork:
    torch.manual_seed(0)
    model = CustomNetwork(parse_spec({"name": "edge", "layers": [
        {"type": "conv2d", "name": "conv1", "out_channels": 2, "kernel_size": 3, "padding": 1},
        {"type": "relu", "name": "relu1"}, {"type": "flatten", "name": "flatten"},
        {"type": "linear", "name": "fc"}]}), 10, 1, 28)
    with torch.no_grad():
        model.features.conv1.weight[0, 0] = torch.tensor([[-1.0, 0.0, 1.0]] * 3)
        model.features.conv1.bias[0] = 0.0
    return model


def test_a_vertical_edge_detector_grows_vertical_edges() -> None:
    model = _vertical_edge_network()  # left in training mode, as built
    image = maximize_activation(model, "conv1", [0])[0, 0]
    across = np.abs(np.diff(image, axis=1)).mean()
    down = np.abs(np.diff(image, axis=0)).mean()
    assert across > 3 * down
    assert model.training


def test_same_seed_same_images_and_cancel_stops() -> None:
    model = _vertical_edge_network()
    reports: list[tuple[int, int]] = []
    first = maximize_activation(model, "conv1", [0, 1], steps=20, seed=3,
                                progress=lambda done, total: reports.append((done, total)))
    assert np.array_equal(first, maximize_activation(model, "conv1", [0, 1], steps=20, seed=3))
    assert not np.array_equal(first, maximize_activation(model, "conv1", [0, 1], steps=20))
    assert reports[-1] == (20, 20) and [d for d, _ in reports] == sorted({d for d, _ in reports})
    calls = iter(range(100))
    with pytest.raises(Cancelled):
        maximize_activation(model, "conv1", [0], cancel=lambda: next(calls) == 5)
    with pytest.raises(ValueError, match="conv9"):
        maximize_activation(model, "conv9", [0])
    with pytest.raises(ValueError, match="channels 0..1"):
        maximize_activation(model, "conv1", [2])
