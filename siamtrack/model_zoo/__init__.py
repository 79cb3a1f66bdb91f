"""Named pretrained weights: ``MODEL.WEIGHTS nanotrack_v3`` instead of a file path.

``resolve_weights(name_or_path)`` returns a file to load: an existing path unchanged, or a
zoo name looked up in ``$SIAMTRACK_WEIGHTS_DIR``, then the download cache
(``~/.cache/siamtrack/weights``), then downloaded from its pinned URL and verified (sha256).
``python -m siamtrack.model_zoo list`` shows the entries; ``... download NAME`` fetches one.

This package uses only the standard library and tqdm (no torch, no detectron2).
"""

from .download import WeightsChecksumError, WeightsUnavailableError, download_file, sha256_of_file
from .entries import ModelEntry, UnknownModelError, get_config_file, get_model, list_models
from .resolve import (
    ENV_CACHE_DIR,
    ENV_WEIGHTS_DIR,
    default_cache_dir,
    find_weights,
    resolve_weights,
)

__all__ = [
    "ENV_CACHE_DIR",
    "ENV_WEIGHTS_DIR",
    "ModelEntry",
    "UnknownModelError",
    "WeightsChecksumError",
    "WeightsUnavailableError",
    "default_cache_dir",
    "download_file",
    "find_weights",
    "get_config_file",
    "get_model",
    "list_models",
    "resolve_weights",
    "sha256_of_file",
]
