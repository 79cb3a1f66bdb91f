"""``PathLike``: what siamtrack's functions accept as a file or folder path."""

import os
from typing import Union

__all__ = ["PathLike"]

PathLike = Union[str, os.PathLike]
