"""OpenCV's NanoTrack layout (``"opencv-nano"`` in ``EXPORT_LAYOUT_REGISTRY``): the two ONNX
files ``cv2.TrackerNano`` / ``cv::TrackerNano`` read.

Files (``OpenCVNanoGraphs.save``), the names of NanoTrack's official exports:

- ``nanotrack_backbone.onnx`` (``TrackerNano_Params.backbone``): input ``input`` (1, 3, H, W)
  float32 **RGB** 0-255 -> output ``output`` (1, C, h, w), the backbone feature. OpenCV runs it
  on the 127 x 127 template crop in ``init`` (-> the 8 x 8 template feature) and on the
  255 x 255 search crop in every ``update`` (-> 16 x 16), so H and W are symbolic (exported at
  255).
- ``nanotrack_head.onnx`` (``TrackerNano_Params.neckhead``): inputs ``input1`` (1, C, 8, 8)
  template feature and ``input2`` (1, C, 16, 16) search feature -> outputs ``output1``
  (1, 2, 16, 16) classification logits (channel 1 = foreground) and ``output2`` (1, 4, 16, 16)
  distances (l, t, r, b) from each point to the box edges in search-crop pixels, ``exp``
  applied: the model's ``raw_outputs``, before softmax and box decoding.

OpenCV feeds the backbone ``blobFromImage(crop, 1.0, Size(), Scalar(), swapRB=true)``, i.e. RGB
0-255, while siamtrack models take BGR (``INPUT.FORMAT "BGR"``, as NanoTrack trains). The
channel swap is folded into the stem convolution of an exported copy (its input channels are
permuted), so the graph computes exactly what the model computes on the BGR crop; a
normalisation other than NanoTrack's (mean 0, std 1) is kept in the graph, in RGB order.

``tracker_nano.cpp`` hard-codes what the model must fit: template 127 and search 255 crops,
point stride 16 and a (255 - 127) / 16 + 8 = 16 wide score map (NanoTrack v1 / v2 and models
fine-tuned from them; v3's 15 x 15 map cannot be read). It also uses its own tracker constants
(window influence 0.455, lr 0.37, penalty k 0.055), not the config's ``TRACKER.*``.
"""

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Sequence

import numpy as np
import torch
from torch import nn

from ...errors import BadInputError
from ...export.deploy import OutputDifference, output_difference, random_crops
from ...export.layouts import ExportLayout, register_export_layout
from ...export.onnx import OPSET, create_session, export_graph, parse_onnx, with_metadata
from ...io.files import atomic_output
from ...modeling import fold_batchnorm
from ...utils.paths import PathLike
from .manifest import EXPORT_LAYOUTS
from .meta_arch import NanoTrack

__all__ = [
    "BACKBONE_FILE",
    "HEAD_FILE",
    "OPENCV_NANO_SCORE_SIZE",
    "OpenCVNanoGraphs",
    "check_opencv_nano_graphs",
    "check_opencv_nano_model",
    "export_opencv_nano_graphs",
    "load_opencv_nano_graphs",
    "opencv_rgb_backbone",
]

BACKBONE_FILE = "nanotrack_backbone.onnx"
HEAD_FILE = "nanotrack_head.onnx"
# What tracker_nano.cpp hard-codes: crop sides, stride and score map side.
OPENCV_NANO_TEMPLATE_SIZE = 127
OPENCV_NANO_SEARCH_SIZE = 255
OPENCV_NANO_STRIDE = 16
OPENCV_NANO_SCORE_SIZE = (OPENCV_NANO_SEARCH_SIZE - OPENCV_NANO_TEMPLATE_SIZE) // 16 + 8


@dataclass(frozen=True)
class OpenCVNanoGraphs:
    """The backbone and head graphs ``cv2.TrackerNano`` reads, and their metadata.

    Attributes:
        backbone, head: serialized ``onnx.ModelProto`` bytes.
        metadata: ``layout`` ("opencv-nano"), ``input_channel_order`` ("RGB"), crop sizes,
            ``score_size``, ``meta_architecture`` (strings, also stored in both files).
    """

    backbone: bytes
    head: bytes
    metadata: Dict[str, str] = field(default_factory=dict)

    @property
    def files(self) -> Dict[str, bytes]:
        """``{file name: bytes}`` in the order they are written."""
        return {BACKBONE_FILE: self.backbone, HEAD_FILE: self.head}

    def save(self, output_dir: PathLike) -> List[Path]:
        """Write ``nanotrack_backbone.onnx`` and ``nanotrack_head.onnx`` (each atomically)."""
        paths = []
        for name, data in self.files.items():
            path = Path(output_dir) / name
            with atomic_output(path) as temp_path:
                temp_path.write_bytes(data)
            paths.append(path)
        return paths


def check_opencv_nano_model(model: nn.Module) -> None:
    """Raise ValueError, saying why, if ``cv2.TrackerNano`` cannot run ``model``'s graphs."""
    if not isinstance(model, NanoTrack):
        anchors = getattr(model, "num_anchors", "?")
        raise BadInputError(
            f"the opencv-nano layout is for anchor-free NanoTrack-family models (NanoTrack); "
            f"this model is {type(model).__name__} ({anchors} anchors per score-map cell), "
            "which cv2.TrackerNano cannot decode: use the siamtrack layout"
        )
    expected = {
        "template size": (model.template_size, OPENCV_NANO_TEMPLATE_SIZE),
        "search size": (model.search_size, OPENCV_NANO_SEARCH_SIZE),
        "point stride": (model.point_stride, OPENCV_NANO_STRIDE),
        "score map side": (model.score_size, OPENCV_NANO_SCORE_SIZE),
    }
    wrong = [f"{k} {got} (expected {want})" for k, (got, want) in expected.items() if got != want]
    if wrong:
        side = OPENCV_NANO_SCORE_SIZE
        raise BadInputError(
            f"cv2.TrackerNano cannot run this model: {', '.join(wrong)}. OpenCV's tracker "
            f"hard-codes 127/255 crops, stride 16 and a {side}x{side} score map (NanoTrack "
            "v1/v2; v3's map is 15x15): use the siamtrack layout (onnxruntime backend) instead"
        )


def _image_convs(backbone: nn.Module) -> List[nn.Conv2d]:
    return [m for m in backbone.modules() if isinstance(m, nn.Conv2d) and m.in_channels == 3]


class _RGBBackbone(nn.Module):
    """RGB 0-255 images (B, 3, H, W) -> the backbone's single feature (B, C, h, w)."""

    def __init__(self, backbone: nn.Module, mean_rgb: torch.Tensor, std_rgb: torch.Tensor):
        super().__init__()
        self.backbone = backbone
        (self.feature_name,) = backbone.output_shape()
        identity = bool((mean_rgb == 0).all() and (std_rgb == 1).all())
        self.normalize = not identity
        self.register_buffer("mean_rgb", mean_rgb.view(1, 3, 1, 1).clone(), False)
        self.register_buffer("std_rgb", std_rgb.view(1, 3, 1, 1).clone(), False)

    def forward(self, images_rgb: torch.Tensor) -> torch.Tensor:
        if self.normalize:
            images_rgb = (images_rgb - self.mean_rgb) / self.std_rgb
        return self.backbone(images_rgb)[self.feature_name]


def opencv_rgb_backbone(model: NanoTrack, *, fold: bool = True) -> nn.Module:
    """A copy of ``model``'s backbone that takes RGB 0-255 images, as OpenCV feeds them.

    For a BGR model (``input_format`` "BGR") the input channels of the convolution reading
    the image are permuted (B, G, R -> R, G, B), so ``backbone_rgb(x[:, ::-1])`` equals the
    model's feature of the BGR images ``x``; an RGB model already flips BGR inputs itself, so
    its backbone is used as is. ``pixel_mean`` / ``pixel_std`` are applied in RGB order.

    Args:
        model: a ``NanoTrack`` (not modified).
        fold: fold BatchNorm into the convolutions.

    Returns:
        module: ``forward(images_rgb (B, 3, H, W) float) -> (B, C, h, w)``, in eval mode.

    Raises:
        ValueError: the backbone has no, or several, convolutions reading the 3-channel image.
    """
    exported = fold_batchnorm(model) if fold else copy.deepcopy(model).eval()
    backbone = exported.backbone.to("cpu").float().eval()
    mean = exported.pixel_mean.detach().float().cpu().view(3)
    std = exported.pixel_std.detach().float().cpu().view(3)
    if exported.input_format == "BGR":
        convs = _image_convs(backbone)
        if len(convs) != 1 or convs[0].groups != 1:
            raise BadInputError(
                f"cannot fold OpenCV's RGB input into {type(backbone).__name__}: expected one "
                f"convolution reading the 3-channel image, found {len(convs)}"
            )
        with torch.no_grad():
            convs[0].weight.copy_(convs[0].weight.flip(1))
        mean, std = mean.flip(0), std.flip(0)
    return _RGBBackbone(backbone, mean, std).eval()


class _Head(nn.Module):
    """Backbone features of template (1, C, h, w) and search (1, C, H, W) -> raw outputs."""

    def __init__(self, head: nn.Module):
        super().__init__()
        self.head = head

    def forward(self, template_feature: torch.Tensor, search_feature: torch.Tensor):
        cls_logits, box_ltrb = self.head([template_feature], [search_feature])
        return cls_logits, box_ltrb


def export_opencv_nano_graphs(model: nn.Module, *, fold: bool = True) -> OpenCVNanoGraphs:
    """Export a NanoTrack-family model as the backbone / head graphs of ``cv2.TrackerNano``.

    Args:
        model: a ``NanoTrack`` with 127 / 255 crops, stride 16 and a 16 x 16 score map (not
            modified; a CPU float32 copy in eval mode is exported).
        fold: fold BatchNorm into the convolutions first (same outputs, fewer ops).

    Returns:
        OpenCVNanoGraphs (bytes; ``.save(folder)`` writes them).

    Raises:
        ValueError: the model does not fit OpenCV's tracker (``check_opencv_nano_model``).
    """
    check_opencv_nano_model(model)
    model = fold_batchnorm(model) if fold else copy.deepcopy(model).eval()
    backbone = opencv_rgb_backbone(model, fold=False)
    head = _Head(model.head).to("cpu").float().eval()
    template = torch.full((1, 3, model.template_size, model.template_size), 127.0)
    search = torch.full((1, 3, model.search_size, model.search_size), 127.0)
    with torch.no_grad():
        template_feature, search_feature = backbone(template), backbone(search)
    spatial = {2: "height", 3: "width"}
    backbone_graph = export_graph(
        backbone, (search,), ["input"], ["output"], {"input": spatial, "output": spatial}
    )
    head_graph = export_graph(
        head, (template_feature, search_feature), ["input1", "input2"], ["output1", "output2"], {}
    )
    metadata = {
        "layout": "opencv-nano",
        "input_channel_order": "RGB",
        "template_size": str(model.template_size),
        "search_size": str(model.search_size),
        "score_size": str(model.score_size),
        "feature_channels": str(int(template_feature.shape[1])),
        "template_feature_size": str(int(template_feature.shape[-1])),
        "meta_architecture": type(model).__name__,
        "opset": str(OPSET),
    }
    return OpenCVNanoGraphs(
        with_metadata(backbone_graph, metadata), with_metadata(head_graph, metadata), metadata
    )


def load_opencv_nano_graphs(folder: PathLike, names: Sequence[str] = (BACKBONE_FILE, HEAD_FILE)):
    """Read the two files written by ``OpenCVNanoGraphs.save`` (metadata from the backbone)."""
    folder = Path(folder)
    blobs = []
    for name in names:
        path = folder / name
        if not path.is_file():
            raise FileNotFoundError(f"{path} not found (tools/export_onnx.py --layout opencv-nano)")
        blobs.append(path.read_bytes())
    props = {p.key: p.value for p in parse_onnx(blobs[0]).metadata_props}
    return OpenCVNanoGraphs(blobs[0], blobs[1], props)


def check_opencv_nano_graphs(
    model: nn.Module, graphs: OpenCVNanoGraphs, *, batch_sizes: Sequence[int] = (1,), seed: int = 0
) -> List[OutputDifference]:
    """The opencv-nano check (batch 1, as OpenCV runs it; ``batch_sizes`` is not used): the
    backbone output on the template and on the search crop, fed RGB, against the model's
    features of the BGR crops, then ``output1`` / ``output2`` of the head on the graph's own
    features against ``model.raw_outputs``."""
    rng = np.random.default_rng(seed)
    backbone_session, head_session = (create_session(g) for g in (graphs.backbone, graphs.head))
    template = random_crops(1, model.template_size, rng)
    search = random_crops(1, model.search_size, rng)
    feature_name = next(iter(model.backbone.output_shape()))
    onnx_features, differences = {}, []
    with torch.no_grad():
        for kind, crops in (("template", template), ("search", search)):
            rgb = np.ascontiguousarray(crops[:, ::-1])
            (onnx_features[kind],) = backbone_session.run(None, {"input": rgb})
            images = model.normalize(torch.from_numpy(crops), kind, kind)
            reference = model.backbone(images)[feature_name]
            name = f"{BACKBONE_FILE}:output ({kind} {crops.shape[-1]})"
            differences.append(output_difference(name, onnx_features[kind], reference))
        cls_logits, box_ltrb = model.raw_outputs(
            model.encode_template(torch.from_numpy(template)), torch.from_numpy(search)
        )
    feeds = {"input1": onnx_features["template"], "input2": onnx_features["search"]}
    output1, output2 = head_session.run(["output1", "output2"], feeds)
    differences.append(output_difference(f"{HEAD_FILE}:output1 (cls logits)", output1, cls_logits))
    differences.append(output_difference(f"{HEAD_FILE}:output2 (box ltrb)", output2, box_ltrb))
    return differences


register_export_layout(
    ExportLayout(
        name="opencv-nano",
        file_names=(BACKBONE_FILE, HEAD_FILE),
        graphs_type=OpenCVNanoGraphs,
        export=export_opencv_nano_graphs,
        files=lambda graphs: graphs.files,
        check=check_opencv_nano_graphs,
        usage=lambda output_dir: (
            f"run it with: cv2.TrackerNano_Params() backbone={output_dir}/{BACKBONE_FILE} "
            f"neckhead={output_dir}/{HEAD_FILE}"
        ),
        description=EXPORT_LAYOUTS["opencv-nano"],
    )
)
