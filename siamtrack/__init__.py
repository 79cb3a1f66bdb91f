"""siamtrack: Siamese single-object tracking (SiamRPN++, NanoTrack) for detectron2.

``import siamtrack`` registers its model families (meta-architectures, backbones, heads,
config keys, checkpoint formats, export layouts) and datasets with detectron2's and its own
registries (see below for when).

The bottom layers do not need torch: ``siamtrack.io`` (files, frames, sequences, results),
``siamtrack.evaluation`` (OPE metrics and protocols), ``siamtrack.utils.boxes``,
``siamtrack.errors``, ``siamtrack.cli`` and ``siamtrack.model_zoo`` import and work where torch
or detectron2 is not installed; only the registration (and with it the models and the trackers
built from configs or models) is then unavailable, and using it raises an ImportError that says
so. The tracking engine does not need torch either (``siamtrack.tracking.engine``, the
onnxruntime graphs of ``siamtrack.tracking.graph_backend``): ``siamtrack.tracking.runtime_record``
rebuilds a tracker that a config built once, from cached plain data, without torch.

Layers, bottom to top: a module imports only from its own layer and those below it
(``tests/test_layers.py`` reads this list and fails on an import that points up). Names are
modules or packages under ``siamtrack.``; ``tools/`` and ``benchmarks/`` sit on top.

1. ``errors``, ``utils``, ``io``, ``inference_options``
2. ``evaluation``, ``model_zoo``, ``config``, ``data``, ``modeling``
3. ``checkpoint``, ``export``
4. ``tracking``
5. ``families``
6. ``engine``, ``integrations``, ``pretrained``, ``cli``, ``collect_env``

``families`` holds one package per model family (``siamtrack/families/<name>/``), which
registers itself with the shared registries of the layers below; nothing below it imports a
family, so shared code knows the families only through their registrations and the contracts
of ``siamtrack.modeling.contracts`` (``docs/architecture.md``).

``import siamtrack`` itself imports neither torch nor detectron2 (``python -m
siamtrack.model_zoo list`` and the tools' ``--help`` answer at once). It registers siamtrack's
components the moment detectron2 is imported: at once if detectron2 already is, else through a
one-time import hook that runs the registration right after ``detectron2`` finishes importing
(or, when a siamtrack module was importing it, right after that module and those importing it
finish executing, so that the families never see a half-executed module). Either way, ``import siamtrack`` followed by any use of detectron2 (``build_model(cfg)``,
``DatasetCatalog.get("siamtrack_sample_train")``) finds siamtrack's entries. The public names
(``SiamTracker``, ``load_config``, ...) are imported on first use (PEP 562).
"""

import importlib
import importlib.abc
import sys
import warnings

__version__ = "0.2.0"

# Public name -> the module that defines it (imported on first use).
_LAZY_NAMES = {
    "add_siamtrack_config": "siamtrack.config",
    "load_config": "siamtrack.config",
    "MultiTargetTracker": "siamtrack.tracking.multi_target",
    "SiamTracker": "siamtrack.tracking.tracker",
}
# The modules whose import registers siamtrack's components with detectron2's registries
# (``siamtrack.families`` imports every model family, and each registers itself).
_REGISTERING_MODULES = ("siamtrack.data", "siamtrack.modeling", "siamtrack.families")
# detectron2 and fvcore script functions with torch.jit.script when their modules import
# (fvcore's focal loss, detectron2's box regression), which recent torch reports as deprecated
# every time: not the user's to fix, so siamtrack's imports of them ignore it (modules imported
# while the hook is installed, and the registration).
_SCRIPTING_PACKAGES = ("detectron2", "fvcore")
_SCRIPT_WARNING = "`torch.jit.script` is deprecated"
# How many siamtrack modules (imported while the hook is installed) are executing, and whether
# the registration waits for them to finish.
_executing_modules = 0
_registration_pending = False
_NEEDS_TORCH = ("torch", "torchvision", "detectron2", "fvcore")

__all__ = [
    "add_siamtrack_config",
    "load_config",
    "MultiTargetTracker",
    "SiamTracker",
    "__version__",
]


def register_with_detectron2() -> None:
    """Import the modules that register siamtrack's datasets and model families (their
    meta-architectures, backbones, heads, config keys, checkpoint formats and export layouts)
    with detectron2's and siamtrack's registries (idempotent; imports torch and detectron2)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", _SCRIPT_WARNING, FutureWarning)
        for module in _REGISTERING_MODULES:
            importlib.import_module(module)


class _WrappedLoader(importlib.abc.Loader):
    """A module's own loader, wrapped: everything is the wrapped loader's (get_filename,
    get_resource_reader, ...) but ``exec_module``, which subclasses extend; once executed, the
    module gets its own loader back (nothing of ours is left)."""

    def __init__(self, loader):
        self._loader = loader

    def __getattr__(self, name: str):
        return getattr(self._loader, name)

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module) -> None:
        try:
            self._loader.exec_module(module)
        finally:
            module.__loader__ = module.__spec__.loader = self._loader


class _RegisterAfterLoading(_WrappedLoader):
    """Wraps detectron2's own loader: executes the package, then registers siamtrack."""

    def exec_module(self, module) -> None:
        super().exec_module(module)
        _register_once_no_module_executes()


class _CountExecution(_WrappedLoader):
    """Wraps the loader of a siamtrack module: counts it as executing while it executes, and
    runs a pending registration once no siamtrack module is executing any more."""

    def exec_module(self, module) -> None:
        global _executing_modules
        _executing_modules += 1
        try:
            super().exec_module(module)
        finally:
            _executing_modules -= 1
        if _registration_pending and not _executing_modules:
            _register_once_no_module_executes()


class _WithoutScriptWarning(_WrappedLoader):
    """Wraps the loader of a detectron2 / fvcore module: executes it without the deprecation
    warning of ``torch.jit.script``."""

    def exec_module(self, module) -> None:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", _SCRIPT_WARNING, FutureWarning)
            super().exec_module(module)


def _register_once_no_module_executes() -> None:
    """Register now, or, while a siamtrack module is still executing (it imported detectron2),
    as soon as none is: a family imports shared modules, which must be complete by then."""
    global _registration_pending
    if _executing_modules:
        _registration_pending = True
        return
    _registration_pending = False
    _remove_import_hook()
    register_with_detectron2()


class _Detectron2ImportHook(importlib.abc.MetaPathFinder):
    """Gives ``detectron2``'s spec a loader that registers siamtrack once the package has
    executed (the hook stays until then: ``importlib.util.find_spec`` alone loads nothing),
    siamtrack modules' specs a loader that counts them while they execute, and the other
    detectron2 and fvcore modules one that keeps ``torch.jit.script``'s warning quiet."""

    def find_spec(self, fullname, path=None, target=None):
        package = fullname.split(".")[0]
        if package not in _SCRIPTING_PACKAGES and not fullname.startswith("siamtrack."):
            return None
        for finder in sys.meta_path:
            find_spec = getattr(finder, "find_spec", None)
            if finder is self or find_spec is None:
                continue
            spec = find_spec(fullname, path, target)
            if spec is not None:
                break
        else:
            return None  # not installed: the import fails as it would without us
        if spec.loader is not None and hasattr(spec.loader, "exec_module"):
            if fullname == "detectron2":
                wrapper = _RegisterAfterLoading
            else:
                wrapper = _CountExecution if package == "siamtrack" else _WithoutScriptWarning
            spec.loader = wrapper(spec.loader)
        return spec


def _remove_import_hook() -> None:
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _Detectron2ImportHook)]


if "detectron2" in sys.modules:
    register_with_detectron2()
elif not any(isinstance(f, _Detectron2ImportHook) for f in sys.meta_path):
    sys.meta_path.insert(0, _Detectron2ImportHook())


def __getattr__(name: str):
    if name not in _LAZY_NAMES:
        raise AttributeError(f"module 'siamtrack' has no attribute '{name}'")
    try:
        module = importlib.import_module(_LAZY_NAMES[name])
    except ImportError as error:
        if error.name is not None and error.name.split(".")[0] not in _NEEDS_TORCH:
            raise
        raise ImportError(
            f"siamtrack.{name} needs torch and detectron2 ({error}); see the README's install "
            "section"
        ) from error
    value = getattr(module, name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY_NAMES))
