"""Anchors of the Siamese RPN: shapes, the grid on the score map, and box decoding
(``docs/siamrpnpp.md#network``).

All boxes are in continuous search-crop pixel coordinates (pixel ``j`` covers ``[j, j + 1)``,
the crop centre of an S x S crop is ``S / 2``).

Anchor shapes use pysot's integer quantisation, which detectron2's ``DefaultAnchorGenerator``
does not (it keeps exact areas): for ratio r (= h / w) and stride s,
``w0 = floor(sqrt(s * s / r))``, ``h0 = floor(w0 * r)``, then both times each scale. For
stride 8, ratios [0.33, 0.5, 1, 2, 3], scale 8: (104, 32), (88, 40), (64, 64), (40, 80),
(32, 96).

The grid is placed where the network's receptive fields really are: ``score_map_geometry``
follows the backbone's grid (``SiamResNet.feature_grid``, ``AlexNet.feature_grid``), the template
centre crop, the head's unpadded 3x3 template and search convs (both the depthwise and the
up-channel head have them) and the correlation, and checks that the grid is centred on the crop
centre.
"""

import math
from dataclasses import dataclass
from typing import Callable, Sequence

import torch

from ...errors import ConfigError

__all__ = [
    "anchor_shapes_wh",
    "anchor_grid_cxcywh",
    "ScoreMapGeometry",
    "score_map_geometry",
    "decode_boxes_cxcywh",
    "cxcywh_to_xyxy",
]


def anchor_shapes_wh(stride: int, ratios: Sequence[float], scales: Sequence[float]) -> torch.Tensor:
    """Anchor (w, h) in pixels, pysot order (ratio-major, then scale).

    Returns:
        float32 tensor (A, 2), A = len(ratios) * len(scales).
    """
    shapes = []
    for ratio in ratios:
        if ratio <= 0:
            raise ValueError(f"anchor ratios must be > 0, got {list(ratios)}")
        base_w = int(math.sqrt(stride * stride / ratio))
        base_h = int(base_w * ratio)
        for scale in scales:
            shapes.append((base_w * scale, base_h * scale))
    return torch.tensor(shapes, dtype=torch.float32)


def anchor_grid_cxcywh(
    shapes_wh: torch.Tensor, size: int, first_center: float, stride: float
) -> torch.Tensor:
    """All anchors of a ``size x size`` score map.

    Args:
        shapes_wh: (A, 2) anchor sizes.
        size: score-map side.
        first_center: continuous coordinate of cell (0, 0)'s centre (x and y).
        stride: spacing of cells in pixels.

    Returns:
        (A, size, size, 4) float32 (cx, cy, w, h); element [a, row, col] is anchor ``a`` of
        cell (row, col), i.e. pysot's flattened order a * H * W + row * W + col.
    """
    centers = first_center + stride * torch.arange(size, dtype=torch.float32)
    num = shapes_wh.shape[0]
    cy = centers.view(1, size, 1).expand(num, size, size)
    cx = centers.view(1, 1, size).expand(num, size, size)
    w = shapes_wh[:, 0].view(num, 1, 1).expand(num, size, size)
    h = shapes_wh[:, 1].view(num, 1, 1).expand(num, size, size)
    return torch.stack([cx, cy, w, h], dim=-1).contiguous()


@dataclass(frozen=True)
class ScoreMapGeometry:
    """Where the score map sits in the search crop.

    Attributes:
        size: score-map side (H = W).
        first_center: continuous search-crop coordinate of cell 0's centre.
        stride: cell spacing in pixels.
        template_feature_size, search_feature_size: backbone feature sides.
        kernel_size: side of the head's template kernels.
    """

    size: int
    first_center: float
    stride: int
    template_feature_size: int
    search_feature_size: int
    kernel_size: int


# Crop sizes that centre the score map, per backbone layout (for the error message).
_CENTRED_SIZES = {
    "pysot": "8n + 7 (e.g. 127, 255) whose template features have an odd side",
    "standard": "8n + 1 (e.g. 129, 257) whose template features have an odd side",
    "alexnet": "8n + 7 (e.g. 127, 255, 287)",
}


def score_map_geometry(
    backbone,
    template_crop_start: Callable[[int], int],
    template_crop_size: int,
    template_size: int,
    search_size: int,
) -> ScoreMapGeometry:
    """Follow template and search through backbone, neck crop and head; check centring.

    Args:
        backbone: a ``SiamResNet`` or ``AlexNet`` (anything with ``feature_grid(input_size)``
            and ``layout``).
        template_crop_start: maps the template feature side to the first kept cell of the
            neck's centre crop (0 = no crop), e.g. ``SiamNeck.crop_start``.
        template_crop_size: kept cells (ignored when template_crop_start is 0).
        template_size, search_size: crop sides T and S in pixels.

    Raises:
        ValueError: when the template kernel or the score grid would not be centred on the
            crop centre (the network would then look off-centre), naming sizes that work.
    """
    t_size, t_first, stride = backbone.feature_grid(template_size)
    s_size, s_first, _ = backbone.feature_grid(search_size)
    layout = getattr(backbone, "layout", "?")
    crop_start = template_crop_start(t_size)
    if crop_start:
        t_first += stride * crop_start
        t_kept = template_crop_size
    else:
        t_kept = t_size
    kernel_size = t_kept - 2  # head's unpadded 3x3 template conv
    size = s_size - 2 - kernel_size + 1  # unpadded 3x3 search conv, then correlation
    if kernel_size < 1 or size < 1:
        raise ConfigError(
            f"MODEL.SIAMESE.TEMPLATE_SIZE={template_size} / SEARCH_SIZE={search_size} give "
            f"{t_size}x{t_size} template and {s_size}x{s_size} search features in the "
            f"'{layout}' layout: too small for a score map (search must be larger than template)"
        )
    # Continuous coordinates of the kernel centre (template) and of cell 0 (search).
    kernel_center = t_first + stride * (1 + (kernel_size - 1) / 2.0)
    first_center = s_first + stride * (1 + (kernel_size - 1) / 2.0)
    grid_center = first_center + stride * (size - 1) / 2.0
    residue = _CENTRED_SIZES.get(layout, "whose receptive-field grid is centred")
    for name, value, center in (
        ("TEMPLATE_SIZE", template_size, kernel_center),
        ("SEARCH_SIZE", search_size, grid_center),
    ):
        if abs(center - value / 2.0) > 1e-6:
            raise ConfigError(
                f"MODEL.SIAMESE.{name}={value} puts the network's receptive-field grid "
                f"{center - value / 2.0:+.1f} px off the crop centre in the '{layout}' layout; "
                f"use sizes {residue}"
            )
    return ScoreMapGeometry(size, first_center, stride, t_size, s_size, kernel_size)


def decode_boxes_cxcywh(
    deltas: torch.Tensor, anchors_cxcywh: torch.Tensor, scale_clamp: float
) -> torch.Tensor:
    """Apply (dx, dy, dw, dh) to anchors: cx = dx * aw + acx, w = exp(dw) * aw, ...

    The formula is detectron2's ``Box2BoxTransform`` with weights (1, 1, 1, 1). Robust to any
    input: NaN deltas become 0, dw/dh are clamped to ``[-scale_clamp, scale_clamp]`` (so exp()
    cannot overflow, and sizes never reach 0) and dx/dy to ``[-1e4, 1e4]``; the result is
    always finite.

    Args:
        deltas: (..., 4).
        anchors_cxcywh: broadcastable to ``deltas``, (..., 4).
        scale_clamp: bound of |dw| and |dh|.

    Returns:
        (..., 4) boxes (cx, cy, w, h) in the anchors' coordinates.
    """
    deltas = torch.nan_to_num(deltas.float(), nan=0.0)
    anchors = anchors_cxcywh.to(deltas)
    dxy = deltas[..., :2].clamp(-1e4, 1e4)
    dwh = deltas[..., 2:].clamp(-scale_clamp, scale_clamp)
    centers = anchors[..., :2] + dxy * anchors[..., 2:]
    sizes = anchors[..., 2:] * torch.exp(dwh)
    return torch.cat([centers, sizes], dim=-1)


def cxcywh_to_xyxy(boxes: torch.Tensor) -> torch.Tensor:
    """(..., 4) (cx, cy, w, h) -> (..., 4) (x0, y0, x1, y1)."""
    half = boxes[..., 2:] / 2.0
    return torch.cat([boxes[..., :2] - half, boxes[..., :2] + half], dim=-1)
