"""The error every reader and writer of run folders raises, in one place of its own so
the store and the lock can both use it."""


class RunError(ValueError):
    """A folder that is not a readable run, or a run that cannot be changed now; the
    message says why."""
