"""How far a sweep is, in words: for the view's progress line and the dock's tab."""

from __future__ import annotations

from cnn_core.sweep import SweepOutcome, SweepReport, TrialEpoch

from .axes import objective_text


def counts_text(report: SweepReport) -> str:
    parts = [f"{report.count('complete')} complete"]
    for state in ("pruned", "failed", "running"):
        if report.count(state):
            parts.append(f"{report.count(state)} {state}")
    return ", ".join(parts)


def finished(report: SweepReport) -> int:
    return report.count("complete") + report.count("pruned")


def best_text(report: SweepReport) -> str:
    best = report.best
    if best is None:
        return ""
    return (f"best: trial {best.number}, "
            f"{objective_text(best.value, report.settings.objective)}")


def progress_text(report: SweepReport | None, epoch: TrialEpoch | None,
                  running_here: bool) -> str:
    """``Trial 3 of 10 (#2) · epoch 2/5 · 1 complete, 1 pruned · best: trial 0, 91.20%``
    while trials run; a summary otherwise."""
    if report is None:
        return "Training the first trial…" if running_here else ""
    total = report.settings.trials
    done = finished(report)
    running = [t for t in report.trials if t.state == "running"]
    if running_here:
        current = f"Trial {min(done + 1, total)} of {total}"
        if epoch is not None:
            current += f" (#{epoch.number}) · epoch {epoch.epoch}/{epoch.epochs}"
    elif running:
        trial = min(running, key=lambda t: t.number)
        current = f"{done} of {total} finished · trial #{trial.number} at epoch {trial.epochs}"
    else:
        current = f"{done} of {total} trials finished"
    parts = [current, counts_text(report)]
    best = best_text(report)
    if best:
        parts.append(best)
    return " · ".join(parts)


def tab_text(report: SweepReport | None, running_here: bool) -> str:
    """The dock's title: ``Sweeps``, or ``Sweeps · 3/10`` while a sweep runs here."""
    if not running_here or report is None:
        return "Sweeps"
    return f"Sweeps · {finished(report)}/{report.settings.trials}"


def outcome_text(outcome: SweepOutcome | None) -> str:
    """What the view says once the sweep it ran has ended (the progress line, read again
    then, says which trial is best)."""
    if outcome is None:
        return "The sweep stopped before its first trial."
    if outcome.stopped:
        return (f"Stopped: the running trial's run is recorded as stopped; "
                f"{outcome.finished} of {outcome.trials} trials finished.")
    return f"Done: {outcome.reason}."
