"""The one error type a user meets: a sentence naming the file, line or key and the fix."""


class BenchError(Exception):
    """Bad data, bad config or a missing model, explained in one sentence."""


class DataError(BenchError):
    """A data file is malformed, uses an unknown label or misses a field."""

    def __init__(self, path, message: str, line: int | None = None, fix: str = ""):
        where = f"{path}:{line}" if line is not None else f"{path}"
        self.path, self.line = str(path), line
        super().__init__(f"{where}: {message}" + (f" — {fix}" if fix else ""))
