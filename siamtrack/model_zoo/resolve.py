"""Turn a weights argument (a file path or a model-zoo name) into a local, verified file.

Lookup order for a zoo name (:func:`resolve_weights`):

1. the local weights folder, ``weights_dir`` or ``$SIAMTRACK_WEIGHTS_DIR``, holding files
   under the entry's ``local_names`` (NanoTrack: ``nanotrackv3.pth``; pysot:
   ``<name>/model.pth``, ``experiments/<name>/model.pth`` or ``<name>.pth``). A file found
   there is checked against the entry's sha256 when it has one; a mismatch is an error and
   never falls through to the network.
2. the download cache, ``cache_dir`` or ``$SIAMTRACK_CACHE_DIR`` (default
   ``$XDG_CACHE_HOME/siamtrack/weights``, i.e. ``~/.cache/siamtrack/weights``), holding
   downloaded files under their upstream names. Cached files are verified on every use; one
   with a wrong sha256 (only possible if something else changed it, since downloads are
   verified before they are moved into place) is logged, deleted and downloaded again.
3. the entry's pinned URL, downloaded and verified into the cache
   (:func:`siamtrack.model_zoo.download.download_file`). Entries without a URL (pysot's,
   published without a checksum) are never downloaded: the error names the page to fetch
   the file from and where to put it.

Only the standard library and tqdm: no torch, no detectron2.
"""

import logging
import os
from pathlib import Path
from typing import Optional, Tuple

from ..errors import BadInputError
from ..utils.paths import PathLike
from .download import WeightsChecksumError, WeightsUnavailableError, download_file, verify_sha256
from .entries import ModelEntry, UnknownModelError, get_model, list_models

__all__ = [
    "ENV_WEIGHTS_DIR",
    "ENV_CACHE_DIR",
    "default_cache_dir",
    "find_weights",
    "resolve_weights",
]

ENV_WEIGHTS_DIR = "SIAMTRACK_WEIGHTS_DIR"
ENV_CACHE_DIR = "SIAMTRACK_CACHE_DIR"

logger = logging.getLogger(__name__)


def default_cache_dir() -> Path:
    """``$SIAMTRACK_CACHE_DIR``, else ``$XDG_CACHE_HOME/siamtrack/weights``, else
    ``~/.cache/siamtrack/weights`` (the folder may not exist yet)."""
    if os.environ.get(ENV_CACHE_DIR):
        return Path(os.environ[ENV_CACHE_DIR]).expanduser()
    cache_home = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache_home).expanduser() / "siamtrack" / "weights"


def find_weights(
    name: str, *, weights_dir: Optional[PathLike] = None, cache_dir: Optional[PathLike] = None
) -> Optional[Tuple[str, str]]:
    """Where :func:`resolve_weights` would find model ``name`` without downloading it.

    Nothing is verified or downloaded (it is what ``python -m siamtrack.model_zoo list``
    shows).

    Returns:
        ``(path, where)`` with ``where`` in ``{"local", "cache"}``, or None if neither holds it.

    Raises:
        UnknownModelError: ``name`` is not in the zoo.
        WeightsUnavailableError: the local weights folder is set but is not a folder.
    """
    entry = get_model(name)
    local = _find_local(entry, _local_dir(weights_dir))
    if local is not None:
        return str(local), "local"
    cached = _cache_path(entry, cache_dir)
    if cached is not None and cached.is_file():
        return str(cached), "cache"
    return None


def resolve_weights(
    name_or_path: PathLike,
    *,
    weights_dir: Optional[PathLike] = None,
    cache_dir: Optional[PathLike] = None,
    progress: bool = True,
    timeout_s: float = 60.0,
) -> str:
    """The local file to load for ``name_or_path``: an existing file, or a model-zoo name.

    An existing file path is returned unchanged (as given, not made absolute). A zoo name is
    looked up in the local weights folder, then the cache, then downloaded (module
    docstring); the returned path is absolute and its sha256 has been checked when the entry
    has one. URLs are not accepted.

    Args:
        name_or_path: file path, or a name from :func:`list_models` (e.g. ``"nanotrack_v3"``).
        weights_dir: local weights folder; default ``$SIAMTRACK_WEIGHTS_DIR`` (unset: none).
        cache_dir: download cache folder; default :func:`default_cache_dir`.
        progress: show a tqdm progress bar (bytes) while downloading.
        timeout_s: socket timeout of the download, in seconds.

    Returns:
        Path of the weights file.

    Raises:
        FileNotFoundError: ``name_or_path`` looks like a path (has a folder or an extension)
            but no such file exists.
        UnknownModelError: it is neither an existing file nor a zoo name (a ``KeyError`` and
            a ``ValueError``; the message lists the known names).
        ValueError: it is empty or a URL.
        WeightsChecksumError: a local, cached or downloaded file has the wrong sha256 (the
            message names the file, the expected and the actual digest).
        WeightsUnavailableError: the model is not available locally and cannot be
            downloaded (no pinned URL, HTTP error, no connection, timeout, truncated body);
            the message names the model, the URL or page, and where to put the file.
    """
    value = os.fspath(name_or_path)
    if not value:
        raise BadInputError("empty weights name or path (an empty MODEL.WEIGHTS means no weights)")
    if os.path.isfile(value):
        return value
    if "://" in value:
        raise BadInputError(
            f"weights '{value}': URLs are not accepted; give a file path or a model-zoo name "
            f"({', '.join(list_models())})"
        )
    try:
        entry = get_model(value)
    except UnknownModelError as exc:
        if os.sep in value or "/" in value or Path(value).suffix:
            kind = "is a folder, not a file" if os.path.isdir(value) else "does not exist"
            raise FileNotFoundError(
                f"weights file '{value}' {kind} (nor is it a model-zoo name; known names: "
                f"{', '.join(exc.known)})"
            ) from None
        raise
    return _resolve_entry(entry, weights_dir, cache_dir, progress, timeout_s)


def _resolve_entry(
    entry: ModelEntry,
    weights_dir: Optional[PathLike],
    cache_dir: Optional[PathLike],
    progress: bool,
    timeout_s: float,
) -> str:
    label = f"model '{entry.name}'"
    local_dir = _local_dir(weights_dir)
    local = _find_local(entry, local_dir)
    if local is not None:
        if entry.sha256 is not None:
            verify_sha256(
                local,
                entry.sha256,
                advice=(
                    f"{label} found in the local weights folder is not the published file; "
                    f"replace it with {entry.url or entry.source_page} or remove it"
                ),
            )
        return str(local.absolute())

    where_to_put = _where_to_put(entry, weights_dir)
    if not entry.downloadable:
        raise WeightsUnavailableError(
            f"{label} ({entry.file_name}, {entry.license}) is not downloaded automatically: "
            f"its publisher gives no checksum. Fetch it by hand from {entry.source_page} and "
            f"put it {where_to_put}"
        )

    cached = _cache_path(entry, cache_dir)
    if cached.is_file():
        try:
            verify_sha256(cached, entry.sha256, advice="deleting it and downloading again")
            return str(cached.absolute())
        except WeightsChecksumError as exc:
            logger.warning("%s: cached file is corrupted: %s", label, exc)
            cached.unlink(missing_ok=True)

    download_file(
        entry.url,
        cached,
        sha256=entry.sha256,
        size_bytes=entry.size_bytes,
        progress=progress,
        timeout_s=timeout_s,
        label=label,
        advice=f"download it by hand (sha256 {entry.sha256}) and put it {where_to_put}",
    )
    return str(cached.absolute())


def _local_dir(weights_dir: Optional[PathLike]) -> Optional[Path]:
    if weights_dir is not None:
        folder, origin = Path(weights_dir).expanduser(), "weights_dir"
    elif os.environ.get(ENV_WEIGHTS_DIR):
        folder, origin = Path(os.environ[ENV_WEIGHTS_DIR]).expanduser(), f"${ENV_WEIGHTS_DIR}"
    else:
        return None
    if not folder.is_dir():
        raise WeightsUnavailableError(
            f"local weights folder {folder} ({origin}) does not exist or is not a folder"
        )
    return folder


def _find_local(entry: ModelEntry, local_dir: Optional[Path]) -> Optional[Path]:
    if local_dir is None:
        return None
    for relative in entry.local_names:
        candidate = local_dir / relative
        if candidate.is_file():
            return candidate
    return None


def _cache_path(entry: ModelEntry, cache_dir: Optional[PathLike]) -> Optional[Path]:
    """Cache file of a downloadable entry (None for the others: nothing caches them)."""
    if not entry.downloadable:
        return None
    folder = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    return folder / entry.file_name


def _where_to_put(entry: ModelEntry, weights_dir: Optional[PathLike]) -> str:
    first, *others = entry.local_names
    names = f"{first} (or {', '.join(others)})" if others else first
    if weights_dir is not None:
        return f"in {weights_dir} as {names}"
    if os.environ.get(ENV_WEIGHTS_DIR):
        return f"in ${ENV_WEIGHTS_DIR} ({os.environ[ENV_WEIGHTS_DIR]}) as {names}"
    return f"in a folder as {names} and set ${ENV_WEIGHTS_DIR} to that folder"
