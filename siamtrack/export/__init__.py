"""Exporting siamtrack models to ONNX, in the registered deployment layouts.

- siamtrack's (``onnx.py``): ``template.onnx`` + ``track.onnx`` for every family, run by the
  onnxruntime backend (``TRACKER.BACKEND onnxruntime``, ``TRACKER.ONNX_DIR``).
- the model families' own (``EXPORT_LAYOUT_REGISTRY``, ``layouts.py``), e.g. OpenCV's
  ``cv2.TrackerNano`` layout, registered by the NanoTrack family.

``deploy.py`` writes any layout into a folder (all or nothing) and checks the graphs against
the PyTorch model; ``tools/export_onnx.py`` is its command line. ``graph_cache.py`` keeps the
graphs the onnxruntime backend runs on disk, so a model is exported once.

``graphs.py`` (the graphs as data, their runtime form, onnxruntime sessions) and
``cache_entries.py`` (where the cache is, how an entry is written and checked) need no torch:
the torch-free tracker uses them. The names below are imported on first use (PEP 562), so
importing one of those modules does not load the exporters (torch).
"""

import importlib

# Public name -> the submodule that defines it (imported on first use).
_LAZY_NAMES = {
    "OutputDifference": "deploy",
    "check_export": "deploy",
    "check_no_previous_export": "deploy",
    "existing_export_files": "deploy",
    "export_graphs": "deploy",
    "export_layouts": "deploy",
    "output_difference": "deploy",
    "random_crops": "deploy",
    "save_export": "deploy",
    "cached_graphs": "graph_cache",
    "graph_cache_dir": "graph_cache",
    "model_cache_key": "graph_cache",
    "EXPORT_LAYOUT_REGISTRY": "layouts",
    "ExportLayout": "layouts",
    "export_layout": "layouts",
    "export_layout_of": "layouts",
    "register_export_layout": "layouts",
    "TEMPLATE_FILE": "onnx",
    "TRACK_FILE": "onnx",
    "SiameseGraphs": "onnx",
    "create_session": "onnx",
    "export_siamese_graphs": "onnx",
    "import_onnxruntime": "onnx",
    "load_siamese_graphs": "onnx",
    "runtime_graphs": "onnx",
}

__all__ = [
    "EXPORT_LAYOUT_REGISTRY",
    "ExportLayout",
    "OutputDifference",
    "SiameseGraphs",
    "TEMPLATE_FILE",
    "TRACK_FILE",
    "cached_graphs",
    "check_export",
    "check_no_previous_export",
    "create_session",
    "existing_export_files",
    "export_graphs",
    "export_layout",
    "export_layout_of",
    "export_layouts",
    "export_siamese_graphs",
    "graph_cache_dir",
    "import_onnxruntime",
    "load_siamese_graphs",
    "model_cache_key",
    "output_difference",
    "random_crops",
    "register_export_layout",
    "runtime_graphs",
    "save_export",
]


def __getattr__(name: str):
    if name not in _LAZY_NAMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_LAZY_NAMES[name]}", __name__), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY_NAMES))
