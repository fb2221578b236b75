"""What a report comparing two runs is made of: each run opened at its best checkpoint
through the engine's one way in (:func:`~cnn_core.train.launch.launch`, inspecting), its
filters and curves, and its predictions on the test set both runs share."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..data.bundle import DataBundle, ProgressFn, denormalize, display_pixels
from ..inspect.analysis import conv_filters, predict_proba
from ..inspect.compare import PredictionComparison, compare_predictions
from ..paths import default_data_dir
from ..runs.store import read_metrics
from ..train.callbacks import EpochMetrics
from ..train.config import TrainConfig
from ..train.launch import Continuation, RunKind, launch, open_continuation
from .exporters import ExportError, resolve_source

EVAL_CHUNK = 500  # test images per forward pass: the progress line moves between them


@dataclass(frozen=True)
class ReportRun:
    """One side of the comparison, as the report shows it."""

    name: str
    source: Path  # the run folder or checkpoint file given
    config: TrainConfig  # its settings as recorded
    epoch: int  # the checkpoint's epoch
    metrics: list[EpochMetrics]  # the whole run's curves (the checkpoint's, when alone)
    filters: dict[str, np.ndarray]  # conv layer -> (out, in, kh, kw), in the network's order
    predictions: np.ndarray  # (N,) on the shared test set
    accuracy: float  # the checkpoint's test accuracy, from those predictions


@dataclass(frozen=True)
class ComparedRuns:
    """Both runs and what their predictions say together."""

    a: ReportRun
    b: ReportRun
    class_names: tuple[str, ...]
    labels: np.ndarray  # (N,) the shared test set's labels
    pictures: np.ndarray  # (N, H, W) or (N, H, W, 3) uint8: the test images as seen
    comparison: PredictionComparison


def _checkpoint(source: str | Path) -> Path:
    """The checkpoint that stands for ``source`` (a run's best one), refused in a line."""
    _, checkpoint = resolve_source(source)
    if not checkpoint.is_file():
        raise ExportError(f"{source}: the run has no checkpoint yet (no finished epoch)")
    return checkpoint


def _opened(source: str | Path, checkpoint: Path, progress: ProgressFn | None
            ) -> tuple[Continuation, DataBundle, torch.nn.Module]:
    """The checkpoint opened for inspection as the window opens one: its model and its data
    (CPU, the data folder of this machine)."""
    continuation = open_continuation(checkpoint, RunKind.INSPECT)
    opened = launch(continuation.inspection(default_data_dir()), continuation=continuation,
                    progress=progress)
    if opened.missing_data:
        raise ExportError(f"{source}: its test pictures cannot be read: {opened.missing_data}")
    return continuation, opened.trainer.data, opened.trainer.model


def _predict(model: torch.nn.Module, images: torch.Tensor, what: str,
             progress: ProgressFn | None) -> np.ndarray:
    """The class each test image is given, a chunk at a time so that progress can be told."""
    parts = []
    for start in range(0, len(images), EVAL_CHUNK):
        parts.append(predict_proba(model, images[start:start + EVAL_CHUNK]).argmax(axis=1))
        if progress is not None:
            progress(min(start + EVAL_CHUNK, len(images)), len(images), what)
    return np.concatenate(parts) if parts else np.zeros(0, np.int64)


def _pictures(data: DataBundle) -> np.ndarray:
    """The test images as a person sees them: uint8, greyscale (N, H, W) or colour
    (N, H, W, 3)."""
    pixels = display_pixels(data.test.images, data.info)
    return pixels[..., 0] if pixels.shape[-1] == 1 else pixels


def _same_test_set(a: DataBundle, b: DataBundle, names: tuple[str, str]) -> str:
    """Why the two runs' test sets are not the same images ('' when they are)."""
    if a.info.class_names != b.info.class_names:
        return f"{names[0]} and {names[1]} tell different classes apart"
    ta, tb = a.test, b.test
    if ta.images.shape != tb.images.shape or not torch.equal(ta.labels.cpu(), tb.labels.cpu()):
        return (f"{names[0]} was tested on {len(ta):,} images of shape "
                f"{'x'.join(map(str, ta.images.shape[1:]))} and {names[1]} on {len(tb):,} of "
                f"shape {'x'.join(map(str, tb.images.shape[1:]))}, or on other labels")
    seen_a = denormalize(ta.images.float().contiguous().cpu(), a.info)
    seen_b = denormalize(tb.images.float().contiguous().cpu(), b.info)
    if not torch.allclose(seen_a, seen_b, atol=1 / 255):
        return f"{names[0]} and {names[1]} were tested on different images"
    return ""


def _metrics(continuation: Continuation) -> list[EpochMetrics]:
    if continuation.source_run is not None:
        return read_metrics(continuation.source_run)
    return [EpochMetrics(**m) for m in continuation.state["history"]]


def _side(source: str | Path, continuation: Continuation, model: torch.nn.Module,
          predictions: np.ndarray, labels: np.ndarray) -> ReportRun:
    accuracy = float(np.mean(predictions == labels)) if len(labels) else float("nan")
    return ReportRun(continuation.name, Path(source),
                     TrainConfig.from_dict(continuation.state["config"]), continuation.epoch,
                     _metrics(continuation), conv_filters(model), predictions, accuracy)


def gather(source_a: str | Path, source_b: str | Path,
           progress: ProgressFn | None = None) -> ComparedRuns:
    """Open both runs (run folders or checkpoints), check that they were tested on the same
    images, and predict every test image with each. ExportError says why not."""
    checkpoint_a, checkpoint_b = _checkpoint(source_a), _checkpoint(source_b)  # both first
    cont_a, data_a, model_a = _opened(source_a, checkpoint_a, progress)
    cont_b, data_b, model_b = _opened(source_b, checkpoint_b, progress)
    names = (f"A ({cont_a.name})", f"B ({cont_b.name})")
    reason = _same_test_set(data_a, data_b, names)
    if reason:
        raise ExportError(f"the runs cannot be compared: {reason}")
    pred_a = _predict(model_a, data_a.test.images, f"evaluating {names[0]}", progress)
    pred_b = _predict(model_b, data_b.test.images, f"evaluating {names[1]}", progress)
    labels = data_a.test.labels.cpu().numpy()
    a = _side(source_a, cont_a, model_a, pred_a, labels)
    b = _side(source_b, cont_b, model_b, pred_b, labels)
    return ComparedRuns(a, b, data_a.info.class_names, labels, _pictures(data_a),
                        compare_predictions(labels, pred_a, pred_b, data_a.info.num_classes))

