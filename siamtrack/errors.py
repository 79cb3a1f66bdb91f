"""The errors siamtrack raises for bad input (standard library only, the bottom layer).

``SiamtrackError`` is the base of every error that means "the input cannot be used": a file,
a config, an argument or an environment that lacks an optional package. Its message says what
is wrong and names the thing (the file, the key, the flag). The command-line tools
(``siamtrack.cli.run_tool``) print such an error as one line and exit with code 2; any other
exception is a bug and keeps its traceback.

Each class also derives from the built-in exception its callers expect (``ValueError``,
``KeyError``, ``ImportError``, ...), so ``except ValueError`` keeps working. Errors of one
subject live next to it (``siamtrack.io.images.UnreadableImageError``,
``siamtrack.checkpoint.InvalidCheckpointError``, ...); those the tools themselves need to
recognise live here, so that ``siamtrack.cli`` imports nothing else.
"""

import os
from pathlib import Path
from typing import Union

__all__ = [
    "BadInputError",
    "ConfigError",
    "MissingDependencyError",
    "OutputExistsError",
    "SiamtrackError",
    "UnknownNameError",
]


class SiamtrackError(Exception):
    """Base of siamtrack's bad-input errors (the message names what is wrong)."""


class BadInputError(SiamtrackError, ValueError):
    """A value, argument or file content that siamtrack cannot use."""


class ConfigError(BadInputError):
    """A config file or ``KEY VALUE`` override that cannot be read or applied."""


class UnknownNameError(SiamtrackError, KeyError):
    """A name that is not registered (a dataset, a model zoo entry); the message lists the
    known names or how to register one."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class MissingDependencyError(SiamtrackError, ImportError):
    """An optional package that the requested feature needs is not installed (the message
    says how to install it)."""


class OutputExistsError(SiamtrackError, FileExistsError):
    """An output file exists and replacing it was not allowed (the tools add "pass --force
    to replace it").

    Attributes:
        path: the existing file.
    """

    def __init__(self, path: Union[str, os.PathLike], what: str = "output"):
        self.path = Path(path)
        super().__init__(f"{what} '{self.path}' already exists")
