"""``make bench ARGS="--section transfer"``: what starting from a trained network costs
and gains, on this machine's CPU.

1. seconds to compute the frozen features of 1,000 pictures at 64 and 224 pixels, for
   each ImageNet backbone (randomly initialised: the time does not depend on the weights,
   and the real ones cannot be downloaded everywhere this runs);
2. an epoch of the head on kept features against an epoch through the frozen backbone
   (ResNet-18 and MobileNetV3-Small at 64 pixels on the bundled sample, 4,000 pictures);
3. on the bundled digits: SimpleCNN trained on 0-4, then fine-tuned on 5-9 with 20
   training pictures per class, against SimpleCNN from scratch on the same 100 pictures:
   test accuracy on 5-9 after the same seconds of training, for 3 seeds (and fine-tuned
   with the copied convolutions frozen).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import torch

from cnn_core.data.bundle import DataBundle, DatasetInfo, Split
from cnn_core.data.datasets import load_dataset
from cnn_core.nn.backbone_specs import BACKBONES
from cnn_core.nn.models import build_model
from cnn_core.train import trainer as trainer_module
from cnn_core.train.callbacks import Callback
from cnn_core.train.config import TrainConfig
from cnn_core.train.evaluation import evaluate
from cnn_core.train.frozen_features import trunk_features
from cnn_core.train.launch import launch

PICTURES = 1_000
SIZES = (64, 224)
EPOCH_BACKBONES = ("resnet18", "mobilenet_v3_small")
SEEDS = (0, 1, 2)
PER_CLASS = 20  # training pictures of each new digit
BUDGETS_S = (0.25, 1.0, 4.0)  # seconds of training on the new digits


def section(rounds: int) -> bool:
    print(f"\n9. Transfer on this CPU ({torch.get_num_threads()} threads)")
    sample = load_dataset("mnist-sample")
    features_table(sample, rounds)
    ok = epoch_table(sample)
    gain_table(sample)
    return ok


def _network(model: str, size: int) -> dict:
    return {"name": f"{model}-head", "layers": [
        {"type": "pretrained", "model": model, "weights": "none", "size": size},
        {"type": "flatten"}, {"type": "linear"}]}


def features_table(sample: DataBundle, rounds: int) -> None:
    images = Split(sample.test.images[:PICTURES], sample.test.labels[:PICTURES])
    print(f"  frozen features of {PICTURES:,} pictures, seconds (median of {rounds})")
    print(f"  {'backbone':<20}" + "".join(f"{f'{s} px':>10}" for s in SIZES))
    for name in BACKBONES:
        row = []
        for size in SIZES:
            model = build_model("x", 1, 10, 28, network=_network(name, size))
            model.set_input_normalisation(sample.info.mean, sample.info.std)
            times = []
            for _ in range(rounds):
                start = time.perf_counter()
                trunk_features(model, images)
                times.append(time.perf_counter() - start)
            row.append(statistics.median(times))
        print(f"  {name:<20}" + "".join(f"{t:>10.1f}" for t in row), flush=True)


class _EpochTimes(Callback):
    def __init__(self) -> None:
        self.seconds: list[float] = []

    def on_epoch_end(self, trainer, metrics) -> None:
        self.seconds.append(metrics.seconds)


def _epoch_seconds(sample: DataBundle, model: str, keep: bool, epochs: int) -> float:
    network = _network(model, 64)
    config = TrainConfig(arch=network["name"], network=network, epochs=epochs, device="cpu")
    fixed = trainer_module.trunk_is_fixed
    if not keep:
        trainer_module.trunk_is_fixed = lambda _model: False
    try:
        with tempfile.TemporaryDirectory() as runs:
            run = launch(config, runs_dir=Path(runs), data=sample)
            times = _EpochTimes()
            run.trainer.callbacks.append(times)
            run.trainer.fit()
    finally:
        trainer_module.trunk_is_fixed = fixed
    return statistics.median(times.seconds)


def epoch_table(sample: DataBundle) -> bool:
    print(f"  an epoch of {len(sample.train):,} pictures at 64 px, seconds: the head on kept "
          "features against the whole network through the frozen backbone")
    ok = True
    for model in EPOCH_BACKBONES:
        head = _epoch_seconds(sample, model, keep=True, epochs=5)
        whole = _epoch_seconds(sample, model, keep=False, epochs=1)
        ok &= head <= whole / 20
        print(f"  {model:<20} head {head:.3f} s, through the backbone {whole:.1f} s: "
              f"1/{whole / head:,.0f} ({'PASS' if head <= whole / 20 else 'FAIL'}: at most "
              "1/20)", flush=True)
    return ok


def _digits(split: Split, digits: range, per_class: int | None = None) -> Split:
    """The pictures of ``digits``, labelled 0.. in order (the first ``per_class`` of each)."""
    keep = []
    for digit in digits:
        found = (split.labels == digit).nonzero().flatten()
        keep.append(found[:per_class] if per_class else found)
    index = torch.cat(keep).sort().values
    return Split(split.images[index], split.labels[index] - digits.start)


def _part(sample: DataBundle, digits: range, per_class: int | None) -> DataBundle:
    info = sample.info
    described = DatasetInfo(f"digits-{digits.start}-{digits.stop - 1}",
                            f"digits {digits.start}-{digits.stop - 1}", info.description,
                            info.in_channels, info.input_size,
                            tuple(str(d) for d in digits), info.mean, info.std)
    return DataBundle(described, _digits(sample.train, digits, per_class),
                      _digits(sample.test, digits))


class _Budget(Callback):
    """Stops a run once it has trained ``seconds``."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def on_batch_end(self, trainer, progress) -> None:
        if progress.elapsed >= self.seconds:
            trainer.request_stop()


def _accuracy_after(bundle: DataBundle, runs: Path, seed: int, budget: float,
                    init_from: str | None, freeze: str = "none") -> float:
    config = TrainConfig(arch="simplecnn", epochs=10_000, batch_size=32, seed=seed,
                         device="cpu", init_from=init_from, freeze=freeze)
    run = launch(config, [_Budget(budget)], runs_dir=runs, data=bundle, report_interval=0)
    trainer = run.trainer
    trainer.fit()  # the weights as they are when the time is up, mid-epoch or not
    return evaluate(trainer.model, trainer.data.test, trainer.criterion).accuracy


def gain_table(sample: DataBundle) -> None:
    old, new = _part(sample, range(0, 5), None), _part(sample, range(5, 10), PER_CLASS)
    print(f"  fine-tuning on digits 5-9 with {PER_CLASS} training pictures each "
          f"({len(new.train)} in all, {len(new.test)} to test): test accuracy after the same "
          f"seconds of training, median of seeds {', '.join(map(str, SEEDS))} (SimpleCNN "
          "first trained 3 epochs on digits 0-4)")
    ways = {"from scratch": (False, "none"), "fine-tuned": (True, "none"),
            "fine-tuned, features frozen": (True, "features")}
    results: dict[tuple[str, float], list[float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        runs = Path(folder)
        for seed in SEEDS:
            base = launch(TrainConfig(arch="simplecnn", epochs=3, seed=seed, device="cpu"),
                          runs_dir=runs, data=old)
            base.trainer.fit()
            for way, (tuned, freeze) in ways.items():
                for budget in BUDGETS_S:
                    results.setdefault((way, budget), []).append(_accuracy_after(
                        new, runs, seed, budget, str(base.run_dir) if tuned else None, freeze))
    print(f"  {'':<28}" + "".join(f"{f'{b:g} s':>20}" for b in BUDGETS_S))
    for way in ways:
        print(f"  {way:<28}" + "".join(f"{_spread(results[way, b]):>20}" for b in BUDGETS_S))


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):.1%} ({min(values):.0%}-{max(values):.0%})"
