"""The looks inside a network on torchvision's backbones: their conv layers named as
torchvision names them, in forward order, and every analysis working through them."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cnn_core.inspect.ablation import ablate, filter_importance
from cnn_core.inspect.analysis import feature_maps, layer_health, layer_summary, saliency
from cnn_core.inspect.embedding import embedding_layers, hidden_activations
from cnn_core.inspect.explain import explain_conv, explain_map_pixel
from cnn_core.nn.models import StudioModel, build_model

SIZE = 64


def backbone_net(arch: str = "resnet18-imagenet", classes: int = 3,
                 channels: int = 3) -> StudioModel:
    torch.manual_seed(0)
    model = build_model(arch, channels, classes, SIZE).eval()
    for module in model.modules():  # statistics a trained network might have
        if isinstance(module, nn.BatchNorm2d):
            module.running_mean.normal_(0, 0.1)
            module.running_var.uniform_(0.5, 2.0)
    return model


@pytest.fixture(scope="module")
def resnet() -> StudioModel:
    return backbone_net()


@pytest.fixture(scope="module")
def mobilenet() -> StudioModel:
    return backbone_net("mobilenet-v3-small-imagenet", channels=1)


def test_resnet_conv_layers_have_torchvision_names_in_forward_order(resnet) -> None:
    names = [name for name, _ in resnet.conv_layers()]
    assert len(names) == 20
    assert names[:4] == ["backbone.conv1", "backbone.layer1.0.conv1", "backbone.layer1.0.conv2",
                         "backbone.layer1.1.conv1"]
    assert "backbone.layer2.0.downsample.0" in names and names[-1] == "backbone.layer4.1.conv2"
    assert all(isinstance(conv, nn.Conv2d) for _, conv in resnet.conv_layers())
    assert_forward_order(resnet)


def test_mobilenet_conv_layers_leave_out_the_excitation_gates(mobilenet) -> None:
    names = [name for name, _ in mobilenet.conv_layers()]
    assert names[:3] == ["backbone.features.0.0", "backbone.features.1.block.0.0",
                         "backbone.features.1.block.2.0"]
    assert len(names) == 34 and not any(".fc" in name for name in names)
    assert_forward_order(mobilenet, channels=1)


def assert_forward_order(model: StudioModel, channels: int = 3) -> None:
    """The convs run in the order listed, and each map's module runs once per picture."""
    ran: list[str] = []
    maps: dict[str, int] = {}
    hooks = [conv.register_forward_hook(lambda *_a, n=name: ran.append(n))
             for name, conv in model.conv_layers()]
    hooks += [seen.register_forward_hook(
        lambda *_a, n=name: maps.__setitem__(n, maps.get(n, 0) + 1))
        for name, seen in model.activation_layers()]
    with torch.no_grad():
        model(torch.zeros(1, channels, SIZE, SIZE))
    for hook in hooks:
        hook.remove()
    listed = [name for name, _ in model.conv_layers()]
    assert [name for name in ran if name in listed] == listed
    assert maps == {name: 1 for name in listed}


def test_a_resnet_block_conv_is_seen_after_its_batch_norm_not_the_twice_run_relu(resnet) -> None:
    seen = dict(resnet.activation_layers())
    backbone = resnet.features.backbone
    assert seen["backbone.conv1"] is backbone.relu  # the stem: conv, bn, relu in order
    assert seen["backbone.layer1.0.conv1"] is backbone.layer1[0].bn1
    assert seen["backbone.layer2.0.downsample.0"] is backbone.layer2[0].downsample[1]


def test_the_explainer_on_resnet_conv1_agrees_with_conv2d(resnet) -> None:
    """Stride 2 and padding 3 over the picture the backbone prepared (resized, normalised
    as ImageNet's): the conv's real input, not the model's."""
    torch.manual_seed(1)
    image = torch.randn(3, 48, 48)  # resized to 64 inside
    conv = resnet.features.backbone.conv1
    with torch.no_grad():
        seen = resnet.features.backbone.prepare(image[None])
        oracle = F.conv2d(seen, conv.weight, None, stride=2, padding=3)[0]
    for channel, row, col in ((0, 0, 0), (17, 9, 22), (63, 31, 31)):
        got = explain_conv(resnet, image, "backbone.conv1", channel, row, col)
        assert got.patch.shape == got.kernel.shape == (3, 7, 7)
        assert got.value == pytest.approx(float(oracle[channel, row, col]), abs=1e-4)
        assert float(got.products.sum()) + got.bias == pytest.approx(got.value, abs=1e-4)
    pixel = explain_map_pixel(resnet, image, "backbone.conv1", 5, 0, 0)
    assert pixel.stride == (2, 2) and pixel.padding == (3, 3)
    assert pixel.after == ("BatchNorm2d", "ReLU")
    assert pixel.padded[:3].all() and not pixel.padded[3:, 3:].any()
    # the field in the 48 pixels given: where the value's gradient is not zero (conv1 is
    # linear in the picture, so that is every pixel it reads, through the resizing)
    for row, col in ((0, 0), (10, 20), (31, 31)):
        picture = image.clone().requires_grad_(True)
        out = resnet.features.backbone.conv1(resnet.features.backbone.prepare(picture[None]))
        (grad,) = torch.autograd.grad(out[0, 5, row, col], picture)
        rows, cols = np.nonzero(grad.abs().sum(0).numpy())
        field = explain_conv(resnet, image, "backbone.conv1", 5, row, col).field
        assert field == (rows.min(), cols.min(), rows.max(), cols.max())


def test_the_explainer_on_a_nested_conv_reads_that_convs_input(resnet) -> None:
    image = torch.randn(3, SIZE, SIZE)
    conv = resnet.features.backbone.layer2[0].conv1
    captured = {}
    hook = conv.register_forward_hook(lambda _m, _i, out: captured.update(out=out[0]))
    with torch.no_grad():
        resnet(image[None])
    hook.remove()
    got = explain_map_pixel(resnet, image, "backbone.layer2.0.conv1", 7, 3, 5)
    assert got.conv.value == pytest.approx(float(captured["out"][7, 3, 5]), abs=1e-4)
    assert got.conv.patch.shape == (64, 3, 3) and got.stride == (2, 2)
    assert got.after == ("BatchNorm2d",)
    top, left, bottom, right = got.conv.field
    assert top < 3 * 8 <= bottom and left < 5 * 8 <= right  # the field spans its place


def test_the_explainer_refuses_a_depthwise_conv_in_one_line(mobilenet) -> None:
    with pytest.raises(ValueError) as refused:
        explain_conv(mobilenet, torch.zeros(1, SIZE, SIZE), "backbone.features.1.block.0.0",
                     0, 0, 0)
    message = str(refused.value)
    assert "\n" not in message and "not for grouped convolutions" in message
    assert "16 groups" in message


def test_feature_maps_and_grad_cam_of_a_backbone(resnet) -> None:
    image = torch.randn(3, SIZE, SIZE)
    maps = feature_maps(resnet, image)
    assert list(maps) == [name for name, _ in resnet.conv_layers()]
    assert maps["backbone.conv1"].shape == (64, 32, 32)
    assert maps["backbone.layer1.0.conv1"].shape == (64, 16, 16)
    result = saliency(resnet, image)
    assert result.grad_cam is not None and result.grad_cam.shape == (SIZE, SIZE)
    assert result.grad_cam.max() == pytest.approx(1.0) or not result.grad_cam.any()
    # on a chosen layer: its maps are weighed (ResNet's ReLU working in place on them after)
    nested = saliency(resnet, image, result.target, layer="backbone.layer1.0.conv2")
    assert nested.grad_cam.shape == (SIZE, SIZE) and not np.array_equal(nested.grad_cam,
                                                                        result.grad_cam)
    np.testing.assert_allclose(nested.probabilities, result.probabilities, rtol=1e-5)


def test_layer_health_of_a_frozen_backbone_differentiates_only_the_head(resnet) -> None:
    images, labels = torch.randn(6, 3, SIZE, SIZE), torch.tensor([0, 1, 2, 0, 1, 2])
    health = layer_health(resnet, images, labels)
    assert health.layers[:2] == ["backbone.conv1", "backbone.layer1.0.conv1"]
    assert health.layers[-1] == "fc" and len(health.layers) == 21
    grads = dict(zip(health.layers, health.grad_norm))
    assert grads["fc"] > 0 and grads["backbone.conv1"] == 0
    assert "backbone.conv1" in health.frozen and "fc" not in health.frozen
    assert "backbone.layer1.0.bn1" in health.frozen
    assert not any(w.startswith("backbone.") for w in health.warnings)
    names = [row.name for row in layer_summary(resnet, (3, SIZE, SIZE))]
    assert len(names) == len(set(names))  # the block's ReLU, run twice, listed once


def test_switching_off_channels_inside_a_resnet_block_agrees_with_ablate() -> None:
    """filter_importance runs the block around the layer again (it adds its input back)
    with each channel zeroed; the plain hook of ablate is the oracle."""
    model = backbone_net(classes=100)  # close logits: one channel can tip a prediction
    images = torch.randn(8, 3, SIZE, SIZE)
    with torch.no_grad():
        labels = model(images).argmax(1)  # right everywhere: any change is a loss
    for layer in ("backbone.layer4.1.conv1",):
        drops = filter_importance(model, images, labels, layer, batch_size=5)
        count = dict(model.conv_layers())[layer].out_channels
        assert drops.shape == (count,) and drops.any()
        for channel in np.argsort(-drops)[:3].tolist() + [0]:
            result = ablate(model, images, labels, layer, [channel])
            assert drops[channel] == pytest.approx(
                result.accuracy_before - result.accuracy_after, abs=1e-6)


def test_the_embedding_offers_the_backbones_pooled_output(resnet) -> None:
    layers = embedding_layers(resnet)
    assert layers[0] == "backbone" and not any(name.startswith("backbone.") for name in layers)
    features = hidden_activations(resnet, torch.randn(7, 3, SIZE, SIZE), "backbone")
    assert features.shape == (7, 512)
