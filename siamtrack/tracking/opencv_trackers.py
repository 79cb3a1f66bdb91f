"""OpenCV's built-in trackers as baselines, behind the ``SiamTracker`` interface.

Which exist depends on the installed OpenCV: ``opencv-python`` has MIL; ``opencv-contrib-python``
adds CSRT, KCF, MedianFlow, MOSSE, Boosting, TLD (some under ``cv2.legacy``). ``Nano``
(``cv2.TrackerNano``, OpenCV >= 4.7) needs its two ONNX files: ``OpenCVTracker("Nano",
model_files=(backbone, neckhead))`` (NanoTrack's official v1/v2 exports, or siamtrack's
``tools/export_onnx.py --layout opencv-nano``); ``Vit`` (``cv2.TrackerVit``, OpenCV >= 4.9) needs
its one ONNX file (``model_files=(vittrack.onnx,)``, OpenCV Zoo's VitTrack). DaSiamRPN is not
offered. They put numbers in context; they are not what siamtrack is for.

OpenCV trackers work on integer rectangles and report only success or failure: the score is
1.0 when ``update`` succeeds and 0.0 when it fails (the last box is then kept). Trackers whose
``getTrackingScore()`` gives a score (``cv2.TrackerNano``, ``cv2.TrackerVit``; OpenCV 5 gives
every tracker the method, returning -1 where there is no score) report it as the score of a
successful update and as the confidence of every frame; the others report confidence 1.0. The
target is always reported present (OpenCV makes no presence decision of its own).
"""

from pathlib import Path
from typing import Callable, Iterable, List, Optional, Sequence

import cv2
import numpy as np

from ..errors import BadInputError
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


# Trackers that run ONNX networks: (OpenCV class, minimum version, model file fields of its
# Params, in the order model_files gives them).
_NETWORK_TRACKERS = {
    "Nano": ("TrackerNano", "4.7", ("backbone", "neckhead")),
    "Vit": ("TrackerVit", "4.9", ("net",)),
}


def _network_factory(name: str, model_files: Optional[Sequence[str]]) -> Callable:
    class_name, version, fields = _NETWORK_TRACKERS[name]
    if not hasattr(cv2, class_name):
        raise BadInputError(f"OpenCV {cv2.__version__} has no {class_name} (needs >= {version})")
    if model_files is None or len(model_files) != len(fields):
        raise BadInputError(
            f"OpenCVTracker('{name}') needs model_files=({', '.join(f + '.onnx' for f in fields)})"
        )
    for path in model_files:
        if not Path(path).is_file():
            raise FileNotFoundError(f"cv2.{class_name} model file {path} does not exist")
    params = getattr(cv2, f"{class_name}_Params")()
    for field_name, path in zip(fields, model_files):
        setattr(params, field_name, str(path))
    tracker_class = getattr(cv2, class_name)
    return lambda: tracker_class.create(params)


class OpenCVTracker:
    """An OpenCV tracker with ``init`` / ``update`` / ``track`` like ``SiamTracker``.

    Args:
        name: one of ``available_opencv_trackers()``, "Nano" or "Vit".
        model_files: for "Nano": the backbone and neck/head ONNX files; for "Vit": the
            network's ONNX file.
    """

    def __init__(self, name: str, model_files: Optional[Sequence[str]] = None):
        if name in _NETWORK_TRACKERS:
            self._create = _network_factory(name, model_files)
        else:
            self._create = _factory(name)
        if self._create is None:
            raise BadInputError(
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
        score, confidence = (1.0 if ok else 0.0), 1.0
        tracking_score = getattr(self._tracker, "getTrackingScore", None)
        network_score = float(tracking_score()) if tracking_score is not None else -1.0
        if network_score >= 0:  # Nano, Vit: the network's score
            confidence = network_score
            score = confidence if ok else score
        return TrackResult(self._box, score, self._frame_index, confidence=confidence)

    def track(self, frames: Iterable, init_box_xywh) -> TrackSequenceResult:
        """Same contract as ``SiamTracker.track`` (frames are arrays or image paths)."""
        return track_frames(self, frames, init_box_xywh)
