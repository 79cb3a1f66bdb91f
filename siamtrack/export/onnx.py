"""siamtrack's ONNX layout: a template graph and a per-frame track graph, for every family.

- ``template.onnx``: input ``template`` (B, 3, T, T) float32 BGR 0-255 -> outputs
  ``template_feature_0`` ... ``template_feature_{n-1}``, the model's cached template features.
- ``track.onnx``: inputs ``search`` (B, 3, S, S) float32 BGR 0-255 and the template features
  (batch 1 shared, or B) -> ``scores`` (B, A, H, W) foreground probability and
  ``boxes_cxcywh`` (B, A, H, W, 4) decoded boxes in search-crop pixels.

The batch axis is dynamic in both graphs; BatchNorm is folded into the convolutions; the
depthwise correlation is exported as Slice/Mul/Add (``modeling/xcorr.py``), so onnxruntime and
TensorRT both run the graphs. Each file's metadata (``metadata_props``) records the crop
sizes, score-map shape and meta-architecture, so a tracker can run the graphs without the
config's model section (``TRACKER.BACKEND onnxruntime`` with ``TRACKER.ONNX_DIR``).
"""

import io
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Union

import torch
from torch import nn

from ..io.files import atomic_output
from ..modeling import TemplateBranch, TrackStep, fold_batchnorm

__all__ = [
    "TEMPLATE_FILE",
    "TRACK_FILE",
    "SiameseGraphs",
    "export_siamese_graphs",
    "load_siamese_graphs",
    "import_onnxruntime",
    "parse_onnx",
    "OPSET",
]

TEMPLATE_FILE = "template.onnx"
TRACK_FILE = "track.onnx"
OPSET = 17
PathLike = Union[str, os.PathLike]


@dataclass(frozen=True)
class SiameseGraphs:
    """The two serialized ONNX graphs of a model and what a runtime needs to know about them.

    Attributes:
        template, track: serialized ``onnx.ModelProto`` bytes.
        metadata: ``template_size``, ``search_size``, ``score_size``, ``num_anchors``,
            ``num_features``, ``meta_architecture`` (strings, as stored in the files).
    """

    template: bytes
    track: bytes
    metadata: Dict[str, str] = field(default_factory=dict)

    @property
    def feature_names(self) -> List[str]:
        return [f"template_feature_{i}" for i in range(int(self.metadata["num_features"]))]

    def save(self, output_dir: PathLike) -> List[Path]:
        """Write ``template.onnx`` and ``track.onnx`` into ``output_dir`` (each atomically)."""
        paths = []
        for name, data in ((TEMPLATE_FILE, self.template), (TRACK_FILE, self.track)):
            path = Path(output_dir) / name
            with atomic_output(path) as temp_path:
                temp_path.write_bytes(data)
            paths.append(path)
        return paths


def export_graph(
    module: nn.Module,
    args,
    input_names,
    output_names,
    dynamic_axes: Optional[Dict[str, Dict[int, str]]] = None,
) -> bytes:
    """Trace ``module`` to ONNX bytes; ``dynamic_axes`` defaults to a dynamic batch everywhere."""
    buffer = io.BytesIO()
    names = list(input_names) + list(output_names)
    dynamic = {name: {0: "batch"} for name in names} if dynamic_axes is None else dynamic_axes
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer chatter about shapes turned into constants
        torch.onnx.export(
            module,
            tuple(args),
            buffer,
            dynamo=False,
            opset_version=OPSET,
            input_names=list(input_names),
            output_names=list(output_names),
            dynamic_axes=dynamic,
            do_constant_folding=True,
        )
    return buffer.getvalue()


def with_metadata(data: bytes, metadata: Dict[str, str]) -> bytes:
    model = parse_onnx(data)
    del model.metadata_props[:]
    for key, value in sorted(metadata.items()):
        entry = model.metadata_props.add()
        entry.key, entry.value = key, str(value)
    model.producer_name = "siamtrack"
    return model.SerializeToString()


def export_siamese_graphs(model: nn.Module, *, fold: bool = True) -> SiameseGraphs:
    """Export a ``SiameseNetwork`` (``SiameseRPN``, ``SiameseBAN``) in siamtrack's ONNX layout.

    Args:
        model: the model (not modified; a CPU copy in eval mode is exported).
        fold: fold BatchNorm into the convolutions first (same outputs, fewer ops).

    Returns:
        SiameseGraphs (bytes; ``.save(folder)`` writes them).
    """
    model = fold_batchnorm(model) if fold else model
    model = model.to("cpu").float().eval()
    size_t, size_s = model.template_size, model.search_size
    template = torch.full((1, 3, size_t, size_t), 127.0)
    search = torch.full((1, 3, size_s, size_s), 127.0)
    with torch.no_grad():
        features = model.encode_template(template)
    names = [f"template_feature_{i}" for i in range(len(features))]
    metadata = {
        "template_size": size_t,
        "search_size": size_s,
        "score_size": model.score_size,
        "num_anchors": model.num_anchors,
        "num_features": len(features),
        "meta_architecture": type(model).__name__,
    }
    template_graph = export_graph(TemplateBranch(model), (template,), ["template"], names)
    track_graph = export_graph(
        TrackStep(model), (search, *features), ["search"] + names, ["scores", "boxes_cxcywh"]
    )
    metadata = {k: str(v) for k, v in metadata.items()}
    return SiameseGraphs(
        with_metadata(template_graph, metadata), with_metadata(track_graph, metadata), metadata
    )


def load_siamese_graphs(folder: PathLike) -> SiameseGraphs:
    """Read ``template.onnx`` / ``track.onnx`` written by ``SiameseGraphs.save``.

    Raises:
        FileNotFoundError: a file is missing.
        ValueError: a file is not one of siamtrack's graphs (no metadata) or the two disagree.
    """
    folder = Path(folder)
    blobs, metadata = {}, []
    for name in (TEMPLATE_FILE, TRACK_FILE):
        path = folder / name
        if not path.is_file():
            raise FileNotFoundError(
                f"{path} not found: expected siamtrack's {TEMPLATE_FILE} and {TRACK_FILE} "
                "(tools/export_onnx.py writes them)"
            )
        data = path.read_bytes()
        try:
            proto = parse_onnx(data)
        except Exception as error:  # noqa: BLE001  (any protobuf decoding error)
            raise ValueError(f"{path} is not a readable ONNX file ({error})") from None
        props = {p.key: p.value for p in proto.metadata_props}
        if "num_features" not in props:
            raise ValueError(
                f"{path} has no siamtrack metadata: it was not written by tools/export_onnx.py "
                "(siamtrack layout)"
            )
        blobs[name] = data
        metadata.append(props)
    if metadata[0] != metadata[1]:
        raise ValueError(f"{folder}: {TEMPLATE_FILE} and {TRACK_FILE} come from different models")
    return SiameseGraphs(blobs[TEMPLATE_FILE], blobs[TRACK_FILE], metadata[0])


def parse_onnx(data: bytes):
    """The ``onnx.ModelProto`` of serialized graph bytes.

    ``onnx`` is imported here, on first use, not at module import: its import costs about a
    second (``ml_dtypes``), and every tracker imports this module while only exports (torch's
    exporter imports it too) and exported folders need it.
    """
    import onnx

    return onnx.load_from_string(data)


def import_onnxruntime():
    """The ``onnxruntime`` module (an optional dependency at run time: the onnxruntime backend
    and export checks need it), or an ImportError saying how to install it."""
    try:
        import onnxruntime
    except ImportError as error:
        raise ImportError(
            "TRACKER.BACKEND 'onnxruntime' needs the onnxruntime package: pip install "
            "onnxruntime (or onnxruntime-gpu for CUDA), or use TRACKER.BACKEND torch"
        ) from error
    return onnxruntime
