"""Section 4 of ``make bench``, image folders: how long a folder of pictures takes to load
the first time (decoding) and the second (from the cache), each in a fresh process; and
whether training on a folder is as fast as on a built-in dataset of the same shape.

For the second, the folder holds the bundled MNIST sample's own 5,000 digits as PNG files
(1x28x28, 4,000 train / 1,000 test either way), so the only difference is where the
pictures came from.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from cnn_core.paths import bundled_sample_path

from . import launch
from .gui_overhead import compare
from .launch import REPO
from .run_folder import FIRST_EPOCH, LAST_EPOCH

PICTURES = 10_000


def digits_folder(root: Path) -> Path:
    """The bundled sample as ROOT/<digit>/<n>.png."""
    with np.load(bundled_sample_path(), allow_pickle=False) as npz:
        images, labels = npz["images"], npz["labels"]
    for i, (image, label) in enumerate(zip(images, labels)):
        folder = root / str(label)
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(folder / f"{i:05d}.png")
    return root


def shapes_folder(root: Path, count: int = PICTURES) -> Path:
    """``count`` small coloured shapes (24 to 64 pixels, PNG and JPEG) in three classes."""
    sys.path.insert(0, str(REPO))
    from tests.pictures import SHAPES, make_folder

    return make_folder(root, per_class=count // len(SHAPES) + 1)


def timed_load(folder: Path, cache: Path) -> dict[str, float]:
    """In a fresh process: seconds to load ``folder`` (the process's own start excluded)."""
    code = ("import json, sys, time; from cnn_core.data import load_dataset; "
            "t = time.perf_counter(); b = load_dataset(sys.argv[1], sys.argv[2]); "
            "print(json.dumps({'seconds': "
            "time.perf_counter() - t, 'pictures': len(b.train) + len(b.test)}))")
    out = subprocess.run([sys.executable, "-c", code, str(folder), str(cache)], cwd=REPO,
                         capture_output=True, text=True, check=True, timeout=1800).stdout
    return json.loads(out.splitlines()[-1])


def loading(rounds: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-folder-") as home:
        folder, cache = shapes_folder(Path(home) / "shapes"), Path(home) / "cache"
        first, second = [], []
        for i in range(rounds):
            shutil.rmtree(cache, ignore_errors=True)
            cold, warm = timed_load(folder, cache), timed_load(folder, cache)
            first.append(cold["pictures"] / cold["seconds"])
            second.append(warm["seconds"])
            print(f"  round {i + 1}/{rounds}: first load {cold['seconds']:.2f} s "
                  f"({first[-1]:,.0f} pictures/s), second load {warm['seconds']:.3f} s "
                  f"({cold['pictures']:,} pictures)", flush=True)
    print(f"first load (decoding): median {statistics.median(first):,.0f} pictures/s "
          f"(spread {min(first):,.0f}-{max(first):,.0f}); second load (cache): median "
          f"{statistics.median(second):.3f} s (spread {min(second):.3f}-{max(second):.3f} s)")


def training(rounds: int, timeout: float) -> bool:
    with tempfile.TemporaryDirectory(prefix="bench-digits-") as home:
        folder = str(digits_folder(Path(home) / "digits"))
        same = ("--image-size", "28")  # the sample's shape: 1x28x28
        launch.cli("simplecnn", timeout, folder, same)  # decodes once: the rounds use the cache

        def report(i: int, builtin_s: float, folder_s: float) -> None:
            print(f"  round {i + 1}/{rounds}: bundled {builtin_s:.3f} s, folder {folder_s:.3f} s,"
                  f" ratio {folder_s / builtin_s:.3f}x", flush=True)

        c = compare(lambda: launch.cli("simplecnn", timeout),
                    lambda: launch.cli("simplecnn", timeout, folder, same), rounds, report)
    low, high = c.spread
    print(f"seconds per epoch: bundled {c.cli_median:.3f}, folder {c.other_median:.3f}; ratio "
          f"median {c.ratio:.3f}x (spread {low:.3f}-{high:.3f}x): "
          f"{'PASS' if c.passed else 'FAIL'}")
    return c.passed


def section(rounds: int, timeout: float) -> bool:
    """Both parts; True when training on the folder is within the window's limit."""
    print(f"\n4. Image folders. a) Loading {PICTURES:,} small pictures, fresh processes, "
          f"{rounds} round(s)")
    loading(rounds)
    print(f"b) SimpleCNN, CLI: the bundled sample vs the same digits as a folder, seconds per "
          f"epoch {FIRST_EPOCH} -> {LAST_EPOCH}, {rounds} alternating round(s)")
    return training(rounds, timeout)
