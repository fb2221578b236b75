"""``python -m cnn_core sweep NAME ...`` and ``sweep show NAME``: the command line's side
of sweeps (its arguments: :mod:`cnn_core.cli_parser`). A line per trial as it starts and
ends, and one per epoch; Ctrl+C stops the running trial cleanly (its run is recorded as
stopped, the study's trial as failed) and a second one interrupts at once."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import optuna

from .errors import SweepError
from .events import SweepEvent, SweepNote, TrialEpoch, TrialFinished, TrialStarted
from .report import SweepReport, read_sweep
from .runner import SweepRunner, check_run_options, prepare_sweep
from .settings import SweepRequest, SweepSettings
from .storage import check_name, shown, storage_url, sweep_folder
from ..data.source import resolve


def sweep_command(args: argparse.Namespace, given: Mapping[str, Any]) -> int:
    """Run (or join) the sweep ``args.name``, or show ``sweep show NAME``; ``given``: the
    train options given, by TrainConfig field."""
    if args.name == "show":
        if args.shown is None:
            raise SweepError("sweep show: give the sweep's NAME")
        if given or args.trials or args.space or args.objective or args.pruner:
            raise SweepError("sweep show: takes only NAME and --storage")
        show(read_sweep(check_name(args.shown), args.storage))
        return 0
    if args.shown is not None:
        raise SweepError(f"sweep: unexpected {args.shown!r} (sweep NAME --trials N ..., or "
                         "sweep show NAME)")
    name = check_name(args.name)
    check_run_options(args.jobs, args.timeout)
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # the lines below say it all
    url = storage_url(name, args.storage)
    request = SweepRequest(name, args.trials, Path(args.space) if args.space else None,
                           dict(given), args.objective, args.pruner)
    settings = prepare_sweep(request, url)
    source = resolve(settings.base)
    if args.download and source.downloadable and not source.is_available(
            settings.base.data_dir):
        source.download(settings.base.data_dir)
    runner = SweepRunner(settings, url, jobs=args.jobs, worker=args.worker,
                         timeout=args.timeout, on_event=Printer(settings, args.worker),
                         echo_workers=True)
    if args.worker == 0:
        _introduce(settings, url, args.jobs)
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    def stop(_sig: int, _frame: object) -> None:
        if runner.stopping and args.worker == 0:
            raise KeyboardInterrupt  # a second Ctrl+C: at once
        if not runner.stopping and args.worker == 0:
            print("stopping: the running trial ends at its next batch (Ctrl+C again to "
                  "interrupt at once)", flush=True)
        runner.stop()

    for sig in previous:
        signal.signal(sig, stop)
    try:
        outcome = runner.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if args.worker == 0:
        print(f"{outcome.reason}.")
        _best(read_sweep(name, url))
    return 130 if outcome.stopped else 0


def _introduce(settings: SweepSettings, url: str, jobs: int) -> None:
    base = settings.base
    varied = ", ".join(_range(p.to_json(), p.key) for p in settings.space.varied) or "nothing"
    print(f"sweep {settings.name}: {settings.trials} trial(s) of {base.arch} on {base.dataset}, "
          f"varying {varied}")
    print(f"objective {settings.objective} ({settings.direction}), pruner {settings.pruner}, "
          f"{jobs} worker{'s' if jobs > 1 else ''}; study {shown(url)}; runs in "
          f"{sweep_folder(settings.name)}", flush=True)


def _range(entry: Any, key: str) -> str:
    kind, arg = next(iter(entry.items()))
    return f"{key} {kind} {arg}" if kind != "choice" else f"{key} in {arg}"


def objective_text(value: float | None, objective: str) -> str:
    if value is None:
        return "-"
    return f"{value:.2%}" if objective == "test_acc" else f"{value:.4f}"


def params_text(params: Mapping[str, Any]) -> str:
    return " ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
                    for k, v in params.items())


class Printer:
    """Sweep events as lines on stdout (another worker's start with ``[worker K]``)."""

    def __init__(self, settings: SweepSettings, worker: int) -> None:
        self.objective = settings.objective
        self.prefix = f"[worker {worker}] " if worker else ""

    def __call__(self, event: SweepEvent) -> None:
        line = None
        if isinstance(event, TrialStarted):
            line = (f"trial {event.number} started: {params_text(event.params)} "
                    f"({event.run_dir.name})")
        elif isinstance(event, TrialEpoch):
            line = (f"  trial {event.number} epoch {event.epoch}/{event.epochs}: "
                    f"{self.objective} {objective_text(event.value, self.objective)}")
        elif isinstance(event, TrialFinished):
            value = f"{self.objective} {objective_text(event.value, self.objective)}"
            line = {"complete": f"trial {event.number} complete: {value} (best epoch)",
                    "pruned": f"trial {event.number} pruned {event.reason}: {value}",
                    "stopped": f"trial {event.number} stopped",
                    "failed": f"trial {event.number} failed: {event.reason}",
                    }[event.state] + f", {event.epochs} epoch(s) in {event.seconds:.1f} s"
        elif isinstance(event, SweepNote):
            line = f"note: {event.text}"
        if line is not None:
            print(self.prefix + line, flush=True)


def _best(report: SweepReport) -> None:
    best = report.best
    if best is None:
        print("no trial has completed yet")
        return
    print(f"best so far: trial {best.number}, {report.settings.objective} "
          f"{objective_text(best.value, report.settings.objective)} with "
          f"{params_text(best.params)} ({best.run_dir})")


def show(report: SweepReport) -> None:
    """The trials, best first, and the parameters' importances."""
    settings = report.settings
    print(f"sweep {settings.name}: objective {settings.objective} ({settings.direction}), "
          f"pruner {settings.pruner}; {report.count('complete') + report.count('pruned')} of "
          f"{settings.trials} trials finished ({report.count('complete')} complete, "
          f"{report.count('pruned')} pruned), {report.count('failed')} failed, "
          f"{report.count('running')} running")
    print(f"study: {shown(report.storage)}")
    keys = [p.key for p in settings.space.varied]
    columns = [("trial", 5), ("state", 8), (settings.objective, 9), ("epochs", 6),
               *((k, max(len(k), 9)) for k in keys)]
    print("  ".join(f"{title:>{width}}" if i in (0, 2, 3) else f"{title:<{width}}"
                    for i, (title, width) in enumerate(columns)) + "  run")
    for t in report.trials:
        cells = [f"{t.number:>5}", f"{t.state:<8}",
                 f"{objective_text(t.value, settings.objective):>9}", f"{t.epochs:>6}"]
        cells += [f"{_cell(t.params.get(k)):<{w}}" for k, (_, w) in zip(keys, columns[4:])]
        print("  ".join(cells) + f"  {t.run_dir.name if t.run_dir else '-'}"
              + (f"  ({t.note})" if t.note else ""))
    if report.importances:
        print(f"parameter importances (fANOVA over {report.count('complete')} complete "
              "trials):")
        width = max(len(k) for k in report.importances)
        for key, share in report.importances.items():
            print(f"  {key:<{width}}  {share:5.2f}  {'#' * round(share * 30)}")
    else:
        print(report.importance_note)
    sys.stdout.flush()


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:.3g}" if isinstance(value, float) else str(value)
