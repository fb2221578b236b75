"""Start the window: ``python main.py [options]`` or ``make run``."""

from __future__ import annotations

import argparse
import sys

from cnn_core.config import TrainConfig
from cnn_core.data import DATASETS
from cnn_core.models import MODELS


def build_parser() -> argparse.ArgumentParser:
    defaults = TrainConfig()
    parser = argparse.ArgumentParser(
        prog="cnn-studio", description="CNN Studio: train convolutional networks and look inside.")
    parser.add_argument("--arch", choices=list(MODELS), default=defaults.arch,
                        help="architecture selected at launch (default %(default)s)")
    parser.add_argument("--dataset", choices=list(DATASETS), default=defaults.dataset,
                        help="dataset selected at launch (default %(default)s)")
    parser.add_argument("--epochs", type=int, default=defaults.epochs)
    parser.add_argument("--batch-size", dest="batch_size", type=int, default=defaults.batch_size)
    parser.add_argument("--lr", type=float, default=defaults.lr, help="learning rate")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda[:N] or mps")
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--start", action="store_true",
                        help="start training as soon as the window opens")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # Import Qt only after --help has had its chance: `--help` must be instant.
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from .main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("CNN Studio")
    app.setOrganizationName("CNN Studio")
    config = TrainConfig(arch=args.arch, dataset=args.dataset, epochs=args.epochs,
                         batch_size=args.batch_size, lr=args.lr, device=args.device,
                         seed=args.seed)
    window = MainWindow(config)
    window.show()
    if args.start:
        QTimer.singleShot(0, window.start_training)
    return app.exec()
