"""The class report against scikit-learn, and the hardest images against losses by hand."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.metrics import precision_recall_fscore_support

from cnn_core.introspection import (class_report, hardest, per_sample_losses, report_csv,
                                    top_losses)
from cnn_core.nn.models import build_model


def _random_case(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Labels never 2, predictions never 5; some predictions right, the rest random."""
    rng = np.random.default_rng(seed)
    labels = rng.choice([0, 1, 3, 4, 5, 6], size=200)
    predictions = np.where(rng.random(200) < 0.5, labels, rng.integers(0, 7, 200))
    return labels, np.where(predictions == 5, 6, predictions)


@pytest.mark.parametrize("seed", range(5))
def test_scores_equal_scikit_learn(seed: int) -> None:
    labels, predictions = _random_case(seed)
    report = class_report(labels, predictions, 7)
    kwargs = {"labels": range(7), "zero_division": 0}
    precision, recall, f1, support = precision_recall_fscore_support(labels, predictions,
                                                                     **kwargs)
    for ours, theirs in ((report.precision, precision), (report.recall, recall),
                         (report.f1, f1)):
        assert ours.dtype == np.float64
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-12)
    assert report.support.dtype == np.int64 and report.support.tolist() == support.tolist()
    for average in ("macro", "weighted"):
        theirs = precision_recall_fscore_support(labels, predictions, average=average,
                                                 **kwargs)[:3]
        np.testing.assert_allclose(getattr(report, average), theirs, rtol=0, atol=1e-12)
    assert report.accuracy == pytest.approx((labels == predictions).mean(), abs=1e-12)
    assert report.support[2] == 0 and report.precision[5] == 0.0


def test_csv_reads_back() -> None:
    labels, predictions = _random_case(0)
    report = class_report(labels, predictions, 7)
    names = [f"class {i}" for i in range(7)]
    rows = list(csv.reader(io.StringIO(report_csv(report, names))))
    assert rows[0] == ["class", "precision", "recall", "f1", "support"]
    assert [r[0] for r in rows[1:]] == [*names, "macro avg", "weighted avg", "accuracy"]
    body = np.array([[float(v) for v in r[1:4]] for r in rows[1:8]])
    np.testing.assert_array_equal(body, np.stack([report.precision, report.recall,
                                                  report.f1], axis=1))
    assert [int(r[4]) for r in rows[1:8]] == report.support.tolist()
    assert tuple(float(v) for v in rows[8][1:4]) == report.macro
    assert tuple(float(v) for v in rows[9][1:4]) == report.weighted
    assert float(rows[10][3]) == report.accuracy and int(rows[10][4]) == 200
    with pytest.raises(ValueError, match="6 class names"):
        report_csv(report, names[:6])


def test_top_losses_are_the_largest_cross_entropies() -> None:
    torch.manual_seed(0)
    model = build_model("lenet5")
    images, labels = torch.randn(37, 1, 28, 28), torch.randint(0, 10, (37,))
    model.eval()
    with torch.no_grad():
        by_hand = torch.stack([F.cross_entropy(model(images[i:i + 1]), labels[i:i + 1])
                               for i in range(37)]).numpy()
    model.train()
    losses = per_sample_losses(model, images, labels, batch_size=10)
    assert losses.dtype == np.float32 and losses.shape == (37,)
    np.testing.assert_allclose(losses, by_hand, rtol=1e-5)
    indices, top = top_losses(model, images, labels, 5)
    assert model.training
    assert sorted(indices.tolist()) == sorted(np.argsort(by_hand)[-5:].tolist())
    np.testing.assert_allclose(top, by_hand[indices], rtol=1e-5)
    assert (np.diff(top) <= 0).all()


def test_hardest_is_sorted_and_stable() -> None:
    losses = np.array([0.5, 2.0, 0.5, 3.0, 2.0, 0.1], np.float32)
    assert hardest(losses, 4).tolist() == [3, 1, 4, 0]
    assert hardest(losses, 10).tolist() == [3, 1, 4, 0, 2, 5]
    assert hardest(losses, 0).tolist() == []
