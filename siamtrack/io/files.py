"""Writing files without ever leaving a truncated one behind (standard library only).

Every output siamtrack writes (result and boxes files, json, checkpoints, ONNX graphs, videos)
is written under a hidden temporary name in the target's folder and renamed into place in one
step, so an interruption leaves the previous file (or nothing), never half a file. The final
file gets the permissions a plain ``open()`` would give it (``0o666`` minus the umask), not
the ``0o600`` of ``tempfile.mkstemp``. Whether an existing file may be replaced is decided by
the caller (``check_output_path``, ``OutputExistsError``); the CLIs turn that into ``--force``.
"""

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Iterator

from ..errors import BadInputError, OutputExistsError
from ..utils.paths import PathLike

__all__ = [
    "OutputExistsError",
    "atomic_output",
    "check_output_path",
    "commit_temporary",
    "file_mode",
    "make_temporary",
    "write_json",
    "write_text",
]


def _umask() -> int:
    """The process umask, read from /proc when possible (setting it to read it is racy)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def file_mode() -> int:
    """Permissions of a new file: ``0o666`` minus the process umask."""
    return 0o666 & ~_umask()


def make_temporary(path: PathLike, suffix: str = ".partial") -> Path:
    """A new empty hidden file next to ``path`` (its folder is created)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(handle)
    return Path(temp_name)


def commit_temporary(temp_path: PathLike, path: PathLike) -> Path:
    """Give ``temp_path`` a regular file's permissions and rename it to ``path`` (atomic)."""
    os.chmod(temp_path, file_mode())
    os.replace(temp_path, path)
    return Path(path)


@contextlib.contextmanager
def atomic_output(path: PathLike, suffix: str = ".partial") -> Iterator[Path]:
    """Yield a temporary path next to ``path``; write to it inside the ``with`` block.

    On normal exit the temporary file replaces ``path`` in one rename (creating the folder if
    needed); on any error or interruption it is deleted and ``path`` is left as it was.
    """
    temp_path = make_temporary(path, suffix)
    try:
        yield temp_path
        commit_temporary(temp_path, path)
    finally:
        temp_path.unlink(missing_ok=True)


def write_text(path: PathLike, text: str, overwrite: bool = False, what: str = "file") -> Path:
    """Write ``text`` to ``path`` atomically; ``OutputExistsError`` if it exists and not
    ``overwrite`` (then nothing is touched). Same default as ``write_json``: never replace a
    file unless asked."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise OutputExistsError(path, what)
    with atomic_output(path) as temp_path:
        temp_path.write_text(text, newline="")
    return path


def write_json(data, path: PathLike, overwrite: bool = False, what: str = "json file") -> Path:
    """Write ``data`` as compact JSON to ``path`` atomically; ``OutputExistsError`` if it exists
    and not ``overwrite``."""
    return write_text(path, json.dumps(data, separators=(",", ":")), overwrite, what)


def check_output_path(path: PathLike, overwrite: bool, what: str = "output") -> Path:
    """Check that ``path`` can be written: its folder exists (it is created) and is writable,
    and no file is there unless ``overwrite`` (``OutputExistsError``). Returns the Path."""
    path = Path(path)
    if path.is_dir():
        raise BadInputError(f"{what} '{path}' is a folder; give a file name")
    if path.exists() and not overwrite:
        raise OutputExistsError(path, what)
    folder = path.parent if str(path.parent) else Path(".")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OSError(f"cannot create the folder of {what} '{path}': {error}") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise PermissionError(f"folder '{folder}' of {what} '{path}' is not writable")
    return path
