"""Where SiamFC's score map sits in the search crop, and which crop sizes centre it.

The response is the cross-correlation of the template's ``t x t`` feature map (the kernel)
with the search's ``s x s`` map: ``(s - t + 1)`` cells per side, cell ``j`` centred on the
search-crop coordinate ``first + stride * ((t - 1) / 2 + j)``, where ``first`` and ``stride``
are the backbone's grid (``AlexNet.feature_grid``: 43.5 and 8). The tracker and the
training labels assume that the centre cell ``(s - t + 1) // 2`` lies on the search crop
centre ``S / 2`` and the kernel's centre on the template crop centre ``T / 2`` (targets are
cropped centred). ``response_geometry`` checks both and refuses other sizes with the sizes
that work: with every layer unpadded, an ``n``-pixel crop is centred when ``n`` is the
receptive field plus a multiple of the stride (``87 + 8k``: 127, 255, ...), and the score map
has a centre cell when the search size exceeds the template size by a multiple of twice the
stride (255 - 127 = 8 * 16: a 17x17 map).
"""

from dataclasses import dataclass
from typing import List

import torch

from ...errors import ConfigError

__all__ = ["ResponseGeometry", "cell_centers_xy", "receptive_field", "response_geometry"]


@dataclass(frozen=True)
class ResponseGeometry:
    """The score map of a template/search size pair.

    Attributes:
        size: score-map side (17 for 127 / 255).
        first_center: continuous search-crop coordinate of cell 0's centre (63.5).
        stride: cell spacing in search-crop pixels (8).
        template_feature_size, search_feature_size: backbone feature sides (6, 22).
        receptive_field: side of the input square one feature cell sees (87).
    """

    size: int
    first_center: float
    stride: int
    template_feature_size: int
    search_feature_size: int
    receptive_field: int


def receptive_field(backbone) -> int:
    """Side (px) of the smallest input that gives one feature cell: what one cell sees (87)."""
    size = 1
    while backbone.feature_grid(size)[0] < 1:
        size += 1
    return size


def _centred_sizes(backbone, around: int, count: int = 3) -> List[int]:
    """The ``count`` input sizes nearest ``around`` whose feature grid is centred."""
    sizes = []
    for size in range(1, 2 * around + 64):
        features, first, stride = backbone.feature_grid(size)
        if features >= 1 and abs(first + stride * (features - 1) / 2.0 - size / 2.0) < 1e-6:
            sizes.append(size)
    return sorted(sorted(sizes, key=lambda s: (abs(s - around), s))[:count])


def response_geometry(backbone, template_size: int, search_size: int) -> ResponseGeometry:
    """Follow the template and search crops through ``backbone`` and the correlation.

    Args:
        backbone: anything with ``feature_grid(input_size) -> (size, first_center, stride)``
            (``siamtrack.modeling.AlexNet``).
        template_size, search_size: crop sides T and S in pixels.

    Raises:
        ConfigError: the crops are too small, or the kernel or the centre score cell would
            not lie on its crop's centre (the message names sizes that work).
    """
    t_size, t_first, stride = backbone.feature_grid(template_size)
    s_size, s_first, _ = backbone.feature_grid(search_size)
    field = receptive_field(backbone)
    size = s_size - t_size + 1
    sizes = f"MODEL.SIAMESE.TEMPLATE_SIZE={template_size} / SEARCH_SIZE={search_size}"
    if t_size < 1 or size < 1:
        raise ConfigError(
            f"{sizes} give {t_size}x{t_size} template and {s_size}x{s_size} search features: "
            f"too small for a score map (each crop needs at least the {field} px receptive "
            "field, the search crop more than the template)"
        )
    kernel_center = t_first + stride * (t_size - 1) / 2.0
    first_center = s_first + stride * (t_size - 1) / 2.0
    centre_cell = first_center + stride * (size // 2)
    off = [
        f"{name} {center - value / 2.0:+.1f} px off its crop centre"
        for name, center, value in (
            ("the template kernel is", kernel_center, template_size),
            ("the centre score cell is", centre_cell, search_size),
        )
        if abs(center - value / 2.0) > 1e-6
    ]
    if off:
        templates = _centred_sizes(backbone, template_size)
        nearest = min(templates, key=lambda t: (abs(t - template_size), t))
        searches = [
            s for s in _centred_sizes(backbone, search_size, 8) if (s - nearest) % (2 * stride) == 0
        ]
        searches = sorted(sorted(searches, key=lambda s: (abs(s - search_size), s))[:3])
        raise ConfigError(
            f"{sizes}: {' and '.join(off)}; SiamFC (stride {stride}, receptive field {field} px) "
            f"needs sizes {field} + {stride}k with SEARCH_SIZE - TEMPLATE_SIZE a multiple of "
            f"{2 * stride}: TEMPLATE_SIZE e.g. {', '.join(map(str, templates))}; with "
            f"{nearest}, SEARCH_SIZE e.g. {', '.join(map(str, searches))} (SiamFC: 127 / 255)"
        )
    return ResponseGeometry(size, first_center, stride, t_size, s_size, field)


def cell_centers_xy(geometry: ResponseGeometry) -> torch.Tensor:
    """(H, W, 2) float32 (x, y) centres of the score-map cells in search-crop pixels."""
    coords = geometry.first_center + geometry.stride * torch.arange(
        geometry.size, dtype=torch.float64
    )
    grid_y, grid_x = torch.meshgrid(coords, coords, indexing="ij")
    return torch.stack([grid_x, grid_y], dim=-1).float()
