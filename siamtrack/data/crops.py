"""The one crop function shared by training (pair mapper) and tracking.

A crop maps an axis-aligned window ``[x0, x1) x [y0, y1)`` of the image (continuous pixel
coordinates, see ``siamtrack/utils/boxes.py``) onto an ``out_size x out_size`` output with a
single sub-pixel affine warp (bilinear). Parts of the window outside the image are filled with
``pad_color`` (pysot pads with the image's mean colour). Unlike pysot's integer pad-then-slice
crop, the window centre maps exactly to the output centre ``out_size / 2``.
"""

from typing import Optional, Sequence, Tuple

import cv2
import numpy as np

from ..utils.boxes import context_crop_side


def mean_color(image: np.ndarray) -> Tuple[float, ...]:
    """Per-channel mean of an HxWxC image (the padding colour of SiamFC-style crops)."""
    means = cv2.mean(image)
    return tuple(float(m) for m in means[: image.shape[2] if image.ndim == 3 else 1])


def crop_window_affine(window_xyxy: Sequence[float], out_size: int) -> np.ndarray:
    """2x3 matrix mapping image coordinates to crop coordinates for a window.

    Continuous coordinates on both sides: image point ``(x0, y0)`` maps to ``(0, 0)`` and
    ``(x1, y1)`` to ``(out_size, out_size)``.
    """
    x0, y0, x1, y1 = (float(v) for v in window_xyxy)
    if not (x1 > x0 and y1 > y0):
        raise ValueError(f"crop window {list(window_xyxy)} must have positive width and height")
    scale_x = out_size / (x1 - x0)
    scale_y = out_size / (y1 - y0)
    return np.array([[scale_x, 0.0, -x0 * scale_x], [0.0, scale_y, -y0 * scale_y]])


def crop_window(
    image: np.ndarray,
    window_xyxy: Sequence[float],
    out_size: int,
    pad_color: Optional[Sequence[float]] = None,
) -> np.ndarray:
    """Warp the image window ``window_xyxy`` to an ``out_size x out_size`` crop.

    Args:
        image: HxWx3 uint8 (BGR) or float image.
        window_xyxy: window corners (x0, y0, x1, y1) in continuous image coordinates.
        out_size: side of the square output.
        pad_color: fill for the part of the window outside the image; default the image mean.

    Returns:
        out_size x out_size x C array of the image's dtype.
    """
    if image.ndim != 3 or image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"expected an HxWxC image, got shape {image.shape}")
    if pad_color is None:
        pad_color = mean_color(image)
    to_crop = crop_window_affine(window_xyxy, out_size)
    # cv2 addresses pixel centres by integer indices: continuous x = index + 0.5 on both sides.
    shift = np.array([[1.0, 0.0, -0.5], [0.0, 1.0, -0.5], [0.0, 0.0, 1.0]])
    unshift = np.array([[1.0, 0.0, 0.5], [0.0, 1.0, 0.5], [0.0, 0.0, 1.0]])
    to_crop_indices = (shift @ np.vstack([to_crop, [0.0, 0.0, 1.0]]) @ unshift)[:2]
    return cv2.warpAffine(
        image,
        to_crop_indices,
        (out_size, out_size),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=tuple(float(c) for c in pad_color),
    )


def square_window(center_xy: Sequence[float], side: float) -> np.ndarray:
    """Window (x0, y0, x1, y1) of a square of ``side`` centred on ``center_xy``."""
    cx, cy = float(center_xy[0]), float(center_xy[1])
    half = float(side) / 2.0
    return np.array([cx - half, cy - half, cx + half, cy + half])


def crop_square(
    image: np.ndarray,
    center_xy: Sequence[float],
    side: float,
    out_size: int,
    pad_color: Optional[Sequence[float]] = None,
) -> np.ndarray:
    """Crop a square of ``side`` image pixels centred on ``center_xy`` to ``out_size``."""
    if not side > 0:
        raise ValueError(f"crop side must be positive, got {side}")
    return crop_window(image, square_window(center_xy, side), out_size, pad_color)


def siamese_crop_sides(
    width: float, height: float, context_amount: float, template_size: int, search_size: int
) -> Tuple[float, float]:
    """Sides (image px) of the template and search crops for a w x h target.

    The template crop side is the context side (``docs/conventions.md#crops``); the search crop keeps the same
    scale (image px per crop px) and is ``search_size / template_size`` times larger.
    """
    template_side = float(context_crop_side(width, height, context_amount))
    return template_side, template_side * search_size / template_size
