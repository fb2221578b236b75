"""Introspection against cases worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cnn_core.inspect.analysis import (confusion_from_predictions, confusion_matrix, conv_filters,
                                    feature_maps, layer_summary, predict_proba)
from cnn_core.nn.models import MODELS, build_model


def test_known_kernel_gives_known_feature_map() -> None:
    model = build_model("lenet5")
    conv1 = model.features.conv1
    with torch.no_grad():
        conv1.weight.zero_()
        conv1.bias.zero_()
        conv1.weight[0, 0, 2, 2] = 1.0  # identity kernel (centre tap, padding 2)
        conv1.weight[1, 0, 2, 2] = -1.0  # negated identity
        conv1.bias[2] = 0.5  # constant
    image = torch.zeros(1, 28, 28)
    image[0, 3, 4] = 2.0
    maps = feature_maps(model, image)
    first = maps["conv1"]  # after tanh
    assert first.shape == (6, 28, 28)
    expected = np.zeros((28, 28), np.float32)
    expected[3, 4] = np.tanh(2.0)
    np.testing.assert_allclose(first[0], expected, atol=1e-6)
    np.testing.assert_allclose(first[1], -expected, atol=1e-6)
    np.testing.assert_allclose(first[2], np.full((28, 28), np.tanh(0.5)), atol=1e-6)
    assert maps["conv2"].shape == (16, 10, 10)
    assert model.training  # left as it was found


@pytest.mark.parametrize("name", list(MODELS))
def test_feature_maps_and_filters_per_layer(name: str) -> None:
    model = build_model(name)
    maps = feature_maps(model, torch.randn(1, 1, 28, 28))
    filters = conv_filters(model)
    assert list(maps) == list(filters) == [n for n, _ in model.conv_layers()]
    for (lname, layer) in model.conv_layers():
        assert filters[lname].shape == tuple(layer.weight.shape)
        assert maps[lname].shape[0] == layer.out_channels


def test_confusion_of_known_predictions() -> None:
    y_true = np.array([0, 0, 1, 1, 1, 2])
    y_pred = np.array([0, 1, 1, 1, 2, 2])
    m = confusion_from_predictions(y_true, y_pred, 3)
    assert m.tolist() == [[1, 1, 0], [0, 2, 1], [0, 0, 1]]
    assert m.sum() == len(y_true)


def test_confusion_matrix_of_a_model_counts_every_image() -> None:
    model = build_model("lenet5")
    x = torch.randn(37, 1, 28, 28)
    y = torch.randint(0, 10, (37,))
    m = confusion_matrix(model, x, y, 10)
    assert m.shape == (10, 10) and m.sum() == 37
    assert m.sum(axis=1).tolist() == torch.bincount(y, minlength=10).tolist()
    pred = predict_proba(model, x).argmax(1)
    assert np.trace(m) == int((pred == y.numpy()).sum())


def test_probabilities_sum_to_one() -> None:
    p = predict_proba(build_model("simplecnn"), torch.randn(5, 1, 28, 28))
    assert p.shape == (5, 10)
    np.testing.assert_allclose(p.sum(1), 1.0, rtol=1e-5)


def test_layer_summary_shapes_and_parameters_add_up() -> None:
    model = build_model("lenet5")
    rows = layer_summary(model, (1, 28, 28))
    assert [r.name for r in rows][:3] == ["conv1", "tanh1", "pool1"]
    assert rows[0].output_shape == (6, 28, 28) and rows[0].params == 156
    assert next(r for r in rows if r.name == "pool2").output_shape == (16, 5, 5)
    assert sum(r.params for r in rows) == 61_706


def test_drawing_preprocessing_centres_an_off_centre_stroke() -> None:
    from cnn_core.inspect.drawing import centre_of_mass, preprocess_drawing

    canvas = np.zeros((280, 280), np.float32)
    canvas[20:120, 200:230] = 1.0  # a tall bar in the top-right corner
    field = preprocess_drawing(canvas)
    assert field.shape == (28, 28) and field.dtype == np.float32
    rows, cols = np.nonzero(field > 0.05)
    assert rows.max() - rows.min() + 1 == 20  # the longer side scaled to the 20-pixel box
    assert cols.max() - cols.min() + 1 <= 8  # aspect ratio kept (30/100 of 20 = 6)
    r, c = centre_of_mass(field)
    assert abs(r - 13.5) <= 0.5 and abs(c - 13.5) <= 0.5
    assert preprocess_drawing(np.zeros((50, 50))).sum() == 0


def test_saliency_maps_have_the_input_size_and_follow_the_evidence() -> None:
    from cnn_core.inspect.analysis import saliency

    torch.manual_seed(0)
    model = build_model("simplecnn")
    image = torch.zeros(1, 28, 28)
    image[0, 4:10, 18:24] = 3.0  # all the evidence sits in one patch
    s = saliency(model, image)
    assert s.grad_cam.shape == (28, 28) and s.gradient.shape == (28, 28)
    assert 0 <= s.grad_cam.min() and s.grad_cam.max() <= 1
    assert s.target == int(np.argmax(s.probabilities))
    np.testing.assert_allclose(s.probabilities.sum(), 1.0, rtol=1e-5)
    # the input gradient is largest on and around the patch, not in the empty far corner
    assert s.gradient[2:12, 16:26].max() > s.gradient[20:, :8].max()
    other = saliency(model, image, target=(s.target + 1) % 10)
    assert other.target == (s.target + 1) % 10
    assert all(p.grad is None for p in model.parameters())  # training state untouched


def test_layer_health_reports_dead_units_and_leaves_training_state_alone() -> None:
    from cnn_core.inspect.analysis import layer_health

    torch.manual_seed(0)
    model = build_model("simplecnn")
    with torch.no_grad():
        model.features.conv1.bias.fill_(-100.0)  # every conv1 unit is pushed below zero
    before = {k: v.clone() for k, v in model.state_dict().items()}
    health = layer_health(model, torch.randn(32, 1, 28, 28), torch.randint(0, 10, (32,)))
    assert health.layers == ["conv1", "conv2", "fc1", "fc2"]
    assert health.inactive["relu1"] == 1.0
    assert any("relu1" in w and "never fire" in w for w in health.warnings)
    assert all(p.grad is None for p in model.parameters())
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    deep = layer_health(build_model("deepcnn"), torch.randn(16, 1, 28, 28),
                        torch.randint(0, 10, (16,)))
    assert set(deep.batchnorm) == {"block1.bn", "block2.bn", "block3.bn", "block4.bn"}


def test_trainer_keeps_test_predictions_for_the_confusion_matrix(small) -> None:
    from cnn_core.train.config import TrainConfig
    from cnn_core.train.trainer import Trainer

    trainer = Trainer(TrainConfig(arch="lenet5", epochs=1, device="cpu"), data=small)
    trainer.fit()
    pred = trainer.test_predictions
    assert pred is not None and pred.shape == (len(small.test),)
    acc = float((pred == trainer.data.test.labels).float().mean())
    assert acc == pytest.approx(trainer.history[-1].test_acc)
    m = confusion_from_predictions(trainer.data.test.labels.numpy(), pred.numpy(), 10)
    assert m.sum() == len(small.test)
    assert float(trainer.test_confidence.min()) >= 0.1  # a max over 10 classes


def _custom(layers: list[dict], channels: int = 1):
    from cnn_core.nn.models import CustomNetwork
    from cnn_core.nn.spec import parse_spec

    torch.manual_seed(0)
    return CustomNetwork(parse_spec({"name": "odd", "layers": layers}), 10, channels, 28)


def test_every_conv_layer_has_a_feature_map_whatever_follows_it() -> None:
    """A conv with no nonlinearity before the next conv or pooling is seen as itself; one
    followed by batch norm and an activation is seen after both, at its own size."""
    model = _custom([
        {"type": "conv2d", "out_channels": 4, "kernel_size": 5, "stride": 2, "padding": 2},
        {"type": "conv2d", "out_channels": 6, "kernel_size": 3, "padding": 1},
        {"type": "batchnorm2d"}, {"type": "gelu"},
        {"type": "conv2d", "out_channels": 5, "kernel_size": 3},
        {"type": "maxpool2d", "kernel_size": 2}, {"type": "sigmoid"},
        {"type": "conv2d", "out_channels": 3, "kernel_size": 1},
        {"type": "flatten"}, {"type": "linear"}], channels=3)
    seen = model.activation_layers()
    convs = dict(model.conv_layers())
    assert [n for n, _ in seen] == list(convs) == ["conv1", "conv2", "conv3", "conv4"]
    assert seen[0][1] is convs["conv1"] and seen[2][1] is convs["conv3"]
    assert isinstance(seen[1][1], torch.nn.GELU) and seen[3][1] is convs["conv4"]
    maps = feature_maps(model, torch.randn(3, 28, 28))
    assert {k: v.shape for k, v in maps.items()} == {
        "conv1": (4, 14, 14), "conv2": (6, 14, 14), "conv3": (5, 12, 12), "conv4": (3, 6, 6)}
    assert maps["conv1"].min() < 0  # the conv's own output, not clipped by any activation


def test_saliency_without_a_conv_layer_has_an_input_gradient_only() -> None:
    from cnn_core.inspect.analysis import saliency

    model = _custom([{"type": "flatten"}, {"type": "linear", "out_features": 16},
                     {"type": "relu"}, {"type": "linear"}])
    s = saliency(model, torch.randn(1, 28, 28))
    assert s.grad_cam is None and s.gradient.shape == (28, 28) and s.gradient.max() == 1


def test_a_drawing_fits_a_greyscale_network_of_another_size() -> None:
    from cnn_core.inspect.drawing import fit_field

    field = np.zeros((28, 28), np.float32)
    field[10:18, 12:16] = 1.0
    assert fit_field(field, 28) is field
    small = fit_field(field, 14)
    assert small.shape == (14, 14) and 0 <= small.min() and small.max() <= 1
    assert small[5:9, 6:8].min() > 0.7 and small[:3].max() == 0  # the stroke, in its place
