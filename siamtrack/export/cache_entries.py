"""Entries of siamtrack's on-disk cache: where it is, and how an entry is written and trusted
(standard library only: the torch-free tracker reads entries with this module alone).

The cache root is the model zoo's: ``$SIAMTRACK_CACHE_DIR``, else ``$XDG_CACHE_HOME/siamtrack``,
else ``~/.cache/siamtrack``. The exported graphs of the onnxruntime backend live in
``<root>/onnx/<key>/`` (``graph_cache.py`` computes the key from the model):

- **Entry**: ``template.onnx``, ``track.onnx`` and ``manifest.json`` (the key, the graphs'
  metadata, each file's sha256, and the sha256 of all that). ``read_cache_entry`` returns the
  graphs only when the manifest's own hash, its key and every file's hash check out, and
  raises ``CacheEntryError`` otherwise.
- **Writes are atomic** (``write_cache_entry``): the files go into a hidden temporary folder
  next to the entry, which is renamed into place when complete, so a crash or a concurrent
  build never leaves a half-written entry (two processes writing the same entry at once: the
  first rename wins, the second's copy is dropped).

``signed_json`` / ``read_signed_json`` are the same rule for a one-file record (a JSON document
with its own sha256), which the trackers' runtime records use (``tracking/runtime_record.py``).
"""

import hashlib
import json
import os
import secrets
import shutil
import time
from pathlib import Path
from typing import Any, Dict

from ..utils.paths import PathLike
from .graphs import TEMPLATE_FILE, TRACK_FILE, SiameseGraphs

__all__ = [
    "ENV_CACHE_DIR",
    "GRAPH_FORMAT",
    "MANIFEST_FILE",
    "CacheEntryError",
    "cache_root",
    "graph_cache_dir",
    "read_cache_entry",
    "read_signed_json",
    "sha256_hex",
    "signed_json",
    "write_cache_entry",
]

# Bump when the exported or runtime form of the graphs changes without a code change that the
# key sees (the key hashes the source of the modules that trace the model).
GRAPH_FORMAT = 1
ENV_CACHE_DIR = "SIAMTRACK_CACHE_DIR"  # the model zoo's variable (model_zoo/resolve.py)
MANIFEST_FILE = "manifest.json"


class CacheEntryError(ValueError):
    """A cache entry that cannot be trusted (missing file, wrong hash, another key)."""


def cache_root() -> Path:
    """``$SIAMTRACK_CACHE_DIR``, else ``$XDG_CACHE_HOME/siamtrack``, else
    ``~/.cache/siamtrack`` (the model zoo's cache; it may not exist yet)."""
    if os.environ.get(ENV_CACHE_DIR):
        return Path(os.environ[ENV_CACHE_DIR]).expanduser()
    cache_home = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache_home).expanduser() / "siamtrack"


def graph_cache_dir() -> Path:
    """Folder of the cached graphs: ``<cache root>/onnx``."""
    return cache_root() / "onnx"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def signed_json(content: Dict[str, Any], indent: int = 1) -> bytes:
    """``{"content": content, "sha256": <sha256 of content as sorted JSON>}`` as bytes."""
    text = json.dumps(content, sort_keys=True)
    document = {"content": content, "sha256": sha256_hex(text.encode())}
    return json.dumps(document, indent=indent).encode()


def read_signed_json(data: bytes, what: str) -> Dict[str, Any]:
    """The content of ``signed_json`` bytes, its hash checked.

    Raises:
        CacheEntryError: not such a document, or the hash does not match (``what`` names it).
    """
    try:
        document = json.loads(data)
        content = document["content"]
        if sha256_hex(json.dumps(content, sort_keys=True).encode()) != document["sha256"]:
            raise CacheEntryError(f"{what} does not match its sha256")
    except CacheEntryError:
        raise
    except (ValueError, KeyError, TypeError) as error:
        raise CacheEntryError(f"{what}: {type(error).__name__}: {error}") from None
    if not isinstance(content, dict):
        raise CacheEntryError(f"{what} holds no record")
    return content


def _manifest(key: str, graphs: SiameseGraphs) -> bytes:
    return signed_json(
        {
            "key": key,
            "format": GRAPH_FORMAT,
            "metadata": dict(graphs.metadata),
            "files": {
                TEMPLATE_FILE: sha256_hex(graphs.template),
                TRACK_FILE: sha256_hex(graphs.track),
            },
        }
    )


def read_cache_entry(folder: PathLike, key: str) -> SiameseGraphs:
    """The graphs of the entry in ``folder``, every hash checked against its manifest
    (``source``: the folder).

    Raises:
        CacheEntryError: a file is missing or unreadable, a hash does not match, or the entry
            belongs to another key or graph format.
    """
    folder = Path(folder)
    try:
        content = read_signed_json((folder / MANIFEST_FILE).read_bytes(), MANIFEST_FILE)
        if content["key"] != key or content["format"] != GRAPH_FORMAT:
            raise CacheEntryError("it belongs to another model or graph format")
        blobs = {}
        for name in (TEMPLATE_FILE, TRACK_FILE):
            data = (folder / name).read_bytes()
            if sha256_hex(data) != content["files"][name]:
                raise CacheEntryError(f"{name} does not match the sha256 in {MANIFEST_FILE}")
            blobs[name] = data
        metadata = {str(k): str(v) for k, v in content["metadata"].items()}
    except CacheEntryError:
        raise
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise CacheEntryError(f"{type(error).__name__}: {error}") from None
    return SiameseGraphs(blobs[TEMPLATE_FILE], blobs[TRACK_FILE], metadata, str(folder))


def write_cache_entry(folder: Path, key: str, graphs: SiameseGraphs, *, replace: bool) -> None:
    """Write the entry into a temporary folder next to ``folder``, then rename it into place;
    ``replace``: an unusable entry is there and is swapped out. An entry that another process
    completed meanwhile is kept (it holds the same graphs).

    Raises:
        OSError: the cache cannot be written.
    """
    folder.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(folder.parent)
    temp = folder.parent / f".{folder.name}.{secrets.token_hex(4)}.partial"
    os.mkdir(temp)
    try:
        (temp / TEMPLATE_FILE).write_bytes(graphs.template)
        (temp / TRACK_FILE).write_bytes(graphs.track)
        (temp / MANIFEST_FILE).write_bytes(_manifest(key, graphs))
        if replace and folder.exists():  # move the unusable entry aside, then swap
            stale = folder.parent / f".{folder.name}.{secrets.token_hex(4)}.stale"
            os.rename(folder, stale)
            shutil.rmtree(stale, ignore_errors=True)
        try:
            os.rename(temp, folder)
        except OSError:
            if not (folder / MANIFEST_FILE).is_file():
                raise  # not another process's complete entry: a real failure
    finally:
        shutil.rmtree(temp, ignore_errors=True)


def remove_leftovers(cache_dir: Path, max_age_s: float = 86400.0) -> None:
    """Remove temporary files and folders of writes that died (a killed process) over a day
    ago."""
    now = time.time()
    for path in cache_dir.glob(".*.partial"):
        try:
            if now - path.stat().st_mtime > max_age_s:
                if path.is_dir():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink(missing_ok=True)
        except OSError:
            continue
