"""Exporting siamtrack models: ONNX graphs in siamtrack's layout (``onnx.py``)."""

from .onnx import (
    TEMPLATE_FILE,
    TRACK_FILE,
    SiameseGraphs,
    export_siamese_graphs,
    load_siamese_graphs,
)

__all__ = [
    "TEMPLATE_FILE",
    "TRACK_FILE",
    "SiameseGraphs",
    "export_siamese_graphs",
    "load_siamese_graphs",
]
