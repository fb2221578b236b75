"""Take a run out of CNN Studio: metrics as CSV, the model as ONNX, TensorBoard logs, and
one zip ("experiment bundle") with everything needed to look at or reuse the run.

ONNX and TensorBoard need packages that training does not (the ``export`` extra);
:func:`missing_dependencies` says which are absent without importing them, so a menu can
tell people what to install before they try. Every file is written atomically: a failed
export leaves no half-written file behind. An export never writes into a run folder, and
replaces an existing file only when asked to (:func:`check_target`).
"""

from __future__ import annotations

import contextlib
import csv
import importlib.util
import io
import json
import os
import re
import shutil
import uuid
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import torch

from ..runs.atomic import atomic_write, atomic_write_text, make_folder
from ..runs.checkpoint import CheckpointError, checkpoint_dataset, load_checkpoint
from ..runs.errors import first_line
from ..inspect.analysis import conv_filters
from ..nn.models import StudioModel, model_for_weights
from .plots import curves_png, filter_grid, filters_png
from ..runs.store import (METRIC_COLUMNS, RunError, enclosing_run, is_run_dir, read_batches,
                          read_config, read_metrics, read_snapshots, read_summary,
                          run_of_checkpoint, shown_checkpoint)

INSTALL_HINT = "pip install onnx onnxruntime onnxscript tensorboard"
# What each kind of export imports. onnxscript: torch's (default) dynamo ONNX exporter.
_PACKAGES = {"onnx": ("onnx", "onnxruntime", "onnxscript"), "tensorboard": ("tensorboard",)}
# onnxruntime and PyTorch must agree this closely on the exported model's logits.
ONNX_TOLERANCE = 1e-4
_PLOT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\.png")
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class ExportError(ValueError):
    """An export that cannot be made; the message says why (and what to install)."""


# Everything an export can raise for a bad input or a full disk, rather than a bug.
EXPORT_ERRORS = (ExportError, RunError, CheckpointError, OSError)


def missing_dependencies(kind: str) -> list[str]:
    """The packages that ``kind`` ("onnx" or "tensorboard") needs and cannot import."""
    try:
        names = _PACKAGES[kind]
    except KeyError:
        raise ValueError(f"unknown export kind {kind!r}; choose from "
                         f"{', '.join(_PACKAGES)}") from None
    return [name for name in names if importlib.util.find_spec(name) is None]


def _require(kind: str, what: str) -> None:
    missing = missing_dependencies(kind)
    if missing:
        verb = "is" if len(missing) == 1 else "are"
        raise ExportError(f"{what} needs {', '.join(missing)}, which {verb} not installed "
                          f"({INSTALL_HINT})")


# -- targets ---------------------------------------------------------------------------


def outside_runs(path: str | Path) -> Path:
    """``path``, unless it is or lies in a run folder (this run's or another's: its
    checkpoints, metrics, config), where an export never writes."""
    path = Path(path)
    run = enclosing_run(path)
    if run is not None:
        where = "is a run folder" if run == path.resolve() else f"is inside the run folder {run}"
        raise ExportError(f"{path}: {where}; exports never write into a run: choose a place "
                          "outside it")
    return path


def check_target(path: str | Path, *, replace: bool = False) -> Path:
    """``path`` if an export may write that file there: outside every run, and over an
    existing file only with ``replace``."""
    path = outside_runs(path)
    if path.is_dir():
        raise ExportError(f"{path}: is a folder; give a file name")
    if (path.exists() or path.is_symlink()) and not replace:
        raise ExportError(f"{path}: exists; give --force to replace it")
    return path


# -- sources -----------------------------------------------------------------------------


def resolve_source(path: str | Path) -> tuple[Path | None, Path]:
    """A run folder or a checkpoint file -> (its run folder or None, the checkpoint to use).

    A checkpoint inside a run's ``checkpoints/`` folder belongs to that run. For a run
    that has not finished an epoch the checkpoint does not exist yet;
    :func:`load_checkpoint` says so when it is needed.
    """
    path = Path(path)
    if path.is_dir():
        return _run_folder(path), shown_checkpoint(path)
    if path.is_file():
        return run_of_checkpoint(path), path
    raise ExportError(f"{path}: no such run folder or checkpoint file")


def _run_folder(path: str | Path) -> Path:
    path = Path(path)
    if not path.is_dir() or not is_run_dir(path):
        raise ExportError(f"{path}: not a run folder (no config.json or summary.json)")
    return path


# -- CSV ---------------------------------------------------------------------------------


def export_csv(run_dirs: Sequence[str | Path], path: str | Path, *,
               replace: bool = False) -> int:
    """Per-epoch metrics of one or many runs in one table (``run``, ``run_dir``, then
    :data:`METRIC_COLUMNS`), for a spreadsheet or pandas; returns the number of rows."""
    check_target(path, replace=replace)
    if not run_dirs:
        raise ExportError("no run folders to export")
    folders = [_run_folder(d) for d in run_dirs]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=("run", "run_dir", *METRIC_COLUMNS),
                            lineterminator="\n")
    writer.writeheader()
    rows = 0
    for folder in folders:
        name = read_summary(folder).name
        for m in read_metrics(folder):
            writer.writerow({"run": name, "run_dir": folder.name, **m.as_dict()})
            rows += 1
    atomic_write_text(path, buf.getvalue())
    return rows


# -- ONNX --------------------------------------------------------------------------------


def _model_from_state(state: dict[str, Any], source: Path) -> StudioModel:
    meta = state["model_meta"]
    try:
        model = model_for_weights(meta)
        model.load_state_dict(state["model"])
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise ExportError(f"{source}: the checkpoint does not hold a usable model "
                          f"({first_line(exc)})") from None
    return model.eval()


def _onnx_metadata(state: dict[str, Any]) -> dict[str, str]:
    """What a consumer of the .onnx needs besides the graph: above all, the normalisation
    the model expects its input to have had."""
    config = state["config"]
    meta = {"producer": "CNN Studio", "arch": str(config.get("arch")),
            "dataset": str(config.get("dataset")), "epoch": str(state["epoch"])}
    try:
        info = checkpoint_dataset(state)
    except (KeyError, TypeError, ValueError):  # an old checkpoint of a dataset now gone
        info = None
    if info is not None:
        meta.update(class_names=json.dumps(list(info.class_names)),
                    input_mean=json.dumps(list(info.mean)), input_std=json.dumps(list(info.std)))
    return meta


def _to_onnx(model: StudioModel, metadata: Mapping[str, str]) -> bytes:
    """The model as ONNX bytes, input ``images`` (N, C, H, W) -> output ``logits`` (N, K)
    with N free.

    Uses torch's default (dynamo, ``torch.export``-based) exporter: the TorchScript one
    is deprecated and announced for removal.
    """
    # Two images, not one: torch.export would fix a batch dimension of size 1.
    sample = torch.zeros(2, model.in_channels, model.input_size, model.input_size)
    try:
        # Some onnxscript versions print their optimiser's progress; keep stdout for results.
        with contextlib.redirect_stdout(io.StringIO()):
            program = torch.onnx.export(model, (sample,), dynamo=True, verbose=False,
                                        input_names=["images"], output_names=["logits"],
                                        dynamic_shapes=({0: torch.export.Dim("batch")},))
    except ImportError as exc:  # an onnxscript older than this torch
        raise ExportError(f"ONNX export failed: {first_line(exc)} (torch {torch.__version__} "
                          "needs a newer onnxscript: pip install -U onnxscript)") from None
    except (RuntimeError, ValueError, TypeError) as exc:
        raise ExportError(f"ONNX export failed: {first_line(exc)}") from None
    proto = program.model_proto
    for key, value in metadata.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    return proto.SerializeToString()


def _onnx_difference(model: StudioModel, onnx_model: bytes) -> float:
    """Largest |logit difference| between onnxruntime and PyTorch on random normalised
    images, batches of 8 and of 1 (the batch size must really be free)."""
    import onnxruntime

    generator = torch.Generator().manual_seed(0)
    shape = (model.in_channels, model.input_size, model.input_size)
    worst = 0.0
    try:
        session = onnxruntime.InferenceSession(onnx_model, providers=["CPUExecutionProvider"])
        for batch in (8, 1):
            images = torch.randn(batch, *shape, generator=generator)
            with torch.no_grad():
                expected = model(images).numpy()
            (got,) = session.run(["logits"], {"images": images.numpy()})
            if not (np.isfinite(expected).all() and np.isfinite(got).all()):
                raise ExportError("the model's outputs are NaN or infinite, so the export "
                                  "cannot be checked; nothing was written")
            worst = max(worst, float(np.abs(got - expected).max()))
    except ExportError:
        raise
    except Exception as exc:  # onnxruntime's errors derive from Exception only
        raise ExportError(f"onnxruntime cannot run the exported model: "
                          f"{first_line(exc)}") from None
    return worst


def _verified_onnx(model: StudioModel, state: dict[str, Any], source: Path,
                   verify: bool) -> tuple[bytes, float | None]:
    data = _to_onnx(model, _onnx_metadata(state))
    if not verify:
        return data, None
    difference = _onnx_difference(model, data)
    if not difference <= ONNX_TOLERANCE:  # also refuses NaN
        raise ExportError(f"{source}: the ONNX model differs from PyTorch by {difference:.2g} "
                          f"(more than {ONNX_TOLERANCE:g}); nothing was written")
    return data, difference


def export_onnx(checkpoint: str | Path, path: str | Path, *, verify: bool = True,
                replace: bool = False) -> float | None:
    """Write the checkpoint's model as ONNX with a free batch dimension.

    With ``verify``, onnxruntime must reproduce PyTorch's logits within
    :data:`ONNX_TOLERANCE` before anything is written; returns the largest difference
    seen (None without ``verify``).
    """
    _require("onnx", "ONNX export")
    check_target(path, replace=replace)
    checkpoint = Path(checkpoint)
    state = load_checkpoint(checkpoint)
    data, difference = _verified_onnx(_model_from_state(state, checkpoint), state, checkpoint,
                                      verify)
    atomic_write(path, lambda f: f.write(data))
    return difference


# -- TensorBoard -------------------------------------------------------------------------


def _is_event_file(path: Path) -> bool:
    return path.is_file() and path.name.startswith("events.out.tfevents.")


def _write_events(run_dir: Path, log_dir: Path) -> None:
    from torch.utils.tensorboard import SummaryWriter

    with SummaryWriter(log_dir=str(log_dir)) as writer:
        config = (run_dir / "config.json").read_text(encoding="utf-8")
        writer.add_text("config", f"```\n{config}\n```")
        for m in read_metrics(run_dir):
            for key in ("train_loss", "train_acc", "test_loss", "test_acc", "lr"):
                writer.add_scalar(f"epoch/{key}", getattr(m, key), m.epoch)
        log = read_batches(run_dir)
        for step, loss in zip(log.step.tolist(), log.loss.tolist()):
            writer.add_scalar("batch/loss", loss, step)
        written: dict[str, np.ndarray] = {}  # each layer's filters as last written
        for snap in read_snapshots(run_dir):
            for layer, weights in snap.filters.items():
                if layer in written and np.array_equal(written[layer], weights):
                    continue  # a frozen layer (a backbone's) is drawn once, not every epoch
                written[layer] = weights
                writer.add_image(f"filters/{layer}", filter_grid(
                    weights, rgb_input=layer == next(iter(snap.filters))
                    and weights.shape[1] == 3), snap.epoch, dataformats="HWC")


def export_tensorboard(run_dir: str | Path, out_dir: str | Path) -> Path:
    """TensorBoard logs of a run in ``out_dir``, a folder of their own; returns it.

    Scalars ``epoch/*`` (step = epoch) and ``batch/loss`` (step = global step); images
    ``filters/<layer>`` (step = epoch; a layer that does not train, once; the first
    layer's, reading colour, in colour). Exporting again replaces the logs once the new
    ones are complete (a failure keeps the old); a folder that holds anything else is
    refused, so nothing but old logs is ever removed. Give each run its own folder under
    one parent (``logs/<run>``) to compare runs in ``tensorboard --logdir logs``.
    """
    _require("tensorboard", "TensorBoard export")
    run_dir = _run_folder(run_dir)
    target = outside_runs(out_dir)
    if target.exists() and not (target.is_dir() and all(_is_event_file(p)
                                                         for p in target.iterdir())):
        raise ExportError(f"{target}: exists and holds more than TensorBoard logs; "
                          "choose a new or empty folder")
    make_folder(target.parent)
    hidden = target.parent / f".{target.name}.{uuid.uuid4().hex[:8]}"
    staging, previous = hidden.with_suffix(".tmp"), hidden.with_suffix(".old")
    staging.mkdir()  # not mkdtemp: the logs get the folder permissions any new folder gets
    try:
        _write_events(run_dir, staging)
        if target.exists():  # a folder cannot be replaced in one step: set the old one aside
            os.replace(target, previous)
        os.replace(staging, target)
    except BaseException:
        if previous.exists() and not target.exists():
            os.replace(previous, target)
        shutil.rmtree(staging, ignore_errors=True)
        raise
    shutil.rmtree(previous, ignore_errors=True)
    return target


# -- bundle ------------------------------------------------------------------------------


def _plot_members(images: Mapping[str, bytes]) -> dict[str, bytes]:
    members = {}
    for name, data in images.items():
        if not _PLOT_NAME.fullmatch(name):
            raise ExportError(f"plot name {name!r}: use letters, digits, '.', '-' or '_' "
                              "and end with .png")
        if bytes(data[:8]) != _PNG_SIGNATURE:
            raise ExportError(f"plot {name!r} is not PNG data")
        members[f"plots/{name}"] = bytes(data)
    return members


def _default_plots(run_dir: Path, model: StudioModel, title: str) -> dict[str, bytes]:
    plots = {}
    metrics = read_metrics(run_dir)
    if metrics:
        plots["plots/curves.png"] = curves_png(metrics, title)
    for layer, weights in list(conv_filters(model).items())[:1]:  # none without a conv layer
        plots["plots/filters.png"] = filters_png(weights, layer)
    return plots


def export_bundle(run_dir: str | Path, path: str | Path,
                  images: Mapping[str, bytes] | None = None, *, replace: bool = False) -> Path:
    """One zip with the run's config, summary, metrics, batch log and best checkpoint (in
    the run folder layout, so the unzipped bundle is itself a run folder), the model as
    ONNX when the packages for it are installed, and PNG plots under ``plots/``.

    ``images`` (file name -> PNG bytes) are plots rendered by the caller, e.g. the window's
    own charts; without them, loss/accuracy curves and the first conv layer's filters are
    drawn here.
    """
    check_target(path, replace=replace)
    run_dir = _run_folder(run_dir)
    read_config(run_dir)  # a damaged config is refused, not packed
    checkpoint = shown_checkpoint(run_dir)
    if not checkpoint.is_file():
        raise ExportError(f"{run_dir}: the run has no checkpoint yet (no finished epoch)")
    state = load_checkpoint(checkpoint)
    model = _model_from_state(state, checkpoint)
    summary = read_summary(run_dir)
    members: dict[str, bytes] = {
        "config.json": (run_dir / "config.json").read_bytes(),
        "summary.json": (json.dumps(summary.to_json(), indent=2) + "\n").encode("utf-8"),
    }
    for name in ("metrics.csv", "batches.csv"):
        if (run_dir / name).is_file():
            members[name] = (run_dir / name).read_bytes()
    members[f"checkpoints/{checkpoint.name}"] = checkpoint.read_bytes()
    missing = missing_dependencies("onnx")
    if missing:
        members["model.onnx-MISSING.txt"] = (
            f"model.onnx was not made: {', '.join(missing)} not installed.\n"
            f"Install with: {INSTALL_HINT}\n").encode("utf-8")
    else:
        members["model.onnx"] = _verified_onnx(model, state, checkpoint, verify=True)[0]
    members.update(_plot_members(images) if images else _default_plots(
        run_dir, model, f"{summary.name} ({summary.arch} on {summary.dataset})"))

    def write(f: BinaryIO) -> None:
        with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
            for name, data in members.items():
                bundle.writestr(name, data)

    atomic_write(path, write)
    return Path(path)
