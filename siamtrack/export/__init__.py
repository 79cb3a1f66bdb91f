"""Exporting siamtrack models to ONNX, in two layouts.

- siamtrack's (``onnx.py``): ``template.onnx`` + ``track.onnx`` for every family, run by the
  onnxruntime backend (``TRACKER.BACKEND onnxruntime``, ``TRACKER.ONNX_DIR``).
- OpenCV's NanoTrack layout (``opencv_nano.py``): ``nanotrack_backbone.onnx`` +
  ``nanotrack_head.onnx`` for ``cv2.TrackerNano`` (NanoTrack-family models, 16x16 score map).

``deploy.py`` writes either into a folder (all or nothing) and checks the graphs against the
PyTorch model; ``tools/export_onnx.py`` is its command line.
"""

from .deploy import (
    EXPORT_FILES,
    LAYOUTS,
    OutputDifference,
    check_export,
    check_output_dir,
    existing_export_files,
    export_graphs,
    save_export,
)
from .onnx import (
    TEMPLATE_FILE,
    TRACK_FILE,
    SiameseGraphs,
    export_siamese_graphs,
    import_onnxruntime,
    load_siamese_graphs,
)
from .opencv_nano import (
    BACKBONE_FILE,
    HEAD_FILE,
    OPENCV_NANO_SCORE_SIZE,
    OpenCVNanoGraphs,
    check_opencv_nano_model,
    export_opencv_nano_graphs,
    load_opencv_nano_graphs,
    opencv_rgb_backbone,
)

__all__ = [
    "BACKBONE_FILE",
    "EXPORT_FILES",
    "HEAD_FILE",
    "LAYOUTS",
    "OPENCV_NANO_SCORE_SIZE",
    "OpenCVNanoGraphs",
    "OutputDifference",
    "SiameseGraphs",
    "TEMPLATE_FILE",
    "TRACK_FILE",
    "check_export",
    "check_output_dir",
    "check_opencv_nano_model",
    "existing_export_files",
    "export_graphs",
    "export_opencv_nano_graphs",
    "export_siamese_graphs",
    "import_onnxruntime",
    "load_opencv_nano_graphs",
    "load_siamese_graphs",
    "opencv_rgb_backbone",
    "save_export",
]
