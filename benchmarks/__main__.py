"""``make bench``: what the engine and the window cost, as ratios measured in one go.

1. Engine throughput against a plain article-style loop, same process, same data.
2. Time per epoch through the window against the same run headless through the CLI,
   each in a fresh process, alternating, plus the worst event-loop stall.
"""

from __future__ import annotations

import argparse

import torch

from cnn_core.nn.models import MODELS

from . import engine, gui_overhead

PANELS = ("Filters", "Feature maps", "Draw", "Errors", "Saliency", "Layer health")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=3, help="epochs per loop; best is kept")
    parser.add_argument("--arch", choices=list(MODELS), action="append")
    parser.add_argument("--only", choices=("engine", "window", "panels"),
                        help="run one section only")
    args = parser.parse_args()
    archs = args.arch or list(MODELS)

    print(f"torch {torch.__version__}, device {args.device}, threads {torch.get_num_threads()}")
    if args.only in (None, "engine"):
        engine_section(args, archs)
    if args.device != "cpu":
        return
    if args.only in (None, "window"):
        window_section(archs)
    if args.only in (None, "panels"):
        panels_section()


def engine_section(args: argparse.Namespace, archs: list[str]) -> None:
    print(f"\n1. Engine vs plain loop: bundled MNIST sample (4,000 train images), batch 64, "
          f"best of {args.repeats} epochs")
    print(f"{'architecture':<12} {'plain img/s':>12} {'engine img/s':>13} {'ratio':>7}")
    for arch in archs:
        r = engine.measure(arch, args.device, args.repeats)
        print(f"{arch:<12} {r.plain_ips:>12,.0f} {r.engine_ips:>13,.0f} {r.ratio:>6.2f}x")



def window_section(archs: list[str]) -> None:
    print("\n2. Window vs headless CLI (CPU): median seconds per epoch, epoch 1 excluded, "
          "3 alternating rounds of 5 epochs")
    print(f"{'architecture':<12} {'CLI s':>8} {'window s':>9} {'overhead':>9} {'worst stall':>12}")
    for arch in archs:
        r = gui_overhead.measure(arch, epochs=5, rounds=3)
        print(f"{arch:<12} {r.headless:>8.3f} {r.window:>9.3f} {r.overhead:>+8.1%} "
              f"{r.worst_stall_ms:>9.0f} ms")


def panels_section() -> None:
    print("\n3. Each panel visible while training SimpleCNN (a drawing being read on Draw, "
          "a non-probe image on Feature maps): 3 alternating rounds of 5 epochs")
    print(f"{'panel':<14} {'CLI s':>8} {'window s':>9} {'overhead':>9} {'worst stall':>12}")
    for tab, name in enumerate(PANELS):
        r = gui_overhead.measure("simplecnn", epochs=5, rounds=3, tab=tab)
        print(f"{name:<14} {r.headless:>8.3f} {r.window:>9.3f} {r.overhead:>+8.1%} "
              f"{r.worst_stall_ms:>9.0f} ms")


if __name__ == "__main__":
    main()
