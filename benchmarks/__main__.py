"""``make bench``: throughput ratios of the engine against a plain loop, same process."""

from __future__ import annotations

import argparse

import torch

from cnn_core.models import MODELS

from .engine import measure


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=3, help="epochs per loop; best is kept")
    parser.add_argument("--arch", choices=list(MODELS), action="append")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, device {args.device}, threads {torch.get_num_threads()}, "
          f"bundled MNIST sample (4,000 train images), batch 64, best of {args.repeats} epochs")
    print(f"{'architecture':<12} {'plain img/s':>12} {'engine img/s':>13} {'ratio':>7}")
    for arch in args.arch or list(MODELS):
        r = measure(arch, args.device, args.repeats)
        print(f"{arch:<12} {r.plain_ips:>12,.0f} {r.engine_ips:>13,.0f} {r.ratio:>6.2f}x")


if __name__ == "__main__":
    main()
