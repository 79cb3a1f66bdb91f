"""Export a model into a folder in one of the deployment layouts, and check the graphs.

Layouts (``LAYOUTS``):

- ``"siamtrack"``: ``template.onnx`` + ``track.onnx`` (``onnx.py``), for siamtrack's
  onnxruntime backend (``TRACKER.BACKEND onnxruntime``, ``TRACKER.ONNX_DIR <folder>``); every
  family (SiamRPN++, NanoTrack v1/v2/v3), dynamic batch.
- ``"opencv-nano"``: ``nanotrack_backbone.onnx`` + ``nanotrack_head.onnx``
  (``opencv_nano.py``), for ``cv2.TrackerNano`` / ``cv::TrackerNano``; NanoTrack-family models
  with a 16 x 16 score map only.

``save_export`` never leaves a half-written export: the files are written into a temporary
folder next to the output folder and moved into place once all are complete.
``check_export`` runs the graphs with onnxruntime against the PyTorch model on seeded random
crops and reports the largest difference of every output (``OutputDifference``).

This is the library behind ``tools/export_onnx.py``.
"""

import os
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Sequence, Union

import numpy as np
import torch
from torch import nn

from ..io import OutputExistsError
from .onnx import (
    TEMPLATE_FILE,
    TRACK_FILE,
    SiameseGraphs,
    export_siamese_graphs,
    import_onnxruntime,
)
from .opencv_nano import BACKBONE_FILE, HEAD_FILE, OpenCVNanoGraphs, export_opencv_nano_graphs

__all__ = [
    "LAYOUTS",
    "EXPORT_FILES",
    "OutputDifference",
    "check_export",
    "check_output_dir",
    "existing_export_files",
    "export_graphs",
    "save_export",
]

LAYOUTS = ("siamtrack", "opencv-nano")
# The files each layout writes, in order.
EXPORT_FILES = {"siamtrack": (TEMPLATE_FILE, TRACK_FILE), "opencv-nano": (BACKBONE_FILE, HEAD_FILE)}
Graphs = Union[SiameseGraphs, OpenCVNanoGraphs]
PathLike = Union[str, os.PathLike]


def export_graphs(model: nn.Module, layout: str = "siamtrack") -> Graphs:
    """The model's graphs in ``layout`` (bytes in memory; nothing is written).

    Raises:
        ValueError: unknown layout, or a model the layout cannot hold (opencv-nano).
    """
    if layout == "siamtrack":
        return export_siamese_graphs(model)
    if layout == "opencv-nano":
        return export_opencv_nano_graphs(model)
    raise ValueError(f"layout '{layout}' is not one of {LAYOUTS}")


def _graph_files(graphs: Graphs) -> Dict[str, bytes]:
    """``{file name: bytes}`` of either layout's graphs."""
    if isinstance(graphs, SiameseGraphs):
        return {TEMPLATE_FILE: graphs.template, TRACK_FILE: graphs.track}
    return graphs.files


def existing_export_files(output_dir: PathLike) -> List[Path]:
    """Files of any layout's export already in ``output_dir`` (empty if it does not exist)."""
    folder = Path(output_dir)
    names = [name for files in EXPORT_FILES.values() for name in files]
    return [folder / name for name in names if (folder / name).exists()]


def check_output_dir(output_dir: PathLike, *, force: bool = False) -> None:
    """Raise unless an export may be written into ``output_dir``.

    Raises:
        OutputExistsError: ``output_dir`` already holds an export (of either layout) and
            ``force`` is False (it names the first file found).
        NotADirectoryError: ``output_dir`` exists and is not a folder.
    """
    folder = Path(output_dir)
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(f"output {folder} exists and is not a folder")
    existing = existing_export_files(folder)
    if existing and not force:
        raise OutputExistsError(existing[0], "export file")


def _make_temporary_folder(folder: Path) -> Path:
    """A new hidden folder next to ``folder``, with a plain ``os.mkdir``'s permissions."""
    while True:
        temp = folder.parent / f".{folder.name}.{secrets.token_hex(4)}.partial"
        try:
            os.mkdir(temp)
            return temp
        except FileExistsError:
            continue


def _write(path: Path, data: bytes) -> None:
    path.write_bytes(data)


def save_export(graphs: Graphs, output_dir: PathLike, *, force: bool = False) -> List[Path]:
    """Write the graphs' files into ``output_dir``, all or nothing.

    The files go into a temporary folder next to ``output_dir`` first; when they are all
    written, the folder is renamed to ``output_dir`` (if it did not exist) or the files are
    moved into it one by one (each an atomic rename). On any error the temporary folder is
    removed and ``output_dir`` is left as it was.

    Args:
        graphs: from ``export_graphs``.
        output_dir: folder to write into (created with its parents if missing).
        force: replace an export already in ``output_dir``.

    Returns:
        paths of the files written.

    Raises:
        OutputExistsError: ``output_dir`` already holds an export and ``force`` is False.
        NotADirectoryError: ``output_dir`` exists and is not a folder.
    """
    folder = Path(output_dir)
    check_output_dir(folder, force=force)
    files = _graph_files(graphs)
    folder.parent.mkdir(parents=True, exist_ok=True)
    temp = _make_temporary_folder(folder)
    try:
        for name, data in files.items():
            _write(temp / name, data)
        if not folder.exists():
            os.rename(temp, folder)
        else:
            for name in files:
                os.replace(temp / name, folder / name)
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    return [folder / name for name in files]


@dataclass(frozen=True)
class OutputDifference:
    """Largest difference between an exported graph's output and the PyTorch model's.

    Attributes:
        name: which output (e.g. ``"track.onnx:scores (batch 2)"``).
        max_abs: max |onnx - torch|.
        value_range: max - min of the PyTorch output (the scale ``max_rel`` is relative to).
        max_rel: ``max_abs / value_range``.
    """

    name: str
    max_abs: float
    value_range: float
    max_rel: float

    def __str__(self) -> str:
        return (
            f"{self.name}: max abs diff {self.max_abs:.3g}, relative to the output range "
            f"{self.value_range:.4g}: {self.max_rel:.3g}"
        )


def _difference(name: str, onnx_value: np.ndarray, torch_value: torch.Tensor) -> OutputDifference:
    reference = torch_value.detach().float().cpu().numpy()
    if onnx_value.shape != reference.shape:
        raise ValueError(
            f"{name}: the graph gives shape {onnx_value.shape}, the model {reference.shape}"
        )
    max_abs = float(np.abs(onnx_value.astype(np.float64) - reference).max())
    value_range = float(reference.max() - reference.min())
    scale = value_range or float(np.abs(reference).max()) or 1.0
    return OutputDifference(name, max_abs, value_range, max_abs / scale)


def _sessions(blobs: Sequence[bytes]):
    ort = import_onnxruntime()
    options = ort.SessionOptions()
    options.log_severity_level = 3
    providers = ["CPUExecutionProvider"]
    return [ort.InferenceSession(blob, options, providers=providers) for blob in blobs]


def _random_crops(batch: int, size: int, rng: np.random.Generator) -> np.ndarray:
    return rng.integers(0, 256, size=(batch, 3, size, size)).astype(np.float32)


def check_export(
    model: nn.Module, graphs: Graphs, *, batch_sizes: Sequence[int] = (1,), seed: int = 0
) -> List[OutputDifference]:
    """Run the exported graphs with onnxruntime and the model with PyTorch on the same crops.

    Crops are seeded random 0-255 images. siamtrack layout: template features, ``scores`` and
    ``boxes_cxcywh`` for each batch size (B templates paired with B searches). opencv-nano
    layout (batch 1, as OpenCV runs it): the backbone output on the template and on the search
    crop, fed RGB, against the model's features of the BGR crops, then ``output1`` /
    ``output2`` of the head on the graph's own features against ``model.raw_outputs``.

    Args:
        model: the PyTorch model the graphs were exported from (eval mode).
        graphs: from ``export_graphs``.
        batch_sizes: batch sizes to check (siamtrack layout).
        seed: seed of the random crops.

    Returns:
        one OutputDifference per output (and batch size).

    Raises:
        ImportError: onnxruntime is not installed.
    """
    rng = np.random.default_rng(seed)
    size_t, size_s = model.template_size, model.search_size
    model = model.eval()
    differences = []
    if isinstance(graphs, SiameseGraphs):
        template_session, track_session = _sessions([graphs.template, graphs.track])
        names = graphs.feature_names
        for batch in batch_sizes:
            template, search = _random_crops(batch, size_t, rng), _random_crops(batch, size_s, rng)
            features = template_session.run(None, {"template": template})
            scores, boxes = track_session.run(
                None, {"search": search, **dict(zip(names, features))}
            )
            with torch.no_grad():
                torch_features = model.encode_template(torch.from_numpy(template))
                output = model.track(torch_features, torch.from_numpy(search))
            pairs = list(zip(names, features, torch_features))
            pairs += [
                ("scores", scores, output.scores),
                ("boxes_cxcywh", boxes, output.boxes_cxcywh),
            ]
            for name, value, reference in pairs:
                graph = TEMPLATE_FILE if name.startswith("template_feature") else TRACK_FILE
                differences.append(_difference(f"{graph}:{name} (batch {batch})", value, reference))
        return differences
    backbone_session, head_session = _sessions([graphs.backbone, graphs.head])
    template, search = _random_crops(1, size_t, rng), _random_crops(1, size_s, rng)
    feature_name = next(iter(model.backbone.output_shape()))
    onnx_features = {}
    with torch.no_grad():
        for kind, crops in (("template", template), ("search", search)):
            rgb = np.ascontiguousarray(crops[:, ::-1])
            (onnx_features[kind],) = backbone_session.run(None, {"input": rgb})
            images = model.normalize(torch.from_numpy(crops), kind, kind)
            reference = model.backbone(images)[feature_name]
            name = f"{BACKBONE_FILE}:output ({kind} {crops.shape[-1]})"
            differences.append(_difference(name, onnx_features[kind], reference))
        cls_logits, box_ltrb = model.raw_outputs(
            model.encode_template(torch.from_numpy(template)), torch.from_numpy(search)
        )
    feeds = {"input1": onnx_features["template"], "input2": onnx_features["search"]}
    output1, output2 = head_session.run(["output1", "output2"], feeds)
    differences.append(_difference(f"{HEAD_FILE}:output1 (cls logits)", output1, cls_logits))
    differences.append(_difference(f"{HEAD_FILE}:output2 (box ltrb)", output2, box_ltrb))
    return differences
