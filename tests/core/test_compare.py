"""Two runs compared inside: filters matched, predictions compared, embeddings aligned."""

from __future__ import annotations

from itertools import permutations

import numpy as np
import pytest

from cnn_core.introspection import align_embeddings, compare_predictions, match_filters
from tests.trained import trained_simplecnn


def test_match_filters_recovers_a_known_permutation_of_a_trained_layer() -> None:
    weights = trained_simplecnn().state_dict()["features.conv2.weight"].numpy()
    shuffle = np.random.default_rng(3).permutation(len(weights))
    perm, similarity = match_filters(weights, weights[shuffle])
    np.testing.assert_array_equal(weights[shuffle][perm], weights)
    np.testing.assert_allclose(similarity, 1.0, atol=1e-6)


def test_a_run_matched_with_itself_is_the_identity() -> None:
    weights = trained_simplecnn().state_dict()["features.conv1.weight"].numpy()
    perm, similarity = match_filters(weights, weights)
    np.testing.assert_array_equal(perm, np.arange(len(weights)))
    np.testing.assert_allclose(similarity, 1.0, atol=1e-6)


def test_the_match_maximises_the_total_similarity_over_every_assignment() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(5, 2, 3, 3)), rng.normal(size=(5, 2, 3, 3))
    perm, similarity = match_filters(a, b)
    flat_a, flat_b = a.reshape(5, -1), b.reshape(5, -1)
    cos = (flat_a @ flat_b.T) / np.outer(np.linalg.norm(flat_a, axis=1),
                                          np.linalg.norm(flat_b, axis=1))
    best = max(sum(cos[i, p[i]] for i in range(5)) for p in permutations(range(5)))
    assert similarity.sum() == pytest.approx(best)
    np.testing.assert_allclose(similarity, cos[np.arange(5), perm])


def test_kernels_of_other_sizes_are_compared_as_the_same_function() -> None:
    """A 3x3 kernel is the 5x5 one with a ring of zeros: matched with similarity 1."""
    small = np.random.default_rng(1).normal(size=(4, 1, 3, 3))
    large = np.zeros((4, 1, 5, 5))
    large[:, :, 1:4, 1:4] = small[::-1]
    perm, similarity = match_filters(large, small)
    np.testing.assert_array_equal(perm, [3, 2, 1, 0])
    np.testing.assert_allclose(similarity, 1.0)


def test_fewer_filters_in_b_leave_some_of_a_unmatched() -> None:
    a = np.random.default_rng(2).normal(size=(6, 1, 3, 3))
    perm, similarity = match_filters(a, a[[4, 1]])
    assert perm[4] == 0 and perm[1] == 1
    assert (perm == -1).sum() == 4 and np.isnan(similarity).sum() == 4


def test_filters_reading_other_channel_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="1 channels and B's 3"):
        match_filters(np.ones((4, 1, 3, 3)), np.ones((4, 3, 3, 3)))


def test_compare_predictions_agrees_with_a_direct_count() -> None:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 4, 300)
    pred_a = np.where(rng.random(300) < 0.7, labels, rng.integers(0, 4, 300))
    pred_b = np.where(rng.random(300) < 0.8, labels, rng.integers(0, 4, 300))
    result = compare_predictions(labels, pred_a, pred_b, num_classes=5)
    for c in range(4):
        mine = labels == c
        assert result.accuracy_a[c] == pytest.approx((pred_a[mine] == c).mean())
        assert result.accuracy_b[c] == pytest.approx((pred_b[mine] == c).mean())
    assert np.isnan(result.accuracy_a[4])  # no test image of class 4
    expected_a = [i for i in range(300) if pred_a[i] == labels[i] != pred_b[i]]
    expected_b = [i for i in range(300) if pred_b[i] == labels[i] != pred_a[i]]
    assert result.only_a_right.tolist() == expected_a
    assert result.only_b_right.tolist() == expected_b
    order = result.by_change()
    changes = np.abs(result.change[order[:4]])
    assert list(changes) == sorted(changes, reverse=True) and order[-1] == 4


def test_predictions_of_other_test_sets_are_refused() -> None:
    with pytest.raises(ValueError, match="not tested on the same images"):
        compare_predictions(np.zeros(5), np.zeros(5), np.zeros(4), 2)


def test_align_embeddings_maps_a_rotated_scaled_copy_back() -> None:
    xy = np.random.default_rng(4).normal(size=(200, 2))
    angle = 2.1
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    moved = xy @ rotation.T * 3.5 + np.array([10.0, -4.0])
    np.testing.assert_allclose(align_embeddings(xy, moved), xy, atol=1e-9)
    mirrored = moved * np.array([-1.0, 1.0])  # t-SNE may come out mirrored too
    np.testing.assert_allclose(align_embeddings(xy, mirrored), xy, atol=1e-9)


def test_align_embeddings_refuses_different_images() -> None:
    with pytest.raises(ValueError, match="same images"):
        align_embeddings(np.zeros((5, 2)), np.zeros((4, 2)))
