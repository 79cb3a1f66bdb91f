"""OpenCV's built-in trackers as baselines, behind the ``SiamTracker`` interface.

Which exist depends on the installed OpenCV: ``opencv-python`` has MIL; ``opencv-contrib-python``
adds CSRT, KCF, MedianFlow, MOSSE, Boosting, TLD (some under ``cv2.legacy``). ``Nano``
(``cv2.TrackerNano``, OpenCV >= 4.7) needs its two ONNX files: ``OpenCVTracker("Nano",
model_files=(backbone, neckhead))`` (NanoTrack's official v1/v2 exports, or siamtrack's
``tools/export_onnx.py --layout opencv-nano``). DaSiamRPN and Vit are not offered. They put
numbers in context; they are not what siamtrack is for.

OpenCV trackers work on integer rectangles and report only success or failure: the score is
1.0 when ``update`` succeeds and 0.0 when it fails (the last box is then kept).
"""

from pathlib import Path
from typing import Callable, Iterable, List, Optional, Sequence

import cv2
import numpy as np

from .loop import track_frames
from .results import INIT_FRAME_SCORE, TrackResult, TrackSequenceResult
from ..utils.boxes import check_box_in_image

__all__ = ["OpenCVTracker", "available_opencv_trackers"]

_CANDIDATES = ("MIL", "CSRT", "KCF", "MedianFlow", "MOSSE", "Boosting", "TLD")


def _factory(name: str) -> Optional[Callable]:
    for module in (cv2, getattr(cv2, "legacy", None)):
        if module is None:
            continue
        create = getattr(module, f"Tracker{name}_create", None)
        if create is None and hasattr(module, f"Tracker{name}"):
            create = getattr(getattr(module, f"Tracker{name}"), "create", None)
        if create is not None:
            return create
    return None


def available_opencv_trackers() -> List[str]:
    """Names (e.g. ``["MIL"]``) of the baseline trackers this OpenCV build provides."""
    return [name for name in _CANDIDATES if _factory(name) is not None]


def _to_rect(box_xywh: np.ndarray):
    x, y, w, h = (float(v) for v in box_xywh)
    left, top = int(round(x)), int(round(y))
    return (left, top, max(1, int(round(x + w)) - left), max(1, int(round(y + h)) - top))


def _nano_factory(model_files: Sequence[str]) -> Callable:
    if not hasattr(cv2, "TrackerNano"):
        raise ValueError(f"OpenCV {cv2.__version__} has no TrackerNano (needs OpenCV >= 4.7)")
    if model_files is None or len(model_files) != 2:
        raise ValueError("OpenCVTracker('Nano') needs model_files=(backbone.onnx, neckhead.onnx)")
    for path in model_files:
        if not Path(path).is_file():
            raise FileNotFoundError(f"cv2.TrackerNano model file {path} does not exist")
    params = cv2.TrackerNano_Params()
    params.backbone, params.neckhead = (str(p) for p in model_files)
    return lambda: cv2.TrackerNano.create(params)


class OpenCVTracker:
    """An OpenCV tracker with ``init`` / ``update`` / ``track`` like ``SiamTracker``.

    Args:
        name: one of ``available_opencv_trackers()``, or "Nano".
        model_files: for "Nano": the backbone and neck/head ONNX files.
    """

    def __init__(self, name: str, model_files: Optional[Sequence[str]] = None):
        self._create = _nano_factory(model_files) if name == "Nano" else _factory(name)
        if self._create is None:
            raise ValueError(
                f"OpenCV {cv2.__version__} has no tracker '{name}' (available: "
                f"{available_opencv_trackers()}; CSRT/KCF need opencv-contrib-python)"
            )
        self.name = name
        self._tracker = None
        self._box = None
        self._frame_index = -1

    def init(self, image_bgr: np.ndarray, box_xywh) -> TrackResult:
        box = np.asarray(box_xywh, dtype=np.float64).reshape(4)
        check_box_in_image(box, image_bgr.shape, name="init box")
        self._tracker = self._create()
        self._tracker.init(image_bgr, _to_rect(box))
        self._box = box.copy()
        self._frame_index = 0
        return TrackResult(box, INIT_FRAME_SCORE, 0)

    def update(self, image_bgr: np.ndarray) -> TrackResult:
        if self._tracker is None:
            raise RuntimeError(f"OpenCVTracker({self.name}).init must be called before update()")
        ok, rect = self._tracker.update(image_bgr)
        if ok:
            self._box = np.asarray(rect, dtype=np.float64)
        self._frame_index += 1
        score = 1.0 if ok else 0.0
        if ok and hasattr(self._tracker, "getTrackingScore"):  # Nano: its windowed score
            score = float(self._tracker.getTrackingScore())
        return TrackResult(self._box, score, self._frame_index)

    def track(self, frames: Iterable, init_box_xywh) -> TrackSequenceResult:
        """Same contract as ``SiamTracker.track`` (frames are arrays or image paths)."""
        return track_frames(self, frames, init_box_xywh)
