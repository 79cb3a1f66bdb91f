"""Online tracking: ``SiamTracker`` around a stateless ``SiameseNetwork``, the one per-frame
loop (``loop.py``), network backends (PyTorch, onnxruntime), OpenCV's trackers as baselines and
the video runner behind ``tools/track_video.py``.

The per-frame engine and everything it runs on need no torch: ``engine.py``
(``MultiTargetEngine``), ``single_target.py``, ``search.py``, ``presence.py``,
``redetection.py``, ``postprocess.py``, ``graph_backend.py`` (onnxruntime), ``loop.py``,
``results.py``, ``video_runner.py``, ``confidence_plot.py`` and ``runtime_record.py`` (a
tracker rebuilt from a cached runtime record, without torch or detectron2). Building a tracker
from a config or a model (``SiamTracker``, ``MultiTargetTracker``, ``backends.py``) needs
torch. The names below are imported on first use (PEP 562), so importing a torch-free
submodule loads no torch.
"""

import importlib

# Public name -> the submodule that defines it (imported on first use).
_LAZY_NAMES = {
    "INIT_FRAME_SCORE": "results",
    "AnnotatedVideoWriter": "video_runner",
    "BoxesFileWriter": "video_runner",
    "ConfidencePlotWriter": "video_runner",
    "FrameRecord": "loop",
    "InferenceOptions": "..inference_options",
    "MultiTargetTracker": "multi_target",
    "MultiTrackResult": "results",
    "OpenCVTracker": "opencv_trackers",
    "SiamTracker": "tracker",
    "TrackResult": "results",
    "TrackSequenceResult": "results",
    "VideoTrackingSummary": "video_runner",
    "available_opencv_trackers": "opencv_trackers",
    "iterate_tracking": "loop",
    "track_frames": "loop",
    "track_video": "video_runner",
}

__all__ = [
    "INIT_FRAME_SCORE",
    "AnnotatedVideoWriter",
    "BoxesFileWriter",
    "ConfidencePlotWriter",
    "FrameRecord",
    "InferenceOptions",
    "MultiTargetTracker",
    "MultiTrackResult",
    "OpenCVTracker",
    "SiamTracker",
    "TrackResult",
    "TrackSequenceResult",
    "VideoTrackingSummary",
    "available_opencv_trackers",
    "iterate_tracking",
    "track_frames",
    "track_video",
]


def __getattr__(name: str):
    if name not in _LAZY_NAMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    where = _LAZY_NAMES[name]
    module = importlib.import_module(where if where.startswith(".") else f".{where}", __name__)
    value = getattr(module, name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY_NAMES))
