"""Start the window: ``python main.py [options] [CHECKPOINT_OR_RUN]`` or ``make run``;
``--watch RUN_DIR`` follows a run that another process writes.

The process-wide set-up lives here, not in the window, so that a window built by a test
or a tool leaves the process as it found it.
"""

from __future__ import annotations

import argparse
import gc
import sys

from .runtime.platform_check import xcb_problem


_CONFIG_OPTIONS = ("arch", "dataset", "epochs", "batch_size", "lr", "device", "seed")


def _dataset(text: str) -> str:
    from cnn_core.data.datasets import dataset_name

    try:
        return dataset_name(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    from cnn_core.data.datasets import DATASETS
    from cnn_core.nn.models import MODELS

    parser = argparse.ArgumentParser(
        prog="cnn-studio", description="CNN Studio: train convolutional networks and look inside. "
        "Settings not given here are those of the last session.")
    parser.add_argument("checkpoint", nargs="?", metavar="CHECKPOINT_OR_RUN",
                        help="a checkpoint (.pt) or run folder to open for inspection")
    parser.add_argument("--arch", choices=list(MODELS), help="architecture selected at launch")
    parser.add_argument("--dataset", type=_dataset, metavar="NAME_OR_FOLDER",
                        help=f"dataset selected at launch: {', '.join(DATASETS)}, or a folder "
                             "of pictures (one folder per class)")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--batch-size", dest="batch_size", type=int)
    parser.add_argument("--lr", type=float, help="learning rate")
    parser.add_argument("--device", help="auto, cpu, cuda[:N] or mps")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--watch", metavar="RUN_DIR",
                        help="follow a run that another process writes in RUN_DIR (waiting "
                             "for one to start there)")
    parser.add_argument("--compare", metavar="RUN_B",
                        help="show run RUN_B beside CHECKPOINT_OR_RUN in every view inside the "
                             "network (compare mode)")
    parser.add_argument("--start", action="store_true",
                        help="start training as soon as the window opens")
    return parser


def set_up_process(warm_up: bool = True) -> None:
    """What the app does to the process: plot theme, torch threads, GC policy, warm-up.

    Call once a QApplication exists and before any window; benchmarks and tools that build
    a window call it too, to get what a person gets. ``warm_up=False`` leaves the warm-up
    to the caller (:func:`main` starts it once the window is on the screen).
    """
    from .runtime.collector import collect_in_gui_thread
    from .runtime.theme import apply_plot_theme
    from .runtime.torch_threads import reserve_threads_for_training
    from .runtime.warmup import warm_up_in_background

    apply_plot_theme()
    reserve_threads_for_training()
    collect_in_gui_thread()
    if warm_up:
        warm_up_in_background()


def restore_process() -> None:
    """Hand back the GC policy and the GUI thread's torch threads that :func:`set_up_process`
    took, so a test that needed them leaves a plain process. The theme stays (GUI tests
    run with it throughout, as the app does), and so does the warm-up's module import."""
    from .runtime.collector import collect_automatically
    from .runtime.torch_threads import share_threads_with_gui

    collect_automatically()
    share_threads_with_gui()


def main(argv: list[str] | None = None) -> int:
    # The imports make some 500,000 objects and next to no garbage: collecting while they
    # are made costs the window a third of a second (frozen below; the collector takes over).
    gc.disable()
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.compare and not args.checkpoint:
        parser.error("--compare needs the run to compare it with first: RUN_A --compare RUN_B")
    problem = xcb_problem()
    if problem:
        print(problem, file=sys.stderr)
        return 1
    # Import Qt only after --help has had its chance: `--help` must be instant.
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from cnn_core.train.config import TrainConfig

    from .runtime import startup_times
    from .runtime.interrupt import EXIT_STATUS, CloseOnInterrupt
    from .runtime.warmup import warm_up_once_on_screen
    from .window.main_window import MainWindow

    gc.freeze()  # what the imports made: modules and classes no collection need walk
    startup_times.record("imported")
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("CNN Studio")
    app.setOrganizationName("CNN Studio")
    set_up_process(warm_up=False)
    given = {k: getattr(args, k) for k in _CONFIG_OPTIONS if getattr(args, k) is not None}
    if "arch" in given:
        given["network"] = None  # a built-in, not the network of one's own chosen last time
    window = MainWindow()
    if given:
        base = window.settings.last_config() or TrainConfig()
        window.config_panel.set_config(TrainConfig.from_dict({**base.to_dict(), **given}))
    startup_times.record("window built")
    startup_times.watch(window)
    window.show()
    interrupt = CloseOnInterrupt(window)
    warm_up_once_on_screen(window)
    if args.watch:
        QTimer.singleShot(0, lambda: window.watch_run(args.watch))
    elif args.compare:
        QTimer.singleShot(0, lambda: window.compare.compare(args.checkpoint, args.compare))
    elif args.checkpoint:
        QTimer.singleShot(0, lambda: window.open_path(args.checkpoint))
    elif args.start:  # once the chosen dataset is ready (a folder is read first)
        panel = window.config_panel
        if panel.valid:
            QTimer.singleShot(0, window.start_training)
        else:
            def start_once(valid: bool) -> None:
                if valid:
                    panel.validityChanged.disconnect(start_once)
                    window.start_training()
            panel.validityChanged.connect(start_once)
    status = app.exec()
    return EXIT_STATUS if interrupt.interrupted else status
