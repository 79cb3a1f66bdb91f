"""siamtrack's ONNX graphs as data: the two files, their runtime form and how onnxruntime runs
them (no torch: the torch-free tracker runs cached graphs with this module alone).

- ``template.onnx``: input ``template`` (B, 3, T, T) float32 BGR 0-255 -> outputs
  ``template_feature_0`` ... ``template_feature_{n-1}``, the model's cached template features.
- ``track.onnx``: inputs ``search`` (B, 3, S, S) float32 BGR 0-255 and the template features
  (batch 1 shared, or B) -> ``scores`` (B, A, H, W) foreground probability and
  ``boxes_cxcywh`` (B, A, H, W, 4) decoded boxes in search-crop pixels.

Each file's metadata (``metadata_props``) records the crop sizes, score-map shape and
meta-architecture. Exporting a model to this layout needs torch (``onnx.py``, which re-exports
everything here); reading, converting and running the graphs does not.

``runtime_graphs`` gives the form the onnxruntime backend runs (uint8 NHWC crops in, identity
normalisation dropped; bit-identical outputs) and ``create_session`` is the one place
onnxruntime's ``InferenceSession`` objects are set up (trackers, export checks, tests). ``onnx`` and ``onnxruntime``
are imported on first use (``onnx`` costs about a second and only conversions need it).
"""

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple, Union

from ..errors import BadInputError, MissingDependencyError
from ..io.files import atomic_output
from ..utils.paths import PathLike

__all__ = [
    "CROP_INPUTS",
    "TEMPLATE_FILE",
    "TRACK_FILE",
    "SiameseGraphs",
    "create_session",
    "default_num_threads",
    "import_onnxruntime",
    "load_siamese_graphs",
    "parse_device",
    "parse_onnx",
    "runtime_graphs",
]

TEMPLATE_FILE = "template.onnx"
TRACK_FILE = "track.onnx"


@dataclass(frozen=True)
class SiameseGraphs:
    """The two serialized ONNX graphs of a model and what a runtime needs to know about them.

    Attributes:
        template, track: serialized ``onnx.ModelProto`` bytes.
        metadata: ``template_size``, ``search_size``, ``score_size``, ``num_anchors``,
            ``num_features``, ``meta_architecture`` (strings, as stored in the files).
        source: the folder these exact bytes were read from or stored in (a graph cache
            entry, an export folder); "" for graphs that exist only in memory. Not part of
            equality.
    """

    template: bytes
    track: bytes
    metadata: Dict[str, str] = field(default_factory=dict)
    source: str = field(default="", compare=False)

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
            raise BadInputError(f"{path} is not a readable ONNX file ({error})") from None
        props = {p.key: p.value for p in proto.metadata_props}
        if "num_features" not in props:
            raise BadInputError(
                f"{path} has no siamtrack metadata: it was not written by tools/export_onnx.py "
                "(siamtrack layout)"
            )
        blobs[name] = data
        metadata.append(props)
    if metadata[0] != metadata[1]:
        raise BadInputError(
            f"{folder}: {TEMPLATE_FILE} and {TRACK_FILE} come from different models"
        )
    return SiameseGraphs(blobs[TEMPLATE_FILE], blobs[TRACK_FILE], metadata[0], str(folder))


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
        raise MissingDependencyError(
            "TRACKER.BACKEND 'onnxruntime' needs the onnxruntime package: pip install "
            "onnxruntime (or onnxruntime-gpu for CUDA), or use TRACKER.BACKEND torch"
        ) from error
    return onnxruntime


# ---------------------------------------------------------------------------- runtime form
# Metadata entry of graphs in the runtime form (``runtime_graphs``).
INPUT_LAYOUT_KEY = "input_layout"
CROPS_LAYOUT = "uint8_nhwc"
# Input names of the runtime form: the crops as the trackers cut them.
CROP_INPUTS = {"template": "template_crops", "search": "search_crops"}


def runtime_graphs(graphs: SiameseGraphs) -> SiameseGraphs:
    """The graphs in the form the onnxruntime backend runs: same outputs, crops in.

    - The image inputs become the trackers' crops as they are: ``template_crops``
      (B, T, T, 3) and ``search_crops`` (B, S, S, 3), uint8 BGR; the graph transposes them to
      NCHW and casts them to float32 itself (bit-identical to feeding the float NCHW image, and
      it saves the numpy transpose + conversion per frame).
    - An identity normalisation (subtracting a mean of 0, dividing by a std of 1: NanoTrack's
      raw 0-255 input) is removed (two full-image passes per frame; the result is unchanged).

    Graphs already in this form (metadata ``input_layout``) are returned as they are.
    """
    if graphs.metadata.get(INPUT_LAYOUT_KEY) == CROPS_LAYOUT:
        return graphs
    metadata = {**graphs.metadata, INPUT_LAYOUT_KEY: CROPS_LAYOUT}
    template = _crops_input(graphs.template, "template", metadata)
    track = _crops_input(graphs.track, "search", metadata)
    return SiameseGraphs(template, track, metadata)


def _crops_input(data: bytes, input_name: str, metadata: Dict[str, str]) -> bytes:
    """``data`` with its float NCHW image input ``input_name`` replaced by uint8 NHWC crops."""
    import onnx

    model = parse_onnx(data)
    graph = model.graph
    (image,) = [value for value in graph.input if value.name == input_name]
    batch, channels, height, width = image.type.tensor_type.shape.dim
    crops_name = CROP_INPUTS[input_name]
    crops = onnx.helper.make_tensor_value_info(
        crops_name,
        onnx.TensorProto.UINT8,
        [batch.dim_param or batch.dim_value, height.dim_value, width.dim_value, channels.dim_value],
    )
    position = list(graph.input).index(image)
    graph.input.remove(image)
    graph.input.insert(position, crops)
    nchw = f"{crops_name}_nchw"
    convert = [
        onnx.helper.make_node("Transpose", [crops_name], [nchw], perm=[0, 3, 1, 2]),
        onnx.helper.make_node("Cast", [nchw], [input_name], to=onnx.TensorProto.FLOAT),
    ]
    kept = _without_identity_normalization(graph, input_name)
    del graph.node[:]
    graph.node.extend(convert + kept)
    del model.metadata_props[:]
    for key, value in sorted(metadata.items()):
        entry = model.metadata_props.add()
        entry.key, entry.value = key, str(value)
    return model.SerializeToString()


def _without_identity_normalization(graph, input_name: str) -> list:
    """The graph's nodes without the float->float Cast, ``- 0`` and ``/ 1`` that follow the
    image input (the normalisation of a model with pixel mean 0 and std 1); their consumers
    read the input instead. Other nodes are kept in order."""
    from onnx import numpy_helper

    constants = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    for node in graph.node:
        if node.op_type == "Constant" and node.attribute and node.attribute[0].name == "value":
            constants[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)
    identity = {"Sub": 0.0, "Div": 1.0}
    outputs = {value.name for value in graph.output}
    renamed, kept, current = {}, [], input_name
    for node in graph.node:
        inputs = [renamed.get(name, name) for name in node.input]
        skip = False
        if inputs and inputs[0] == current and node.output[0] not in outputs:
            if node.op_type == "Cast" and _cast_to_float(node):
                skip = True
            elif node.op_type in identity and len(inputs) == 2 and inputs[1] in constants:
                skip = _is_identity(constants[inputs[1]], identity[node.op_type])
        if skip:
            renamed[node.output[0]] = current
            continue
        del node.input[:]
        node.input.extend(inputs)
        kept.append(node)
    return kept


def _is_identity(value, identity: float) -> bool:
    """``value`` is a float constant of all ``identity`` that broadcasts over an NCHW image
    without changing its shape (a scalar or a (1, C, 1, 1) per-channel constant)."""
    per_channel = value.ndim <= 4 and all(n == 1 for n in value.shape[:1] + value.shape[2:])
    return value.dtype.kind == "f" and per_channel and bool((value == identity).all())


def _cast_to_float(node) -> bool:
    import onnx

    return any(a.name == "to" and a.i == onnx.TensorProto.FLOAT for a in node.attribute)


# ---------------------------------------------------------------------------- onnxruntime
def parse_device(device: Any) -> Tuple[str, Optional[int]]:
    """``(type, index)`` of a device given as text or a ``torch.device``: ``"cpu"`` ->
    ``("cpu", None)``, ``"cuda:1"`` -> ``("cuda", 1)`` (no torch needed).

    Raises:
        BadInputError: not of the form ``type`` or ``type:N``.
    """
    text = str(device or "cpu").strip()
    kind, _, index = text.partition(":")
    if not kind.isidentifier() or (index and not index.isdigit()):
        raise BadInputError(f"device '{device}' is not a device ('cpu', 'cuda', 'cuda:1', ...)")
    return kind, int(index) if index else None


def _positive_env_int(name: str) -> int:
    try:
        value = int(os.environ.get(name, "") or 0)
    except ValueError:
        return 0
    return max(value, 0)


def _physical_cores() -> int:
    """Physical cores of the machine (distinct core ids per package in sysfs), else the
    number of logical CPUs."""
    cores = set()
    for topology in Path("/sys/devices/system/cpu").glob("cpu[0-9]*/topology"):
        try:
            package = (topology / "physical_package_id").read_text().strip()
            core = (topology / "core_id").read_text().strip()
        except OSError:
            continue
        cores.add((package, core))
    return len(cores) or os.cpu_count() or 1


def default_num_threads() -> int:
    """The intra-op threads of siamtrack's ``InferenceSession`` objects when none are asked for.

    Where torch is loaded, ``torch.get_num_threads()`` (so ``torch.set_num_threads``
    governs both backends). Without torch, the number torch would choose: ``MKL_NUM_THREADS``,
    else ``OMP_NUM_THREADS``, else the physical cores; so a tracker made without torch runs
    its graphs on as many threads as one made with it.
    """
    torch = sys.modules.get("torch")
    get_num_threads = getattr(torch, "get_num_threads", None)
    if get_num_threads is not None:
        return int(get_num_threads())
    return (
        _positive_env_int("MKL_NUM_THREADS")
        or _positive_env_int("OMP_NUM_THREADS")
        or _physical_cores()
    )


def create_session(
    graph: Union[bytes, PathLike],
    *,
    device: Any = "cpu",
    num_threads: Optional[int] = None,
    batch_size: Optional[int] = None,
):
    """An ``onnxruntime.InferenceSession`` set up the way siamtrack runs its graphs (the one
    place they are made: trackers, export checks, benchmarks).

    Args:
        graph: serialized ONNX bytes or a file path.
        device: "cpu", or a CUDA device ("cuda", "cuda:1" or a ``torch.device``; needs
            onnxruntime with the CUDA provider).
        num_threads: intra-op threads (default ``default_num_threads()``:
            ``torch.get_num_threads()`` where torch is loaded, so ``torch.set_num_threads``
            governs both backends); no inter-op threads (the graphs are one chain, run
            sequentially).
        batch_size: fix the dynamic ``batch`` axis to this size, so that onnxruntime folds the
            shape computations into constants (bit-identical outputs; one session per size).

    Raises:
        MissingDependencyError: onnxruntime is not installed.
        BadInputError: a CUDA device and an onnxruntime without the CUDA provider.
    """
    ort = import_onnxruntime()
    kind, index = parse_device(device)
    providers = ["CPUExecutionProvider"]
    if kind == "cuda":
        if "CUDAExecutionProvider" not in ort.get_available_providers():
            raise BadInputError(
                f"device '{device}' with TRACKER.BACKEND onnxruntime needs onnxruntime with "
                f"CUDA (pip install onnxruntime-gpu); this one has "
                f"{ort.get_available_providers()}"
            )
        providers = [("CUDAExecutionProvider", {"device_id": index or 0})]
    options = ort.SessionOptions()
    options.intra_op_num_threads = int(num_threads or default_num_threads())
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # errors only
    # The worker threads spin between the nodes of a run but not after it: between frames the
    # caller decodes video, crops and draws (often with OpenCV's own threads), which spinning
    # workers would slow down (measured: a third of the update time with OpenCV beside it).
    options.add_session_config_entry("session.force_spinning_stop", "1")
    if batch_size is not None:
        options.add_free_dimension_override_by_name("batch", int(batch_size))
    if not isinstance(graph, bytes):
        graph = os.fspath(graph)
    return ort.InferenceSession(graph, options, providers=providers)
