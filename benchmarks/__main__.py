"""``make bench``: what the engine and the window cost, as ratios.

1. engine: throughput against a plain article-style loop, same process, same data.
2. window: wall time per epoch of ``python main.py --start`` against ``python -m cnn_core
   train``, fresh processes alternating, every panel in its default state; plus the worst
   event-loop stall, from a separate run with the stall probe. ``--versus cli``: a second
   CLI run instead (the noise floor); ``--versus spec``: the CLI on the built-in's spec file.
3. panels: the same with each panel in view (SimpleCNN).
4. folders: loading a folder of 10,000 pictures (decoding, then the cache), and training on
   a folder against the built-in dataset of the same pictures.
5. deeper: seconds per deeper view (activation maximisation, embeddings, ablation) on a
   trained SimpleCNN, one torch thread.
6. distributed: seconds per epoch of 1 process against 2 under torchrun on the CPU (and
   1..N GPUs on CUDA), with the share of time spent all-reducing gradients.
7. cold-start: seconds from launching ``python main.py`` (first-launch settings) to the
   window mapped on an X server and to Start enabled, median of fresh processes.
8. sweep: a sweep's trial against a CLI run, pruning's savings, time to 98% with lr-find and
   one-cycle, one sweep worker against two (see benchmarks/sweep.py).
9. transfer: an ImageNet backbone's frozen features, a head epoch against a backbone epoch,
   and fine-tuning from a run against training from scratch (see benchmarks/transfer.py).

Sections 2 and 3 time epochs 1 -> 6 from the run folder's snapshot mtimes, so evaluation and
epoch-end work are included, and nothing runs before Start.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import torch

from cnn_core.nn.models import MODELS

from . import cold_start, deeper, distributed, engine, folders, launch, sweep, transfer
from .gui_overhead import LIMIT, Comparison, compare
from .run_folder import FIRST_EPOCH, LAST_EPOCH, BenchError

SECTIONS = ("engine", "window", "panels", "folders", "deeper", "distributed", "cold-start",
            "sweep", "transfer")
ARTICLE_NETWORKS = ("lenet5", "simplecnn", "deepcnn")  # the presets with a backbone download
PANELS = ("Filters", "Preferred inputs", "Feature maps", "Draw", "Errors", "Embedding",
          "Ablation", "Saliency", "Layer health")
STALL_EPOCHS = 2  # the stall probe's own run: start-up, an epoch end and the run's end
# --versus: what section 2 compares the CLI with (its column name, how it is run)
OTHERS = {"window": ("window", launch.window), "cli": ("CLI #2", launch.cli),
          "spec": ("spec file", launch.spec_cli)}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.split("\n\n")[0],
        epilog="Exit status 1 when a run could not be measured, a ratio is over "
               f"{LIMIT:.2f}x or a cold start misses its target. Example: python -m benchmarks --section window --rounds 1 "
               "--arch simplecnn")
    parser.add_argument("--section", choices=SECTIONS, action="append",
                        help="run this section (repeatable; default all)")
    parser.add_argument("--arch", choices=list(MODELS), action="append",
                        help="architecture for sections 1 and 2 (repeatable; default the "
                             "article's three)")
    parser.add_argument("--panel", choices=PANELS, action="append",
                        help="panel for section 3 (repeatable; default all)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="alternating CLI/window rounds per row (default 3)")
    parser.add_argument("--launches", type=int, default=5,
                        help="cold-start: fresh processes to launch (default 5)")
    parser.add_argument("--versus", choices=tuple(OTHERS), default="window",
                        help="section 2 against the window, a second CLI run (the noise "
                             "floor), or the CLI on the built-in's spec as a file (a "
                             "person's own network)")
    parser.add_argument("--no-stalls", dest="stalls", action="store_false",
                        help="skip the stall-probe runs")
    parser.add_argument("--timeout", type=float, default=1800,
                        help="seconds one run may take before it is ended (default 1800)")
    parser.add_argument("--device", default="cpu",
                        help="section 1's device (sections 2 and 3 always run on the CPU)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="section 1: epochs per loop, best kept (default 3)")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.launches < 1:
        parser.error("--rounds and --launches must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sections = args.section or list(SECTIONS)
    archs = args.arch or list(ARTICLE_NETWORKS)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f} (figures drift when it is over the cores)")
    ok = True
    if "engine" in sections:
        engine_section(args, archs)
    if "window" in sections:
        ok &= window_section(args, archs)
    if "panels" in sections:
        ok &= panels_section(args)
    if "folders" in sections:
        ok &= folders.section(args.rounds, args.timeout)
    if "deeper" in sections:
        deeper.section(args.rounds, args.timeout)
    if "distributed" in sections:
        distributed.section(args.rounds, args.timeout)
    if "cold-start" in sections:
        ok &= cold_start.section(args.launches, min(args.timeout, cold_start.TIMEOUT_S))
    if "sweep" in sections:
        ok &= sweep.section(args.rounds, args.timeout)
    if "transfer" in sections:
        ok &= transfer.section(args.rounds)
    return 0 if ok else 1


def engine_section(args: argparse.Namespace, archs: list[str]) -> None:
    print(f"\n1. Engine vs plain loop on {args.device}: bundled MNIST sample (4,000 train "
          f"images), batch 64, best of {args.repeats} epochs")
    print(f"{'architecture':<12} {'plain img/s':>12} {'engine img/s':>13} {'ratio':>7}")
    for arch in archs:
        r = engine.measure(arch, args.device, args.repeats)
        print(f"{arch:<12} {r.plain_ips:>12,.0f} {r.engine_ips:>13,.0f} {r.ratio:>6.2f}x")


def window_section(args: argparse.Namespace, archs: list[str]) -> bool:
    other, run_other = OTHERS[args.versus]
    print(f"\n2. {other} vs CLI on CPU, default panels: seconds per epoch from the end of "
          f"epoch {FIRST_EPOCH} to the end of epoch {LAST_EPOCH} (snapshot mtimes), "
          f"{args.rounds} alternating round(s) of fresh processes")
    rows = {}
    for arch in archs:
        rows[arch] = measure_row(arch, other, partial(launch.cli, arch, args.timeout),
                                 partial(run_other, arch, args.timeout), args.rounds)
        if rows[arch] and args.stalls and args.versus == "window":
            rows[arch].stall_ms = worst_stall(arch, None, args.timeout)
    return print_table("architecture", other, rows)


def panels_section(args: argparse.Namespace) -> bool:
    print(f"\n3. Window with each panel in view vs CLI, SimpleCNN on CPU (a drawing being "
          f"read on Draw, a non-probe image on Feature maps): seconds per epoch {FIRST_EPOCH} "
          f"-> {LAST_EPOCH} from snapshot mtimes, {args.rounds} alternating round(s)")
    rows = {}
    for panel in args.panel or PANELS:
        rows[panel] = measure_row(panel, "window", partial(launch.cli, "simplecnn", args.timeout),
                                  partial(window_with_panel, panel, args.timeout), args.rounds)
        if rows[panel] and args.stalls:
            rows[panel].stall_ms = worst_stall("simplecnn", panel, args.timeout)
    return print_table("panel", "window", rows)


def window_with_panel(panel: str, timeout: float) -> float:
    return launch.in_process("simplecnn", timeout, panel=panel).seconds_per_epoch


@dataclass
class Row:
    """One line of a section's table."""

    comparison: Comparison
    stall_ms: float | None = None


def measure_row(name: str, other: str, run_cli: Callable[[], float],
                run_other: Callable[[], float], rounds: int) -> Row | None:
    """The rounds of one row, printed as they go; None (and a line why) if a run failed."""
    def report(i: int, cli_s: float, other_s: float) -> None:
        print(f"  {name} round {i + 1}/{rounds}: CLI {cli_s:.3f} s, {other} {other_s:.3f} s, "
              f"ratio {other_s / cli_s:.3f}x (load average {os.getloadavg()[0]:.1f})", flush=True)

    try:
        return Row(compare(run_cli, run_other, rounds, report))
    except BenchError as error:
        print(f"  {name}: not measured: {error}", flush=True)
        return None


def worst_stall(arch: str, panel: str | None, timeout: float) -> float | None:
    try:
        result = launch.in_process(arch, timeout, panel=panel, epochs=STALL_EPOCHS, stalls=True)
    except BenchError as error:
        print(f"  stall probe ({arch}{', ' + panel if panel else ''}): not measured: {error}")
        return None
    return result.worst_stall_ms


def print_table(title: str, other: str, rows: dict[str, Row | None]) -> bool:
    """The summary of a section; True when every row was measured and passed."""
    print(f"{title:<13} {'CLI s':>7} {other + ' s':>9} {'ratio':>7} {'spread':>14} "
          f"{'verdict':>8} {'worst stall':>12}")
    for name, row in rows.items():
        if row is None:
            print(f"{name:<13} {'not measured':>36}")
            continue
        c = row.comparison
        low, high = c.spread
        stall = f"{row.stall_ms:>9.0f} ms" if row.stall_ms is not None else f"{'-':>12}"
        print(f"{name:<13} {c.cli_median:>7.3f} {c.other_median:>9.3f} {c.ratio:>6.3f}x "
              f"{low:>6.3f}-{high:.3f}x {'PASS' if c.passed else 'FAIL':>8} {stall}")
    return all(row is not None and row.comparison.passed for row in rows.values())

if __name__ == "__main__":
    sys.exit(main())
