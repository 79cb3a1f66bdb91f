"""Named pretrained weights: ``MODEL.WEIGHTS nanotrack_v3`` instead of a file path.

``resolve_weights(name_or_path)`` returns a file to load: an existing path unchanged, or a
zoo name looked up in ``$SIAMTRACK_WEIGHTS_DIR``, then the download cache
(``~/.cache/siamtrack/weights``), then downloaded from its pinned URL and verified (sha256).
``python -m siamtrack.model_zoo list`` shows the entries; ``... download NAME`` fetches one.

As ``detectron2.model_zoo``, names give configs and models: ``get_config_file(name)`` (the path
of a config shipped inside the package), ``get_config(name, trained=True)`` (the loaded config,
``MODEL.WEIGHTS`` set to the zoo name) and ``get(name, trained=True, device=None)`` (the built
model with its weights loaded); ``name`` is a zoo name (``"nanotrack_v3"``) or a config path
relative to the configs folder (``"nanotrack/nanotrack_v3.yaml"``).

This package uses only the standard library and tqdm (no torch, no detectron2). ``get_config``
and ``get`` need torch, detectron2 and the config and checkpoint layers, which sit above this
one (``siamtrack.checkpoint`` imports it to resolve weights): they live in
``siamtrack.pretrained`` and this module's ``__getattr__`` (PEP 562) forwards the two names
there on first use, so imports keep pointing down and ``import siamtrack.model_zoo`` stays
torch-free. They are not in ``__all__``: a star import must not load torch.
"""

import importlib

from ..errors import MissingDependencyError
from .download import WeightsChecksumError, WeightsUnavailableError, download_file, sha256_of_file
from .entries import (
    ModelEntry,
    UnknownModelError,
    configs_dir,
    get_config_file,
    get_model,
    get_weights_name,
    list_models,
)
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
    "configs_dir",
    "default_cache_dir",
    "download_file",
    "find_weights",
    "get_config_file",
    "get_model",
    "get_weights_name",
    "list_models",
    "resolve_weights",
    "sha256_of_file",
]

# Names defined in a higher layer (see the module docstring), by the module that defines them.
_FORWARDED = {"get_config": "siamtrack.pretrained", "get": "siamtrack.pretrained"}


def __getattr__(name: str):
    if name not in _FORWARDED:
        raise AttributeError(f"module 'siamtrack.model_zoo' has no attribute '{name}'")
    try:
        module = importlib.import_module(_FORWARDED[name])
    except ImportError as error:
        raise MissingDependencyError(
            f"siamtrack.model_zoo.{name} needs torch and detectron2 ({error}); see the "
            "README's install section"
        ) from error
    return getattr(module, name)


def __dir__():
    return sorted(set(globals()) | set(_FORWARDED))
