"""The error of a run that cannot go on, in a module of its own so that the trainer and
the distributed collectives can both raise it."""


class TrainingError(RuntimeError):
    """A run that cannot go on (diverged, out of memory, bad data); the message says why."""
