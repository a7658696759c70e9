"""The one exception type for bad input; the CLI turns it into one line on stderr and exit status 2."""
from __future__ import annotations


class InputError(ValueError):
    """Bad input: a missing, empty or undecodable corpus, an impossible parameter, an unwritable output
    folder. Its message is one line that says what is wrong and how to fix it.

    Attributes:
        parameter: the library parameter the message is about (e.g. ``"generations"``), or None. The
            message then starts with that name; the command line replaces it with the matching flag.
    """

    def __init__(self, message: str, parameter: str | None = None) -> None:
        super().__init__(message)
        self.parameter = parameter


class Terminated(KeyboardInterrupt):
    """Raised in the main thread when the process receives SIGTERM (the command line installs the
    handler), so a terminated run cleans up exactly as an interrupted one does."""
