"""Section 5 of ``make bench``, the deeper views: seconds each look inside a trained
SimpleCNN takes on one torch thread (the GUI runs them beside training), each round in a
fresh process.

The network is trained once, for one epoch on the bundled MNIST sample (about 91% test
accuracy), in this process; each round loads its weights, runs one untimed forward pass
so first-call costs are not counted, then times every operation once on the sample's
1,000 test images.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch

from .launch import REPO

# name -> what is timed (the GUI's calls, with their defaults)
OPERATIONS = {
    "max-act conv1": "maximize_activation, 32 channels of conv1",
    "max-act conv2": "maximize_activation, 32 channels of conv2",
    "embed pca": "embed, PCA, 1,000 images",
    "embed tsne": "embed, t-SNE, 1,000 images",
    "ablate": "ablate, one channel of conv2, 1,000 images",
    "importance": "filter_importance, conv2 (64 channels), 1,000 images",
}


def timings(weights: Path) -> dict[str, float]:
    """In this process, on one thread: seconds per operation."""
    from cnn_core.data.datasets import load_dataset
    from cnn_core.introspection import ablate, embed, filter_importance, maximize_activation
    from cnn_core.nn.models import SimpleCNN

    torch.set_num_threads(1)
    bundle = load_dataset("mnist-sample")
    model = SimpleCNN()
    model.load_state_dict(torch.load(weights))
    model.eval()
    images, labels = bundle.test.images, bundle.test.labels
    (mean,), (std,) = bundle.info.mean, bundle.info.std
    pixels = ([-mean / std], [(1 - mean) / std])
    with torch.no_grad():
        model(images[:500])
    calls: dict[str, Callable[[], object]] = {
        "max-act conv1": lambda: maximize_activation(model, "conv1", range(32),
                                                     input_range=pixels),
        "max-act conv2": lambda: maximize_activation(model, "conv2", range(32),
                                                     input_range=pixels),
        "embed pca": lambda: embed(model, images, "pca"),
        "embed tsne": lambda: embed(model, images, "tsne"),
        "ablate": lambda: ablate(model, images, labels, "conv2", [0]),
        "importance": lambda: filter_importance(model, images, labels, "conv2"),
    }
    seconds = {}
    for name, call in calls.items():
        start = time.perf_counter()
        call()
        seconds[name] = time.perf_counter() - start
    return seconds


def fresh_process(weights: Path, timeout: float) -> dict[str, float]:
    """:func:`timings` in a new interpreter, its maths libraries held to one thread too."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-m", "benchmarks.deeper", str(weights)], cwd=REPO,
                         env=env, capture_output=True, text=True, check=True,
                         timeout=timeout).stdout
    return json.loads(out.splitlines()[-1])


def section(rounds: int, timeout: float) -> None:
    print(f"\n5. Deeper views on a SimpleCNN trained 1 epoch on the bundled sample: seconds "
          f"on one torch thread, {rounds} round(s) of fresh processes")
    sys.path.insert(0, str(REPO))
    from tests.trained import trained_simplecnn

    with tempfile.TemporaryDirectory(prefix="bench-deeper-") as home:
        weights = Path(home) / "simplecnn.pt"
        torch.save(trained_simplecnn().state_dict(), weights)
        runs = []
        for i in range(rounds):
            runs.append(fresh_process(weights, timeout))
            print(f"  round {i + 1}/{rounds}: " + ", ".join(
                f"{name} {s:.2f} s" for name, s in runs[-1].items()), flush=True)
    print(f"{'operation':<56} {'median s':>9} {'spread s':>13}")
    for name, what in OPERATIONS.items():
        values = [run[name] for run in runs]
        print(f"{what:<56} {statistics.median(values):>9.3f} "
              f"{min(values):>6.3f}-{max(values):.3f}")


if __name__ == "__main__":
    print(json.dumps(timings(Path(sys.argv[1]))))
