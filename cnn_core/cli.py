"""Headless command line: ``python -m cnn_core train|lr-find|sweep|predict|list|download|
export|arch`` (the arguments: :mod:`cnn_core.cli_parser`; sweeps: :mod:`cnn_core.sweep.cli`).

Expected failures (bad arguments, missing data, unusable checkpoints, diverged training)
print one line on stderr and exit non-zero; tracebacks are for bugs only.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path
from typing import Any

import numpy as np

from .console import ConsoleReporter, progress_bar
from .train.callbacks import RunStatus
from .runs.atomic import atomic_write
from .runs.checkpoint import CheckpointError
from .train.config import TrainConfig
from .data.augment import parse_augmentation
from .data.bundle import DatasetError
from .data.source import DatasetSource, builtins, from_text, resolve
from .inspect.predict import ImageError, Predictor
from .export.exporters import (ExportError, check_target, export_bundle, export_csv, export_onnx,
                               export_tensorboard, outside_runs, resolve_source)
from .export.plots import lr_curve_png
from .nn.backbone_specs import BACKBONES
from .nn.models import MODELS, build_model, count_parameters, network_spec
from .nn.weights import download_weights, missing_weights, weights_file
from .nn.spec import NetworkSpec, infer_shapes, load_spec, spec_text
from .runs.store import RunError
from .train.distributed import DistributedError, Group, dist_backend, join, leave, under_torchrun
from .train.launch import (Continuation, Launch, LaunchError, RunBeingWritten, RunKind,
                           check_resumable, launch, open_continuation)
from .train.init_from import describe
from .train.lr_find import find_lr
from .train.trainer import TrainingError
from .cli_parser import CONFIG_FLAGS, PROG, UsageError, build_parser


def _network(name_or_file: str, flag: str = "") -> NetworkSpec:
    """A built-in's spec by name, or a spec file's (SpecError says why it is unusable)."""
    if name_or_file in MODELS:
        return network_spec(name_or_file)
    if name_or_file.endswith(".json") or Path(name_or_file).exists():
        return load_spec(name_or_file)
    raise UsageError(f"{flag}unknown architecture {name_or_file!r}: choose "
                     f"{', '.join(MODELS)} or give a network spec file (.json)")


def _arch(args: argparse.Namespace) -> int:
    spec = _network(args.network)
    if args.arch_command == "export":
        print(spec_text(spec), end="")
        return 0
    info = resolve(args.dataset).info()
    shapes = infer_shapes(spec, info.input_shape, info.num_classes)
    print(f"{spec.name} on {info.display_name} "
          f"({'x'.join(map(str, info.input_shape))}, {info.num_classes} classes)")
    print(f"  {'#':>2}  {'layer':<16} {'type':<12} {'output':<12} {'parameters':>10}")
    for row in shapes:
        print(f"  {row.number:>2}  {row.name:<16} {row.type:<12} "
              f"{'x'.join(map(str, row.output)):<12} {row.parameters:>10,}")
    print(f"  total {sum(row.parameters for row in shapes):,} parameters")
    return 0


def _predict(args: argparse.Namespace) -> int:
    if args.top < 1:
        raise UsageError("--top: must be at least 1")
    predictor = Predictor.open(args.model)
    for prediction in predictor.predict(args.images):
        ranked = "  ".join(f"{name} {p:.1%}" for name, p in prediction.top(args.top))
        print(f"{prediction.path}  {ranked}")
        for note in prediction.notes:
            print(f"{PROG}: note: {note}", file=sys.stderr)
    return 0


def _given(args: argparse.Namespace) -> dict[str, Any]:
    """The settings given on the command line, as a TrainConfig takes them."""
    given = {k: getattr(args, k) for k in CONFIG_FLAGS if getattr(args, k) is not None}
    if "dataset" in given:
        try:
            given["dataset"] = from_text(given["dataset"]).name
        except ValueError as exc:
            raise UsageError(f"--dataset: {exc}") from None
    if "augment" in given:
        try:
            given["augment"] = parse_augmentation(given["augment"]).text
        except ValueError as exc:
            raise UsageError(f"--augment: {exc}") from None
    if "arch" in given and given["arch"] not in MODELS:
        spec = _network(given["arch"], "--arch: ")
        given.update(arch=spec.name, network=spec.to_json())
    return given


def _train(args: argparse.Namespace) -> int:
    given = _given(args)
    continuation = _continuation(args)
    config = continuation.next_config(given) if continuation else TrainConfig(**given)
    config.validate()  # ValueError names the field
    group = join(config.device)  # under torchrun: this process's place among the others
    try:
        return _run(args, config, continuation, group)
    finally:
        leave()


def _lr_find(args: argparse.Namespace) -> int:
    config = TrainConfig(**_given(args))
    config.validate()
    if args.plot:  # refused before anything trains, as an export's target is
        if Path(args.plot).suffix.lower() != ".png":
            raise UsageError(f"--plot: {args.plot} is not a .png file name")
        check_target(args.plot, replace=args.force)
    source = resolve(config)
    if args.download and source.downloadable and not source.is_available(config.data_dir):
        _download(source, config.data_dir)
    finding = find_lr(config, source.load_for(config), start_lr=args.start_lr,
                      end_lr=args.end_lr, steps=args.steps)
    print(f"{'learning rate':>14}  {'loss (smoothed)':>15}")
    for i in np.unique(np.linspace(0, len(finding.lrs) - 1, 12).round().astype(int)):
        print(f"{finding.lrs[i]:>14.2e}  {finding.losses[i]:>15.4f}")
    stopped = len(finding.lrs) < args.steps
    print(f"{len(finding.lrs)} of {args.steps} steps"
          + (" (stopped: the loss diverged)" if stopped else ""))
    print(f"suggested learning rate: {finding.suggestion:.2e} (--lr {finding.suggestion:.2g})")
    if args.plot:
        title = (f"Learning-rate finder: {config.arch} on {source.display_name} "
                 f"({config.optimizer}, batch {config.batch_size}, seed {config.seed})")
        png = lr_curve_png(finding, title)
        atomic_write(args.plot, lambda f: f.write(png))
        print(f"wrote {args.plot}")
    return 0


def _continuation(args: argparse.Namespace) -> Continuation | None:
    """The checkpoint ``--resume`` names, refused before it is read if another process
    is writing the run it would go on in."""
    if not args.resume:
        return None
    if args.init_from:
        raise UsageError("--init-from: a resumed run goes on with its own weights; start a "
                         "new run to fine-tune from another")
    try:
        check_resumable(args.resume, Path(args.out) if args.out else None)
    except LaunchError as exc:
        raise _refusal(exc, None) from None
    return open_continuation(args.resume, RunKind.RESUME)


def _refusal(exc: LaunchError, continuation: Continuation | None) -> UsageError:
    """A refused start or resume, worded with the flags a person passes."""
    if exc.field == "epochs" and continuation is not None:
        return UsageError(f"the checkpoint already has {continuation.epoch} epochs; "
                          "pass --epochs with a larger total")
    if isinstance(exc, RunBeingWritten):
        return UsageError(f"--resume: {exc.reason} (--out NEW_FOLDER)")
    flag = "out" if exc.field == "run_dir" else exc.field.replace("_", "-")
    return UsageError(f"--{flag}: {exc.reason}")


def _run(args: argparse.Namespace, config: TrainConfig, continuation: Continuation | None,
         group: Group | None) -> int:
    """Train, reporting on the console; in a torchrun group only rank 0 speaks."""
    speaks = group is None or group.is_main
    source = resolve(config)
    if args.download and source.downloadable:
        if group is None or group.local_rank == 0:  # once per machine
            _download(source, config.data_dir)
        if group is not None:
            group.barrier()

    if continuation is None and config.init_from is None:  # else copied from that run
        missing = missing_weights(network_spec(config.arch, config.network), config.data_dir)
        if missing and (group is None or group.local_rank == 0):
            _download_weights(missing, config.data_dir)
        if missing and group is not None:
            group.barrier()
    bar = sys.stderr if (speaks and sys.stderr.isatty() and not args.quiet) else None
    try:
        run = launch(config, [ConsoleReporter(sys.stdout, bar)] if speaks else [],
                     continuation=continuation, run_dir=Path(args.out) if args.out else None,
                     progress=progress_bar("", "images") if bar else None, group=group)
    except LaunchError as exc:
        raise _refusal(exc, continuation) from None
    trainer = run.trainer
    if bar is not None:
        bar.write("\r\033[K")
    if speaks:
        _introduce(run, continuation, args.resume)
    if group is not None:  # torchrun passes Ctrl+C and SIGTERM on: stop together, cleanly
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda _sig, _frame: trainer.request_stop())
    try:
        result = trainer.fit()
    except KeyboardInterrupt:
        print(f"\ninterrupted; completed epochs are saved in {run.run_dir}", file=sys.stderr)
        return 130
    except DistributedError as exc:
        saved = f"; completed epochs are saved in {run.run_dir}" if run.run_dir else ""
        raise DistributedError(f"{exc}. This process stopped after {trainer.epoch} complete "
                               f"epoch(s){saved}") from None
    best = result.best
    if not speaks:
        return 0
    if result.status == RunStatus.STOPPED:
        print(f"stopped after {trainer.epoch} complete epoch(s); they are saved in "
              f"{run.run_dir}")
    elif result.status == RunStatus.STOPPED_EARLY:
        print(f"{result.note}; run saved in {run.run_dir}")
    elif best is not None:
        print(f"best test_acc {best.test_acc:.2%} at epoch {best.epoch}; run saved in "
              f"{run.run_dir}")
    return 0


def _introduce(run: Launch, continuation: Continuation | None, resume: str | None) -> None:
    """What is about to train, on what, where."""
    trainer = run.trainer
    if run.note:
        print(run.note)
    if continuation is not None:
        print(f"resuming {trainer.config.arch} on {trainer.config.dataset} from epoch "
              f"{trainer.epoch} ({resume})")
    for warning in trainer.data.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    group = trainer.group
    processes = (f" x {group.world_size} processes ({dist_backend()})" if group is not None
                 else "")
    print(f"{trainer.model.display_name} ({count_parameters(trainer.model):,} parameters) on "
          f"{trainer.info.display_name}, {len(trainer.data.train):,} train / "
          f"{len(trainer.data.test):,} test images, device {trainer.device}{processes}")
    start = trainer.config.init_from
    if continuation is None and isinstance(start, dict):
        print(f"starting from {start['path']}: "
              f"{describe(start, list(trainer.model.frozen))}")


def _download(source: DatasetSource, data_dir: str | None) -> None:
    if source.is_available(data_dir):
        print(f"{source.display_name} is already in {source.location(data_dir)}")
        return
    folder = source.download(data_dir, progress=progress_bar("downloading ", "MB"))
    sys.stderr.write("\n")
    print(f"{source.display_name} is ready in {folder}")


def _download_weights(names: list[str], data_dir: str | None) -> None:
    """Fetch backbones' ImageNet weights (before a run, so the bar counts megabytes)."""
    for name in names:
        target = weights_file(BACKBONES[name], data_dir)
        if target.is_file():
            print(f"{BACKBONES[name].display_name}'s ImageNet weights are already in {target}")
            continue
        download_weights(name, data_dir, progress=progress_bar("downloading ", "MB"))
        sys.stderr.write("\n")
        print(f"{BACKBONES[name].display_name}'s ImageNet weights are ready in {target}")


def _export_run_dir(source: str, option: str) -> Path:
    run_dir, _ = resolve_source(source)
    if run_dir is None:
        raise ExportError(f"{source}: {option} needs a run folder, not a lone checkpoint")
    return run_dir


def _check_report(args: argparse.Namespace) -> None:
    """``--compare RUN_B --report FILE.html`` come together, after one run."""
    if args.compare and not args.report:
        raise UsageError("--compare: give --report FILE.html to write the comparison to")
    if args.report and not args.compare:
        raise UsageError("--report: give --compare RUN_B, the run to compare the first with")
    if args.report and len(args.sources) > 1:
        raise UsageError("--compare: compares one run with another; give one run before it")
    if args.report and Path(args.report).suffix.lower() not in (".html", ".htm"):
        raise UsageError(f"--report: {args.report} is not an .html file name")


def _export(args: argparse.Namespace) -> int:
    if not (args.onnx or args.csv or args.tensorboard or args.bundle or args.report
            or args.compare):
        raise UsageError("export: give at least one of --onnx, --csv, --tensorboard, "
                         "--bundle, --compare with --report")
    _check_report(args)
    if len(args.sources) > 1 and not args.csv:
        raise UsageError("export: only --csv takes more than one run")
    for target in filter(None, (args.csv, args.onnx, args.bundle, args.report)):
        check_target(target, replace=args.force)  # all refused before anything is written
    if args.tensorboard:
        outside_runs(args.tensorboard)
    first = args.sources[0]
    if args.csv:
        rows = export_csv([_export_run_dir(s, "--csv") for s in args.sources], args.csv,
                          replace=args.force)
        print(f"wrote {args.csv} ({rows} rows from {len(args.sources)} run"
              f"{'s' if len(args.sources) > 1 else ''})")
    if args.onnx:
        difference = export_onnx(resolve_source(first)[1], args.onnx, replace=args.force)
        print(f"wrote {args.onnx} (onnxruntime matches PyTorch within {difference:.1e})")
    if args.tensorboard:  # DIR/<run>: runs exported to one DIR compare side by side
        run_dir = _export_run_dir(first, "--tensorboard")
        folder = export_tensorboard(run_dir, Path(args.tensorboard) / run_dir.name)
        print(f"wrote {folder} (view with: tensorboard --logdir {args.tensorboard})")
    if args.bundle:
        bundle = export_bundle(_export_run_dir(first, "--bundle"), args.bundle,
                               replace=args.force)
        print(f"wrote {bundle}")
    if args.report:
        _compare_report(first, args.compare, args.report, args.force)
    return 0


def _compare_report(run_a: str, run_b: str, path: str, force: bool) -> None:
    from .export.compare_report import write_compare_report  # SciPy: for reports only

    bar = sys.stderr.isatty()
    runs = write_compare_report(run_a, run_b, path, replace=force,
                                progress=progress_bar("", "images") if bar else None)
    if bar:
        sys.stderr.write("\r\033[K")
    c = runs.comparison
    print(f"wrote {path}: A {runs.a.accuracy:.2%}, B {runs.b.accuracy:.2%} on "
          f"{len(runs.labels):,} test images; {len(c.only_a_right):,} only A gets right, "
          f"{len(c.only_b_right):,} only B")


def _list() -> int:
    print("architectures (trained parameters on 1x28x28):")
    width = max(map(len, MODELS))
    for name, cls in MODELS.items():
        params = count_parameters(build_model(name))
        print(f"  {name:<{width}} {params:>9,}  {cls.display_name}: {cls.description}")
    print("datasets:")
    for source in builtins():
        info = source.info()
        shape = "x".join(map(str, info.input_shape))
        where = "bundled" if not source.downloadable else (
            "downloaded" if source.is_available() else "not downloaded")
        print(f"  {source.name:<14} {shape:<8} {info.num_classes} classes  {where:<15} "
              f"{info.description}")
    return 0


def _which_process() -> str:
    """Under torchrun, which process says it (rank 0 speaks for the run)."""
    return f" (process {os.environ['RANK']})" if under_torchrun() else ""


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        if args.command == "list":
            return _list()
        if args.command == "download":
            if args.dataset in BACKBONES:
                _download_weights([args.dataset], args.data_dir)
            else:
                _download(resolve(args.dataset), args.data_dir)
            return 0
        if args.command == "export":
            return _export(args)
        if args.command == "arch":
            return _arch(args)
        if args.command == "predict":
            return _predict(args)
        if args.command == "lr-find":
            return _lr_find(args)
        if args.command == "sweep":
            from .sweep.cli import sweep_command  # Optuna is loaded for sweeps only
            return sweep_command(args, _given(args))
        return _train(args)
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"{PROG}: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 1
    except (DatasetError, CheckpointError, TrainingError, ExportError, RunError,
            ImageError) as exc:
        print(f"{PROG}: error{_which_process()}: {exc}", file=sys.stderr)
        return 1
    except (UsageError, ValueError) as exc:  # ValueError: TrainConfig.validate, "field: reason"
        print(f"{PROG}: error{_which_process()}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # before training began: nothing was recorded
        print(f"\n{PROG}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
