"""The one exception a user can cause by handing the loaders bad input."""


class InputError(ValueError):
    """Bad catalog, reference data or landing file.

    The message always names the file, the key path or line, and the rule
    broken, so it can be shown to the user as is (one line, no traceback).
    """
