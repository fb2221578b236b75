"""The command line's arguments: ``python -m cnn_core train|lr-find|predict|list|download|
export|arch``, parsed into one line of error for anything wrong (:class:`UsageError`)."""

from __future__ import annotations

import argparse
from typing import NoReturn

from .data.builtin import DATASETS
from .data.source import builtins
from .nn.backbone_specs import BACKBONES
from .nn.models import MODELS
from .train.config import FREEZE_MODES, MONITORS, OPTIMIZERS, SCHEDULES

PROG = "cnn_core"
# Flags that map one-to-one onto TrainConfig fields (flag dest == field name).
CONFIG_FLAGS = ("arch", "dataset", "epochs", "batch_size", "lr", "optimizer", "momentum",
                "weight_decay", "step_size", "gamma", "schedule", "warmup_epochs",
                "early_stop", "monitor", "min_delta", "seed", "device", "data_dir",
                "image_size", "channels", "test_fraction", "augment", "init_from", "freeze",
                "backbone_lr_scale")


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, not usage + message
        raise UsageError(message)


def _whole_number(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    return value


def _add_config_options(parser: argparse.ArgumentParser) -> None:
    """The settings of a run, as ``train`` and ``lr-find`` take them."""
    parser.add_argument("--arch", metavar="NAME_OR_SPEC.json",
                        help=f"architecture: {', '.join(MODELS)} (default simplecnn), or a "
                             "network spec file")
    parser.add_argument("--dataset", metavar="NAME_OR_FOLDER",
                        help=f"{', '.join(DATASETS)} (default mnist-sample), or a folder of "
                             "pictures laid out ROOT/<class>/<image>")
    parser.add_argument("--image-size", dest="image_size", type=_whole_number,
                        help="a folder's pictures are resized to this square (default 32)")
    parser.add_argument("--channels", type=_whole_number, choices=(1, 3),
                        help="a folder's pictures as greyscale (1) or colour (3); default: "
                             "colour if any picture has colour")
    parser.add_argument("--test-fraction", dest="test_fraction", type=float,
                        help="held out for testing when the folder has no test/ (default 0.2)")
    parser.add_argument("--augment", metavar="LIST",
                        help="random changes to every training batch, e.g. "
                             "shift=2,flip,rotate=10,scale=10,brightness=20,contrast=20")
    parser.add_argument("--epochs", type=_whole_number, help="epochs in total (default 5)")
    parser.add_argument("--batch-size", dest="batch_size", type=_whole_number)
    parser.add_argument("--lr", type=float, help="learning rate (default 1e-3)")
    parser.add_argument("--optimizer", choices=OPTIMIZERS)
    parser.add_argument("--momentum", type=float, help="SGD momentum (default 0.9)")
    parser.add_argument("--weight-decay", dest="weight_decay", type=float)
    parser.add_argument("--step-size", dest="step_size", type=_whole_number,
                        help="StepLR: epochs between learning-rate cuts (default 5)")
    parser.add_argument("--gamma", type=float, help="StepLR: factor of each cut (default 0.5)")
    parser.add_argument("--schedule", choices=SCHEDULES,
                        help="how the learning rate moves: step (cut by --gamma every "
                             "--step-size epochs; the default), onecycle (up to --lr over the "
                             "first 30%% of the run, then down), cosine (down to 0 along a "
                             "cosine) or constant; onecycle and cosine move every batch")
    parser.add_argument("--warmup-epochs", dest="warmup_epochs", type=float,
                        help="cosine: epochs rising linearly to --lr first (default 0)")
    parser.add_argument("--early-stop", dest="early_stop", type=_whole_number,
                        metavar="PATIENCE",
                        help="stop when --monitor has not improved for PATIENCE epochs "
                             "(default 0: never)")
    parser.add_argument("--monitor", choices=MONITORS,
                        help="what --early-stop watches (default test_acc)")
    parser.add_argument("--min-delta", dest="min_delta", type=float,
                        help="the least improvement that counts: a fraction of accuracy "
                             "(0.001 = 0.1 point) or of loss (default 0)")
    parser.add_argument("--init-from", dest="init_from", metavar="RUN_OR_CHECKPOINT",
                        help="start from another run's weights (a run folder: its best "
                             "checkpoint): every layer whose name and shape match is copied, "
                             "the rest (a head for other classes) starts fresh")
    parser.add_argument("--freeze", choices=FREEZE_MODES,
                        help="with --init-from, layers that keep the weights they start with: "
                             "features (every layer before the first linear), all-but-head "
                             "(all but the last linear) or none (the default)")
    parser.add_argument("--backbone-lr-scale", dest="backbone_lr_scale", type=float,
                        metavar="F", help="with --init-from, the copied layers that train "
                                          "get F times the learning rate (0 < F <= 1; "
                                          "default 1)")
    parser.add_argument("--seed", type=_whole_number)
    parser.add_argument("--device", help="auto, cpu, cuda, cuda:N or mps (default auto)")
    parser.add_argument("--data-dir", dest="data_dir", help="folder of downloaded datasets")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="CNN Studio's training engine, without the window.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    train = sub.add_parser(
        "train", help="train a model and record the run",
        epilog="Started by torchrun (torchrun --nproc-per-node N -m cnn_core train ...), the "
               "N processes train one model with DistributedDataParallel: --batch-size is "
               "the global batch, each process on cuda:LOCAL_RANK (or the CPU), and only "
               "rank 0 prints and writes the run folder.")
    _add_config_options(train)
    train.add_argument("--download", action="store_true",
                       help="download the dataset first if it is not in the data folder")
    train.add_argument("--out", help="run folder (default: a new folder under the runs folder)")
    train.add_argument("--resume", metavar="CHECKPOINT",
                       help="continue a run from its checkpoint up to --epochs in total")
    train.add_argument("--quiet", action="store_true", help="no progress bar")

    finder = sub.add_parser(
        "lr-find", help="try learning rates on a fresh copy of the model and suggest one",
        epilog="Trains a fresh model (same seed) for --steps batches with the learning rate "
               "growing exponentially from --start-lr to --end-lr, stopping once the loss "
               "diverges, and suggests the rate halfway down the longest fall of the loss "
               "(fastai's valley rule). Nothing is recorded.")
    _add_config_options(finder)
    finder.add_argument("--start-lr", dest="start_lr", type=float, default=1e-7)
    finder.add_argument("--end-lr", dest="end_lr", type=float, default=10.0)
    finder.add_argument("--steps", type=_whole_number, default=100)
    finder.add_argument("--download", action="store_true",
                        help="download the dataset first if it is not in the data folder")
    finder.add_argument("--plot", metavar="FILE.png",
                        help="also draw the loss against the learning rate into this PNG")
    finder.add_argument("--force", action="store_true",
                        help="replace the --plot file if it exists (never a run's own files)")

    _add_sweep_parser(sub)

    predict = sub.add_parser("predict", help="what a trained model says about picture files")
    predict.add_argument("model", metavar="RUN_OR_CHECKPOINT",
                         help="a run folder (its best epoch) or a checkpoint file")
    predict.add_argument("images", nargs="+", metavar="IMAGE")
    predict.add_argument("--top", type=_whole_number, default=3,
                         help="how many classes to show per picture (default 3)")

    sub.add_parser("list", help="list architectures and datasets")

    arch = sub.add_parser("arch", help="show or export a network spec")
    arch_sub = arch.add_subparsers(dest="arch_command", required=True, parser_class=_Parser)
    show = arch_sub.add_parser("show", help="the layer table: output shapes and parameters")
    show.add_argument("network", metavar="NAME_OR_SPEC.json")
    show.add_argument("--dataset", choices=list(DATASETS), default="mnist-sample",
                      help="the input shape and classes to show it for (default mnist-sample)")
    spec_export = arch_sub.add_parser("export", help="print a network's spec as JSON")
    spec_export.add_argument("network", metavar="NAME_OR_SPEC.json")

    dl = sub.add_parser("download", help="download a dataset, or a backbone's ImageNet "
                                         "weights, into the data folder")
    dl.add_argument("dataset", metavar="NAME",
                    choices=[s.name for s in builtins() if s.downloadable] + list(BACKBONES),
                    help=f"a dataset ({', '.join(s.name for s in builtins() if s.downloadable)})"
                         f" or a backbone ({', '.join(BACKBONES)})")
    dl.add_argument("--data-dir", dest="data_dir")

    export = sub.add_parser("export", help="export runs: metrics CSV, ONNX model, "
                                           "TensorBoard logs, a zip bundle, a report "
                                           "comparing two runs")
    export.add_argument("sources", nargs="+", metavar="RUN_DIR_OR_CHECKPOINT",
                        help="a run folder or checkpoint; --csv takes several run folders")
    export.add_argument("--compare", metavar="RUN_B",
                        help="with --report: the run (folder or checkpoint) to compare the "
                             "first with, each at its best checkpoint on the same test set")
    export.add_argument("--report", metavar="FILE.html",
                        help="with --compare: one self-contained HTML page (curves, settings "
                             "that differ, filters matched pair by pair, each class's change, "
                             "the images one run gets right and the other wrong)")
    export.add_argument("--onnx", metavar="FILE", help="the model as ONNX (checked with "
                                                       "onnxruntime against PyTorch)")
    export.add_argument("--csv", metavar="FILE", help="per-epoch metrics of every run given")
    export.add_argument("--tensorboard", metavar="DIR",
                        help="TensorBoard logs, in DIR/<run folder name>")
    export.add_argument("--bundle", metavar="FILE.zip",
                        help="config, metrics, checkpoint, ONNX and plots in one zip")
    export.add_argument("--force", action="store_true",
                        help="replace files that exist (never a run's own files)")
    return parser


def _add_sweep_parser(sub: argparse._SubParsersAction) -> None:
    """``sweep NAME --trials N ...`` and ``sweep show NAME``."""
    sweep = sub.add_parser(
        "sweep", help="search for good settings: many runs chosen by Optuna",
        usage=f"{PROG} sweep NAME --trials N [options] | {PROG} sweep show NAME [--storage URL]",
        epilog="Each trial is an ordinary run in RUNS/NAME/trial-NNNN-..., its settings the "
               "train options with those the space varies drawn by Optuna's TPE sampler. "
               "Started again (after a kill, or on another machine sharing --storage), the "
               "command goes on with the same study until it has N finished trials.")
    sweep.add_argument("name", metavar="NAME", help="the sweep's name (or: show NAME)")
    sweep.add_argument("shown", nargs="?", metavar="NAME", help=argparse.SUPPRESS)
    sweep.add_argument("--trials", type=_whole_number, metavar="N",
                       help="finished (complete or pruned) trials to reach")
    sweep.add_argument("--jobs", type=_whole_number, default=1, metavar="J",
                       help="workers on this machine, one process each (default 1)")
    sweep.add_argument("--space", metavar="FILE.json",
                       help="the settings to vary and their ranges (default: lr log "
                            "[1e-4, 1e-1] and batch_size choice [32, 64, 128])")
    sweep.add_argument("--objective", choices=("test_acc", "test_loss"),
                       help="maximise test_acc (default) or minimise test_loss")
    sweep.add_argument("--pruner", choices=("median", "hyperband", "none"),
                       help="stop hopeless trials early (default median)")
    sweep.add_argument("--storage", metavar="URL",
                       help="the study: sqlite:///FILE, postgresql://USER@HOST/DB or "
                            "journal:FILE (default: RUNS/NAME/study.db)")
    sweep.add_argument("--timeout", type=float, metavar="SECONDS",
                       help="start no trial after this long")
    sweep.add_argument("--download", action="store_true",
                       help="download the dataset first if it is not in the data folder")
    sweep.add_argument("--worker", type=_whole_number, default=0, help=argparse.SUPPRESS)
    _add_config_options(sweep)
