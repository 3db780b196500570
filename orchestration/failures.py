"""The failure the command line reports in one line, in a module light enough for
commands that never start Dagster (`billing portal`) to import."""


class RunFailed(Exception):
    """A run step failed or a command cannot start; the message is the root cause, in one line."""
