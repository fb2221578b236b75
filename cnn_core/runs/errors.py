"""The error every reader and writer of run folders raises, in one place of its own so
the store and the lock can both use it; and how any error becomes a one-line reason."""


class RunError(ValueError):
    """A folder that is not a readable run, or a run that cannot be changed now; the
    message says why."""


def first_line(exc: BaseException) -> str:
    """An exception's message cut to its first line (its type's name when it has none):
    libraries' multi-line reports, as one line a person reads."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
