"""The one exception type for bad input; the CLI turns it into one line on stderr and exit status 2."""


class InputError(ValueError):
    """Bad input from the user: a missing, empty or undecodable corpus, an impossible parameter,
    an unwritable output folder. Its message is one line that says what is wrong and how to fix it."""
