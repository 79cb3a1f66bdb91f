"""siamtrack: Siamese single-object tracking (SiamRPN++, NanoTrack) for detectron2.

``import siamtrack`` registers its meta-architectures, backbones, heads and datasets with
detectron2's registries (it imports torch and detectron2).

The bottom layers do not need torch: ``siamtrack.io`` (files, frames, sequences, results),
``siamtrack.evaluation`` (OPE metrics and protocols), ``siamtrack.utils.boxes`` and
``siamtrack.model_zoo`` import and work where torch or detectron2 is not installed; only the
registration (and with it the models and trackers) is then unavailable, and using it raises an
ImportError that says so. Layers, bottom to top: ``utils.boxes`` / ``io`` -> ``evaluation``,
``data``, ``modeling`` -> ``checkpoint``, ``export`` -> ``tracking`` -> ``engine``,
``integrations``; ``tools/`` and ``benchmarks/`` sit on top.
"""

import warnings

__version__ = "0.2.0"

try:
    import detectron2  # noqa: F401  (and with it torch)
except ImportError as error:  # only the torch-free layers are usable
    _REGISTRATION_ERROR = error
else:
    _REGISTRATION_ERROR = None
    with warnings.catch_warnings():
        # fvcore scripts its focal loss with torch.jit.script when detectron2.layers imports
        # it, which recent torch reports as deprecated on every import: not the user's to fix.
        warnings.filterwarnings("ignore", "`torch.jit.script` is deprecated", FutureWarning)
        from . import data  # noqa: F401  registers the bundled sample and standard datasets
        from . import modeling  # noqa: F401  registers backbones, heads, meta-architectures
    from .config import add_siamtrack_config, load_config
    from .tracking import MultiTargetTracker, SiamTracker

__all__ = [
    "add_siamtrack_config",
    "load_config",
    "MultiTargetTracker",
    "SiamTracker",
    "__version__",
]


def __getattr__(name: str):
    if _REGISTRATION_ERROR is not None and name in __all__:
        raise ImportError(
            f"siamtrack.{name} needs torch and detectron2 ({_REGISTRATION_ERROR}); see the "
            "README's install section"
        ) from _REGISTRATION_ERROR
    raise AttributeError(f"module 'siamtrack' has no attribute '{name}'")
