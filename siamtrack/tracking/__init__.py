"""Online tracking: ``SiamTracker`` around a stateless ``SiameseNetwork``, the one per-frame
loop (``loop.py``), network backends (PyTorch, onnxruntime), OpenCV's trackers as baselines and
the video runner behind ``tools/track_video.py``."""

from .loop import FrameRecord, iterate_tracking, track_frames
from .multi_target import MultiTargetTracker
from .opencv_trackers import OpenCVTracker, available_opencv_trackers
from .options import InferenceOptions
from .results import INIT_FRAME_SCORE, MultiTrackResult, TrackResult, TrackSequenceResult
from .tracker import SiamTracker
from .video_runner import AnnotatedVideoWriter, BoxesFileWriter, VideoTrackingSummary, track_video

__all__ = [
    "INIT_FRAME_SCORE",
    "AnnotatedVideoWriter",
    "BoxesFileWriter",
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
