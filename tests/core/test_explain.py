"""The convolution explainer against PyTorch as the oracle."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from cnn_core.introspection import explain_conv, explain_map_pixel
from cnn_core.nn.models import CustomNetwork
from cnn_core.nn.spec import parse_spec


def network(channels: int, stride: int, padding: int) -> CustomNetwork:
    spec = parse_spec({"name": "probe", "layers": [
        {"type": "conv2d", "out_channels": 4, "kernel_size": 3, "padding": 1},
        {"type": "relu"},
        {"type": "conv2d", "out_channels": 5, "kernel_size": 3, "stride": stride,
         "padding": padding},
        {"type": "relu"},
        {"type": "flatten"},
        {"type": "linear"},
    ]})
    torch.manual_seed(channels * 10 + stride + padding)
    return CustomNetwork(spec, 10, channels, 12).eval()


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("padding", [0, 1, 2])
def test_explain_conv_agrees_with_conv2d_and_the_layer_output(channels, stride,
                                                              padding) -> None:
    model = network(channels, stride, padding)
    image = torch.randn(channels, 12, 12)
    conv1 = model.features.conv1
    conv2 = model.features.conv2
    captured = {}
    hook = conv2.register_forward_hook(lambda _m, _i, out: captured.update(out=out[0]))
    with torch.no_grad():
        model(image.unsqueeze(0))
        hidden = torch.relu(conv1(image.unsqueeze(0)))
        oracle = F.conv2d(hidden, conv2.weight, conv2.bias, stride=stride, padding=padding)[0]
    hook.remove()
    _, height, width = oracle.shape
    for channel, row, col in [(0, 0, 0), (4, height - 1, width - 1), (2, height // 2, 1)]:
        got = explain_conv(model, image, "conv2", channel, row, col)
        assert got.patch.shape == got.kernel.shape == (4, 3, 3)
        recomputed = float((got.patch * got.kernel).sum()) + got.bias
        assert recomputed == pytest.approx(got.value, abs=1e-5)
        assert got.value == pytest.approx(float(oracle[channel, row, col]), abs=1e-5)
        assert got.value == pytest.approx(float(captured["out"][channel, row, col]), abs=1e-5)
        assert got.channel_sums.sum() + got.bias == pytest.approx(got.value, abs=1e-5)


def test_first_layer_patch_is_the_padded_image_and_its_field() -> None:
    model = network(1, 1, 0)
    image = torch.arange(144, dtype=torch.float32).reshape(1, 12, 12)
    got = explain_conv(model, image, "conv1", 0, 0, 0)
    assert torch.equal(torch.from_numpy(got.patch[0, 1:, 1:]), image[0, :2, :2])
    assert (got.patch[0, 0] == 0).all()  # the padding row
    assert got.field == (0, 0, 1, 1)
    assert explain_conv(model, image, "conv2", 0, 0, 0).field == (0, 0, 3, 3)


def test_explain_conv_refuses_what_does_not_exist() -> None:
    model = network(1, 1, 0)
    image = torch.zeros(1, 12, 12)
    with pytest.raises(ValueError, match="no conv layer 'fc1'"):
        explain_conv(model, image, "fc1", 0, 0, 0)
    with pytest.raises(ValueError, match="outside"):
        explain_conv(model, image, "conv2", 5, 0, 0)


def test_a_feature_map_pixel_is_the_conv_value_after_the_layers_between() -> None:
    """Batch norm then ReLU after conv1, nothing after the strided, padded conv2: the map's
    pixel is the explained value passed through what lies between, and the patch's
    padding cells are the ones outside the layer's input."""
    spec = parse_spec({"name": "probe", "layers": [
        {"type": "conv2d", "out_channels": 4, "kernel_size": 3, "padding": 1},
        {"type": "batchnorm2d"}, {"type": "dropout"}, {"type": "relu"},
        {"type": "conv2d", "out_channels": 5, "kernel_size": 3, "stride": 2, "padding": 1},
        {"type": "flatten"}, {"type": "linear"}]})
    torch.manual_seed(0)
    model = CustomNetwork(spec, 10, 3, 12)
    with torch.no_grad():
        model.features.bn1.running_mean.uniform_(-1, 1)
        model.features.bn1.running_var.uniform_(0.5, 2)
    image = torch.randn(3, 12, 12)
    first = explain_map_pixel(model, image, "conv1", 2, 0, 5)
    assert first.after == ("BatchNorm2d", "ReLU") and first.feature_map.shape == (12, 12)
    bn = model.features.bn1
    expected = max(0.0, (first.conv.value - float(bn.running_mean[2]))
                   / float(torch.sqrt(bn.running_var[2] + bn.eps)) * bn.weight[2].item()
                   + bn.bias[2].item())
    assert first.shown == pytest.approx(expected, abs=1e-5)
    assert first.padded.tolist() == [[True] * 3, [False] * 3, [False] * 3]
    strongest = explain_map_pixel(model, image, "conv2", 4)  # no position: the largest
    assert strongest.shown == strongest.feature_map.max() and strongest.after == ()
    assert strongest.shown == pytest.approx(strongest.conv.value, abs=1e-6)
    assert strongest.stride == (2, 2) and strongest.padding == (1, 1)
    corner = explain_map_pixel(model, image, "conv2", 0, 5, 5)  # reads rows/cols 9..11
    assert not corner.padded.any()
    with pytest.raises(ValueError, match="5 channels"):
        explain_map_pixel(model, image, "conv2", 5)
