"""siamtrack's ONNX layout: a template graph and a per-frame track graph, for every family.

- ``template.onnx``: input ``template`` (B, 3, T, T) float32 BGR 0-255 -> outputs
  ``template_feature_0`` ... ``template_feature_{n-1}``, the model's cached template features.
- ``track.onnx``: inputs ``search`` (B, 3, S, S) float32 BGR 0-255 and the template features
  (batch 1 shared, or B) -> ``scores`` (B, A, H, W) foreground probability and
  ``boxes_cxcywh`` (B, A, H, W, 4) decoded boxes in search-crop pixels.

The batch axis is dynamic in both graphs (the crop sizes are fixed); BatchNorm is folded into
the convolutions; the depthwise correlation is exported as two batched MatMuls
(``modeling/xcorr.py``), so onnxruntime and TensorRT both run the graphs; channel gates use the
ops onnxruntime's CPU runs in its blocked layout (``modeling/gates.py``, ``fixed_map_sizes``).
Each file's metadata (``metadata_props``) records the crop sizes, score-map shape and
meta-architecture, so a tracker can run the graphs without the config's model section
(``TRACKER.BACKEND onnxruntime`` with ``TRACKER.ONNX_DIR``).

``runtime_graphs`` gives the form the onnxruntime backend runs (uint8 NHWC crops in, identity
normalisation dropped; bit-identical outputs) and ``create_session`` is the one place
onnxruntime sessions are set up (trackers, export checks, tests).

Reading, converting and running the graphs needs no torch: that part lives in ``graphs.py``
(``SiameseGraphs``, ``load_siamese_graphs``, ``runtime_graphs``, ``create_session``, ...) and is
re-exported here; this module adds what needs torch, the export itself.
"""

import io
import warnings
from typing import Dict, Optional

import torch
from torch import nn

from ..modeling import TemplateBranch, TrackStep, fold_batchnorm
from ..modeling.gates import fixed_map_sizes
from .graphs import (
    CROP_INPUTS,
    TEMPLATE_FILE,
    TRACK_FILE,
    SiameseGraphs,
    create_session,
    default_num_threads,
    import_onnxruntime,
    load_siamese_graphs,
    parse_onnx,
    runtime_graphs,
)

__all__ = [
    "TEMPLATE_FILE",
    "TRACK_FILE",
    "SiameseGraphs",
    "export_siamese_graphs",
    "load_siamese_graphs",
    "import_onnxruntime",
    "parse_onnx",
    "OPSET",
    "CROP_INPUTS",
    "runtime_graphs",
    "create_session",
    "default_num_threads",
]

OPSET = 17


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
    return _resized_batch_axes_named(buffer.getvalue())


def _resized_batch_axes_named(data: bytes) -> bytes:
    """``data`` with the batch axis of every ``Resize`` output named as its input's.

    ONNX shape inference leaves an axis through a ``Resize`` unnamed even at scale 1. A gate
    resized to its map's size (``modeling/gates.py``) then has a batch axis that onnxruntime
    cannot prove equal to the map's in a dynamic-batch session, so it fuses residual ``Add``
    nodes into convolutions in fixed-batch sessions only, and the two kinds of session would
    differ in the last bits (a batch of K targets would no longer equal K single targets).
    """
    from onnx import shape_inference

    model = parse_onnx(data)
    resized = [node for node in model.graph.node if node.op_type == "Resize"]
    if not resized:
        return data  # nothing to name: no second serialisation
    declared = {value.name: value for value in model.graph.value_info}
    named = set()
    while len(named) < len(resized):  # a later gate's input goes through an earlier Resize
        inferred = shape_inference.infer_shapes(model).graph
        values = {value.name: value for value in [*inferred.input, *inferred.value_info]}
        progress = False
        for node in resized:
            source, result = values.get(node.input[0]), values.get(node.output[0])
            if node.output[0] in named or source is None or result is None:
                continue
            batch = source.type.tensor_type.shape.dim[:1]
            if batch and batch[0].dim_param and not batch[0].dim_param.startswith("unk__"):
                entry = declared.get(node.output[0])
                if entry is None:
                    entry = declared[node.output[0]] = model.graph.value_info.add()
                entry.CopyFrom(result)
                entry.type.tensor_type.shape.dim[0].dim_param = batch[0].dim_param
                named.add(node.output[0])
                progress = True
        if not progress:
            break
    return model.SerializeToString()


def with_metadata(data: bytes, metadata: Dict[str, str]) -> bytes:
    model = parse_onnx(data)
    del model.metadata_props[:]
    for key, value in sorted(metadata.items()):
        entry = model.metadata_props.add()
        entry.key, entry.value = key, str(value)
    model.producer_name = "siamtrack"
    return model.SerializeToString()


def export_siamese_graphs(model: nn.Module, *, fold: bool = True) -> SiameseGraphs:
    """Export a ``SiameseNetwork`` (``SiameseRPN``, ``NanoTrack``) in siamtrack's ONNX layout.

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
    with fixed_map_sizes():  # crop sizes are fixed: gates may bake map sizes in (gates.py)
        template_graph = export_graph(TemplateBranch(model), (template,), ["template"], names)
        track_graph = export_graph(
            TrackStep(model), (search, *features), ["search"] + names, ["scores", "boxes_cxcywh"]
        )
    metadata = {k: str(v) for k, v in metadata.items()}
    return SiameseGraphs(
        with_metadata(template_graph, metadata), with_metadata(track_graph, metadata), metadata
    )
