"""Writing files without ever leaving a truncated one behind (pure standard library)."""

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator, Union


@contextlib.contextmanager
def atomic_output(path: Union[str, os.PathLike], suffix: str = ".partial") -> Iterator[Path]:
    """Yield a temporary path next to ``path``; write to it inside the ``with`` block.

    On normal exit the temporary file replaces ``path`` in one rename (creating the folder if
    needed); on any error or interruption it is deleted and ``path`` is left as it was.
    Whether an existing ``path`` may be replaced is the caller's check.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(handle)
    temp_path = Path(temp_name)
    try:
        yield temp_path
        os.replace(temp_path, path)
    finally:
        temp_path.unlink(missing_ok=True)
