"""NanoTrack v1 / v2 / v3 (anchor-free Siamese trackers on MobileNetV3-Small): ``NanoTrack``.

Importing the package registers: the meta-architecture ``NanoTrack`` (META_ARCH_REGISTRY), the
backbone ``build_mobilenet_v3_backbone`` (BACKBONE_REGISTRY), the heads ``NanoTrackV1Head``,
``NanoTrackV2Head``, ``NanoTrackV3Head`` (SIAM_HEAD_REGISTRY), the config keys
(``add_nanotrack_config``), the checkpoint format ``"nanotrack"`` (the released files) and the
export layout ``"opencv-nano"`` (``cv2.TrackerNano``). It tracks with ``PenaltyWindowSearch``.

- ``meta_arch.py``: ``NanoTrack`` (features, decoding, training losses);
- ``backbone.py``: the truncated MobileNetV3-Small;
- ``head.py``: the BAN-style heads of the three versions;
- ``points.py``: the point grid and the (l, t, r, b) box coding;
- ``losses.py``: point labels and the cls / IoU losses;
- ``config.py``: ``MODEL.MOBILENET_V3``, ``MODEL.NANOTRACK``;
- ``checkpoint.py``: NanoTrack's released names -> siamtrack names;
- ``opencv_nano.py``: the ``"opencv-nano"`` export layout;
- ``manifest.py``: torch-free facts for the tools (the export layout names).

Configs: ``configs/nanotrack/`` (``Base-NanoTrack.yaml``, quick schedules in
``configs/nanotrack/quick_schedules/``). See ``docs/nanotrack.md``.
"""

from . import checkpoint  # noqa: F401  registers the checkpoint format
from .backbone import MobileNetV3Small, build_mobilenet_v3_backbone
from .config import add_nanotrack_config
from .head import NanoTrackV1Head, NanoTrackV2Head, NanoTrackV3Head
from .meta_arch import NanoTrack
from .opencv_nano import (
    BACKBONE_FILE,
    HEAD_FILE,
    OPENCV_NANO_SCORE_SIZE,
    OpenCVNanoGraphs,
    check_opencv_nano_graphs,
    check_opencv_nano_model,
    export_opencv_nano_graphs,
    load_opencv_nano_graphs,
    opencv_rgb_backbone,
)
from .losses import label_points, nanotrack_losses
from .points import decode_ltrb, point_grid_xy

__all__ = [
    "BACKBONE_FILE",
    "HEAD_FILE",
    "MobileNetV3Small",
    "NanoTrack",
    "NanoTrackV1Head",
    "NanoTrackV2Head",
    "NanoTrackV3Head",
    "OPENCV_NANO_SCORE_SIZE",
    "OpenCVNanoGraphs",
    "add_nanotrack_config",
    "build_mobilenet_v3_backbone",
    "check_opencv_nano_graphs",
    "check_opencv_nano_model",
    "decode_ltrb",
    "export_opencv_nano_graphs",
    "label_points",
    "load_opencv_nano_graphs",
    "nanotrack_losses",
    "opencv_rgb_backbone",
    "point_grid_xy",
]
