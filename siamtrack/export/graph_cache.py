"""The onnxruntime backend's graphs cached on disk, so that a model is exported once.

Building a tracker with ``TRACKER.BACKEND onnxruntime`` (the NanoTrack configs' default) and
no ``TRACKER.ONNX_DIR`` needs the model's graphs in the backend's runtime form
(``onnx.runtime_graphs``). Exporting them takes 1.5-2.5 s for NanoTrack, so they are kept in
``<cache root>/onnx/<key>/`` (the cache root of the model zoo: ``$SIAMTRACK_CACHE_DIR``, else
``$XDG_CACHE_HOME/siamtrack``, else ``~/.cache/siamtrack``) and read back by later builds.

- **Key**: sha256 of everything that shapes the graphs: the model's class, its module tree
  (``repr``) and the plain settings of every submodule (crop sizes, strides, input format,
  ...), the content of its state dict and buffers (names, dtypes, shapes, bytes), the source
  code that decides what is traced (siamtrack's model code, the exporter, the file of every
  module class in the model), the graph format and the siamtrack, torch and onnx versions. Another weight, config or version gives another
  entry; nothing is ever looked up by file name or date.
- **Entry**: ``template.onnx``, ``track.onnx`` and ``manifest.json`` (the key, the graphs'
  metadata, each file's sha256, and the sha256 of all that). An entry is used only when the
  manifest's own hash, its key and every file's hash check out; otherwise (a truncated or
  edited file, an entry of another key) it is exported again and replaced, with a warning.
- **Writes are atomic**: the files go into a hidden temporary folder next to the entry, which
  is renamed into place when complete, so a crash or a concurrent build never leaves a
  half-written entry (two processes exporting the same model at once: the first rename wins,
  the second's copy is dropped).
- **A cache that cannot be written** (read-only home, a file in the way) does not stop
  tracking: the graphs are exported in memory as before and one warning per folder says so.

Where the cache is, and how entries are written and checked, is ``cache_entries.py`` (no torch:
the torch-free tracker reads the entries this module writes); this module adds the key, which
needs the model.
"""

import hashlib
import importlib.metadata
import inspect
import logging
from dataclasses import replace
from pathlib import Path
from typing import Dict, List, Optional

import torch
from torch import nn

from .. import __version__
from ..utils.paths import PathLike
from .cache_entries import (
    ENV_CACHE_DIR,
    GRAPH_FORMAT,
    MANIFEST_FILE,
    CacheEntryError,
    cache_root,
    graph_cache_dir,
    read_cache_entry,
    write_cache_entry,
)
from .onnx import OPSET, SiameseGraphs, export_siamese_graphs, runtime_graphs

__all__ = [
    "GRAPH_FORMAT",
    "ENV_CACHE_DIR",
    "MANIFEST_FILE",
    "cache_root",
    "graph_cache_dir",
    "model_cache_key",
    "cached_graphs",
    "read_cache_entry",
    "CacheEntryError",
]

logger = logging.getLogger(__name__)


_PACKAGE = Path(__file__).resolve().parents[1]
# The source files whose code decides what the exported graphs contain.
_GRAPH_SOURCES = (
    "modeling",
    "families",
    "export/onnx.py",
    "export/graphs.py",
    "export/cache_entries.py",
    "export/graph_cache.py",
)
_unwritable_warned = set()  # cache folders already warned about in this process


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "none"


def _source_files(model: nn.Module) -> List[Path]:
    """The source files that decide what the exported graphs contain: siamtrack's model code,
    the exporter, and the file of every module class in ``model`` (also a user's own)."""
    files = set()
    for relative in _GRAPH_SOURCES:
        path = _PACKAGE / relative
        files.update(path.rglob("*.py") if path.is_dir() else [path] if path.is_file() else [])
    for module in model.modules():
        try:
            files.add(Path(inspect.getsourcefile(type(module))).resolve())
        except (TypeError, OSError):  # a class without a source file (built-in, generated)
            continue
    return sorted(files)


def _plain(value) -> Optional[str]:
    """``repr`` of a plain setting (number, string, bool, None, tuples/lists of them)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return repr(value)
    if isinstance(value, (tuple, list)):
        items = [_plain(v) for v in value]
        return None if None in items else f"{type(value).__name__}({', '.join(items)})"
    return None


def _tensor_bytes(tensor: torch.Tensor) -> bytes:
    tensor = tensor.detach().to("cpu").contiguous()
    return tensor.reshape(-1).view(torch.uint8).numpy().tobytes() if tensor.numel() else b""


def model_cache_key(model: nn.Module) -> str:
    """Hex sha256 of what shapes the model's graphs (module docstring)."""
    digest = hashlib.sha256()

    def add(*parts) -> None:
        for part in parts:
            data = part if isinstance(part, bytes) else str(part).encode()
            digest.update(len(data).to_bytes(8, "little"))
            digest.update(data)

    add(GRAPH_FORMAT, OPSET, __version__, torch.__version__, _version("onnx"))
    for path in _source_files(model):
        add(path.name, path.read_bytes())
    add(f"{type(model).__module__}.{type(model).__qualname__}", repr(model))
    for name, module in model.named_modules():
        settings = sorted(
            (key, text)
            for key, value in vars(module).items()
            if key != "training"
            for text in [_plain(value)]
            if text is not None
        )
        add(name, type(module).__qualname__, repr(settings))
    tensors: Dict[str, torch.Tensor] = dict(model.named_buffers())
    tensors.update(model.state_dict())
    for name in sorted(tensors):
        tensor = tensors[name]
        add(name, tensor.dtype, tuple(tensor.shape), _tensor_bytes(tensor))
    return digest.hexdigest()


def cached_graphs(model: nn.Module, cache_dir: Optional[PathLike] = None) -> SiameseGraphs:
    """The model's graphs in the runtime form, from the cache or exported (and then cached).

    Args:
        model: a ``SiameseNetwork`` (not modified).
        cache_dir: folder of the entries (default ``graph_cache_dir()``).

    Returns:
        ``SiameseGraphs`` in the runtime form (``onnx.runtime_graphs``).
    """
    folder = Path(cache_dir) if cache_dir is not None else graph_cache_dir()
    key = model_cache_key(model)
    entry = folder / key
    unusable = False
    if entry.exists():
        try:
            return read_cache_entry(entry, key)
        except CacheEntryError as error:
            logger.warning(f"ONNX graph cache entry {entry} is unusable ({error}): exporting again")
            unusable = True
    graphs = runtime_graphs(export_siamese_graphs(model))
    try:
        write_cache_entry(entry, key, graphs, replace=unusable)
        graphs = replace(graphs, source=str(entry))
    except OSError as error:
        if str(folder) not in _unwritable_warned:
            _unwritable_warned.add(str(folder))
            logger.warning(
                f"cannot write the ONNX graph cache in {folder} ({error}); the graphs are "
                f"exported each time a tracker is built (set ${ENV_CACHE_DIR} to a writable "
                "folder to keep them)"
            )
    return graphs
