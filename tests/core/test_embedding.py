"""Embeddings: a trained network's hidden layer, flattened to 2-D, keeps digits apart."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cnn_core.data.datasets import DataBundle
from cnn_core.data.datasets import Split
from cnn_core.inspect.embedding import embedding_sample
from cnn_core.introspection import (align_signs, embed, embedding_layers, hidden_activations,
                                    project)
from cnn_core.train.evaluation import evaluate
from cnn_core.nn.models import SimpleCNN
from tests.trained import trained_simplecnn


@pytest.fixture(scope="module")
def model() -> SimpleCNN:
    return trained_simplecnn()


def nearest_neighbour_accuracy(coords: np.ndarray, labels: np.ndarray) -> float:
    """Leave-one-out 1-NN: how often a point's nearest other point has its label."""
    distances = ((coords[:, None] - coords[None]) ** 2).sum(-1)
    np.fill_diagonal(distances, np.inf)
    return float((labels[distances.argmin(1)] == labels).mean())


def test_pca_of_the_last_hidden_layer_keeps_digits_apart(sample: DataBundle) -> None:
    learned = trained_simplecnn(epochs=3)  # after one epoch: 47-62% over training seeds
    coords = embed(learned, sample.test.images)
    assert coords.shape == (1000, 2) and coords.dtype == np.float32
    assert np.isfinite(coords).all()
    labels = sample.test.labels.numpy()
    pixels = project(sample.test.images.flatten(1).numpy())
    accuracy = nearest_neighbour_accuracy(coords, labels)
    assert accuracy > 0.6 and nearest_neighbour_accuracy(pixels, labels) < 0.4  # chance 0.1
    assert not learned.training


def test_pca_matches_scikit_learns(sample: DataBundle) -> None:
    """Our PCA (no scikit-learn import while training) against scikit-learn's as the
    oracle: the same coordinates, the same signs."""
    from sklearn.decomposition import PCA

    rng = np.random.default_rng(0)
    hidden = rng.normal(size=(1500, 84)).astype(np.float32) * np.linspace(4, 0.1, 84)
    for x in (sample.test.images[:500].flatten(1).numpy(),  # many rows and columns
              sample.test.images[:150].flatten(1).numpy(),  # few rows
              hidden.astype(np.float32),  # few columns: a hidden layer
              rng.normal(size=(40, 3)).astype(np.float32) * [5, 2, 0.1]):
        ours, theirs = project(x), PCA(2).fit_transform(x)
        np.testing.assert_allclose(ours, theirs, atol=1e-3 * np.abs(theirs).max())


def test_tsne_is_deterministic_for_a_seed(model: SimpleCNN, sample: DataBundle) -> None:
    images, labels = sample.test.images[:300], sample.test.labels[:300].numpy()
    first = embed(model, images, "tsne", seed=1)
    assert np.array_equal(first, embed(model, images, "tsne", seed=1))
    assert first.shape == (300, 2) and np.isfinite(first).all()
    assert nearest_neighbour_accuracy(first, labels) > 0.6


def test_any_layer_can_be_embedded(model: SimpleCNN, sample: DataBundle) -> None:
    names = embedding_layers(model)
    assert names == ["conv1", "relu1", "pool1", "conv2", "relu2", "pool2", "flatten", "fc1",
                     "relu3", "dropout", "fc2"]
    images = sample.test.images[:7]
    assert hidden_activations(model, images, "conv2").shape == (7, 64 * 14 * 14)
    last_hidden = hidden_activations(model, images, batch_size=3)
    assert last_hidden.shape == (7, 128) and last_hidden.dtype == np.float32
    np.testing.assert_allclose(last_hidden, hidden_activations(model, images, "dropout"),
                               rtol=1e-5, atol=1e-6)  # batches of 3 vs one of 7
    with torch.no_grad():
        logits = model(images).numpy()
    np.testing.assert_allclose(hidden_activations(model, images, "fc2"), logits, rtol=1e-6,
                               atol=1e-6)
    assert embed(model, images, layer_name="pool1").shape == (7, 2)
    with pytest.raises(ValueError, match="conv9"):
        hidden_activations(model, images, "conv9")


def test_projection_edge_cases_stay_finite() -> None:
    rng = np.random.default_rng(0)
    for method in ("pca", "tsne"):
        assert project(np.zeros((0, 5)), method).shape == (0, 2)
        assert project(np.ones((1, 5)), method).tolist() == [[0.0, 0.0]]
        assert not project(np.ones((6, 5)), method).any()  # no spread: all at the origin
        for n in (2, 3, 4):
            coords = project(rng.normal(size=(n, 1)), method)
            assert coords.shape == (n, 2) and np.isfinite(coords).all()
    with pytest.raises(ValueError, match="umap"):
        project(np.ones((3, 2)), "umap")
    with pytest.raises(ValueError, match="finite"):
        project(np.full((3, 2), np.nan))
    with pytest.raises(ValueError, match="tsne"):
        embed(SimpleCNN(), torch.zeros(2, 1, 28, 28), "umap")


def test_align_signs_undoes_a_flipped_axis() -> None:
    reference = np.random.default_rng(1).normal(size=(50, 2)).astype(np.float32)
    flipped = reference * np.array([-1, 1], np.float32)
    np.testing.assert_array_equal(align_signs(flipped, reference), reference)
    np.testing.assert_array_equal(align_signs(reference, reference), reference)
    assert align_signs(flipped, reference[:40]) is flipped


def test_an_evaluation_keeps_the_last_hidden_layer_of_its_own_pass(model: SimpleCNN,
                                                                    sample: DataBundle) -> None:
    test = Split(sample.test.images[:300], sample.test.labels[:300])
    kept = evaluate(model, test, torch.nn.CrossEntropyLoss(), batch_size=128, keep_hidden=True)
    np.testing.assert_allclose(kept.hidden.numpy(), hidden_activations(model, test.images),
                               rtol=1e-5, atol=1e-6)
    assert evaluate(model, test, torch.nn.CrossEntropyLoss()).hidden is None


def test_a_large_test_set_is_embedded_through_one_fixed_sample() -> None:
    assert np.array_equal(embedding_sample(1500), np.arange(1500))
    picked = embedding_sample(10_000)
    assert len(picked) == 2000 == len(set(picked)) and np.all(np.diff(picked) > 0)
    assert np.array_equal(picked, embedding_sample(10_000))
