"""Ablation: switching channels off costs accuracy, measured without changing the model."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cnn_core.data.datasets import DataBundle
from cnn_core.inspect import ablation
from cnn_core.introspection import Cancelled, ablate, filter_importance
from cnn_core.nn.models import SimpleCNN, StudioModel, build_model
from tests.trained import trained_simplecnn


@pytest.fixture(scope="module")
def model() -> SimpleCNN:
    return trained_simplecnn()


def _state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in model.state_dict().items()}


def _unchanged(model: torch.nn.Module, before: dict[str, torch.Tensor]) -> bool:
    return all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_no_channel_off_changes_nothing(model: SimpleCNN, sample: DataBundle) -> None:
    result = ablate(model, sample.test.images, sample.test.labels, "conv2", [])
    assert result.accuracy_after == result.accuracy_before > 0.85
    assert np.array_equal(result.confusion_after, result.confusion_before)
    assert np.array_equal(result.per_class_after, result.per_class_before)
    assert result.confusion_before.dtype == np.int64 and result.confusion_before.sum() == 1000
    assert result.layer == "conv2" and result.channels == ()


def test_every_first_layer_channel_off_leaves_chance(model: SimpleCNN,
                                                     sample: DataBundle) -> None:
    before = _state(model)
    result = ablate(model, sample.test.images, sample.test.labels, "conv1", range(32),
                    batch_size=300)
    assert result.accuracy_after < 0.25
    assert result.channels == tuple(range(32))
    labels = sample.test.labels.numpy()
    per_class = [(result.confusion_after[c, c] / (labels == c).sum()) for c in range(10)]
    np.testing.assert_allclose(result.per_class_after, per_class)
    assert _unchanged(model, before) and not model.training
    assert all(p.grad is None for p in model.parameters())


def test_known_predictions_of_the_intact_model_are_used_as_they_are(model: SimpleCNN,
                                                                   sample: DataBundle) -> None:
    intact = ablate(model, sample.test.images, sample.test.labels, "conv2", [5])
    wrong = np.zeros(len(sample.test.labels), np.int64)  # "every image is a 0"
    given = ablate(model, sample.test.images, sample.test.labels, "conv2", [5], before=wrong)
    assert given.accuracy_before == float((sample.test.labels.numpy() == 0).mean())
    assert given.accuracy_after == intact.accuracy_after
    assert np.array_equal(given.confusion_after, intact.confusion_after)


def test_a_class_without_images_scores_zero(model: SimpleCNN, sample: DataBundle) -> None:
    keep = sample.test.labels != 3
    result = ablate(model, sample.test.images[keep], sample.test.labels[keep], "conv1", [0])
    assert result.per_class_before[3] == result.per_class_after[3] == 0.0
    assert np.isfinite(result.per_class_after).all()
    with pytest.raises(ValueError, match="channels 0..31"):
        ablate(model, sample.test.images, sample.test.labels, "conv1", [32])
    with pytest.raises(ValueError, match="conv9"):
        filter_importance(model, sample.test.images, sample.test.labels, "conv9")


def _drops(model: StudioModel, images: torch.Tensor, labels: torch.Tensor, layer: str,
           channels: list[int]) -> list[float]:
    results = [ablate(model, images, labels, layer, [c], batch_size=128) for c in channels]
    return [r.accuracy_before - r.accuracy_after for r in results]


@pytest.mark.parametrize("layer, images", [("conv1", 200), ("conv2", 500)])
def test_importance_is_each_channel_ablated_alone(model: SimpleCNN, sample: DataBundle,
                                                  layer: str, images: int) -> None:
    x, y = sample.test.images[:images], sample.test.labels[:images]
    reports: list[tuple[int, int]] = []
    importance = filter_importance(model, x, y, layer, batch_size=128,
                                   progress=lambda done, total: reports.append((done, total)))
    count = dict(model.conv_layers())[layer].out_channels
    assert importance.dtype == np.float32 and importance.shape == (count,)
    assert reports == [(c + 1, count) for c in range(count)]
    channels = [int(importance.argmax()), 1, count - 1]
    np.testing.assert_allclose(importance[channels], _drops(model, x, y, layer, channels),
                               atol=1e-6)
    assert importance.max() > 0


def test_importance_through_batch_norm_blocks_and_in_chunks(
        sample: DataBundle, monkeypatch: pytest.MonkeyPatch) -> None:
    torch.manual_seed(0)
    model = build_model("deepcnn", num_blocks=3, initial_channels=8)  # in training mode
    with torch.no_grad():
        for name, buffer in model.named_buffers():
            if name.endswith("running_mean"):
                buffer.uniform_(-0.2, 0.2)
            elif name.endswith("running_var"):
                buffer.uniform_(0.5, 2.0)
    before = _state(model)
    x, y = sample.test.images[:300], sample.test.labels[:300]
    whole = filter_importance(model, x, y, "block2.conv", batch_size=128)
    np.testing.assert_allclose(whole[[0, 5, 15]], _drops(model, x, y, "block2.conv", [0, 5, 15]),
                               atol=1e-6)
    one_map = 16 * 14 * 14 * 4  # bytes of one image's maps at block2
    monkeypatch.setattr(ablation, "CHUNK_BYTES", 128 * one_map)  # one batch per chunk
    reports: list[tuple[int, int]] = []
    chunked = filter_importance(model, x, y, "block2.conv", batch_size=128,
                                progress=lambda done, total: reports.append((done, total)))
    np.testing.assert_allclose(chunked, whole, atol=1e-6)
    assert reports[-1] == (48, 48)  # 16 channels x 3 chunks
    assert _unchanged(model, before) and model.training


def test_cancel_stops_filter_importance(model: SimpleCNN, sample: DataBundle) -> None:
    calls = iter(range(100))
    with pytest.raises(Cancelled):
        filter_importance(model, sample.test.images[:50], sample.test.labels[:50], "conv2",
                          cancel=lambda: next(calls) == 3)
