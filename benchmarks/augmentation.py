"""Does augmentation pay on the bundled digits, and what does it cost per batch?

1. cost: milliseconds to augment one batch of 64 (28x28 grey, 32x32 colour) on the CPU,
   best of several repeats, next to one SimpleCNN training step on the same batch.
2. accuracy: SimpleCNN trained on mnist-sample with and without each setting (same
   seeds, CPU), then tested on the plain test split and on test splits moved, turned and
   resized the way a digit drawn on a canvas is (fixed draws, the same for every model).
   The median over the seeds is shown.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch

from cnn_core.data.augment import augment_batch, parse_augmentation
from cnn_core.data.bundle import DatasetInfo, Split
from cnn_core.data.datasets import DataBundle, load_dataset
from cnn_core.train.config import TrainConfig
from cnn_core.train.evaluation import evaluate
from cnn_core.train.trainer import Trainer

SETTINGS = ("", "shift=3,rotate=12")
# test variations: name -> the changes, made once with a fixed seed
VARIATIONS = {"plain": "", "moved+turned": "shift=4,rotate=15",
              "+resized": "shift=4,rotate=15,scale=15"}
TEST_SEED = 1234
COLOUR = DatasetInfo("colour", "colour", "", 3, 32, tuple("0123456789"),
                     (0.49, 0.48, 0.45), (0.25, 0.24, 0.26))


def best_ms(fn: Callable[[], object], repeats: int = 7, number: int = 50) -> float:
    """Best of ``repeats`` means over ``number`` calls: the least disturbed by others."""
    for _ in range(3):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - start) / number * 1000)
    return min(times)


def cost_section(digits: DataBundle, text: str) -> None:
    augmentation = parse_augmentation(text)
    print(f"\n1. cost of '{text}' per batch of 64 on the CPU ({torch.get_num_threads()} threads)")
    trainer = Trainer(TrainConfig(arch="simplecnn", device="cpu", epochs=1), data=digits)
    grey = trainer.data.train.images[:64]  # channels-last, as the trainer holds it
    labels = trainer.data.train.labels[:64]
    colour = torch.randn(64, 3, 32, 32).contiguous(memory_format=torch.channels_last)
    generator = torch.Generator().manual_seed(0)

    def step() -> None:
        loss = trainer.criterion(trainer.model(grey), labels)
        trainer.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        trainer.optimizer.step()

    print(f"   1x28x28: {best_ms(lambda: augment_batch(grey, augmentation, digits.info, generator)):.2f} ms"
          f"   (a SimpleCNN training step: {best_ms(step, repeats=3, number=5):.1f} ms)")
    print(f"   3x32x32: {best_ms(lambda: augment_batch(colour, augmentation, COLOUR, generator)):.2f} ms")


def varied(split: Split, info: DatasetInfo, text: str) -> Split:
    generator = torch.Generator().manual_seed(TEST_SEED)
    return Split(augment_batch(split.images, parse_augmentation(text), info, generator),
                 split.labels)


def accuracy_section(digits: DataBundle, settings: list[str], seeds: list[int],
                     epochs: int) -> None:
    tests = {name: varied(digits.test, digits.info, text) for name, text in VARIATIONS.items()}
    print(f"\n2. SimpleCNN, {epochs} epochs on mnist-sample ({len(digits.train)} train), "
          f"test accuracy %, median of seeds {seeds}")
    print(f"   {'trained with':<22}" + "".join(f"{name:>14}" for name in tests) + f"{'s/epoch':>10}")
    for text in settings:
        scores: dict[str, list[float]] = {name: [] for name in tests}
        seconds = []
        for seed in seeds:
            trainer = Trainer(TrainConfig(arch="simplecnn", device="cpu", epochs=epochs,
                                          seed=seed, augment=text), data=digits)
            trainer.fit()
            seconds += [m.seconds for m in trainer.history]
            for name, split in tests.items():
                result = evaluate(trainer.model, split.to(trainer.device), trainer.criterion)
                scores[name].append(result.accuracy * 100)
        print(f"   {text or '(none)':<22}"
              + "".join(f"{statistics.median(s):>14.1f}" for s in scores.values())
              + f"{statistics.median(seconds):>10.2f}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.augmentation",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--section", choices=("cost", "accuracy"), action="append",
                        help="run this section (repeatable; default both)")
    parser.add_argument("--augment", action="append", metavar="LIST",
                        help="a setting to train with, besides none (repeatable; default "
                             + ", ".join(repr(s) for s in SETTINGS[1:]) + ")")
    parser.add_argument("--seeds", type=int, default=2, help="training seeds (default 2)")
    parser.add_argument("--epochs", type=int, default=5, help="epochs per run (default 5)")
    args = parser.parse_args(argv)
    settings = ["", *args.augment] if args.augment else list(SETTINGS)
    for text in settings:
        try:
            parse_augmentation(text)
        except ValueError as exc:
            parser.error(f"--augment {text}: {exc}")
    digits = load_dataset("mnist-sample")
    sections = args.section or ["cost", "accuracy"]
    if "cost" in sections:
        cost_section(digits, settings[-1] or "shift=3,rotate=12")
    if "accuracy" in sections:
        accuracy_section(digits, settings, list(range(args.seeds)), args.epochs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
