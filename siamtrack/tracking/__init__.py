"""Online single-object tracking with a SiameseRPN model (``SiamTracker``)."""

from .options import InferenceOptions
from .results import TrackResult, TrackSequenceResult
from .tracker import SiamTracker
from .video_runner import VideoTrackingSummary, track_video

__all__ = [
    "InferenceOptions",
    "SiamTracker",
    "TrackResult",
    "TrackSequenceResult",
    "VideoTrackingSummary",
    "track_video",
]
