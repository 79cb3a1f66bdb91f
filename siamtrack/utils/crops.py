"""The one crop function shared by training (pair mapper) and tracking.

A crop maps an axis-aligned window ``[x0, x1) x [y0, y1)`` of the image (continuous pixel
coordinates, see ``siamtrack/utils/boxes.py``) onto an ``out_size x out_size`` output with a
single sub-pixel affine warp (bilinear). Parts of the window outside the image are filled with
``pad_color`` (pysot pads with the image's mean colour). Unlike pysot's integer pad-then-slice
crop, the window centre maps exactly to the output centre ``out_size / 2``.

It lives in ``siamtrack.utils`` (numpy + OpenCV, no torch) so that the tracking engine can crop
without importing the data package (which loads torch and detectron2);
``siamtrack.data.crops`` is the same functions under the name training code uses.
"""

from typing import Optional, Sequence, Tuple

import cv2
import numpy as np

from .boxes import context_crop_side


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
    out: Optional[np.ndarray] = None,
) -> np.ndarray:
    """Warp the image window ``window_xyxy`` to an ``out_size x out_size`` crop.

    Args:
        image: HxWx3 uint8 (BGR) or float image.
        window_xyxy: window corners (x0, y0, x1, y1) in continuous image coordinates.
        out_size: side of the square output.
        pad_color: fill for the part of the window outside the image; default the image mean.
        out: an ``out_size x out_size x C`` C-contiguous array of the image's dtype to write
            the crop into (e.g. a row of a batch), or None for a new array.

    Returns:
        out_size x out_size x C array of the image's dtype (``out`` when given).
    """
    if image.ndim != 3 or image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"expected an HxWxC image, got shape {image.shape}")
    x0, y0, x1, y1 = (float(v) for v in window_xyxy)
    if not (x1 > x0 and y1 > y0):
        raise ValueError(f"crop window {list(window_xyxy)} must have positive width and height")
    return _warp(image, x0, y0, x1, y1, out_size, pad_color, out)


def _warp(image, x0, y0, x1, y1, out_size, pad_color, out) -> np.ndarray:
    """The crop of the window (x0, y0, x1, y1) (Python floats, checked) with ``cv2.warpAffine``.

    cv2 addresses pixel centres by integer indices (continuous x = index + 0.5 on both
    sides), so the matrix applied is ``shift @ crop_window_affine(window) @ unshift`` with
    ``shift``/``unshift`` moving by -/+ 0.5 px. Written out, its entries are
    ``[[s_x, 0, s_x * 0.5 + (t_x - 0.5)], [0, s_y, s_y * 0.5 + (t_y - 0.5)]]`` with
    ``s = out_size / (x1 - x0)`` and ``t = -x0 * s``: the product's terms are exact (times 1,
    0 or 0.5), so each entry is the same single rounding of the same two-term sum as the
    matrix product, bit for bit (``tests/data/test_crop_matrix.py``), without building and
    multiplying 3x3 arrays on every frame.
    """
    if pad_color is None:
        pad_color = mean_color(image)
    scale_x = out_size / (x1 - x0)
    scale_y = out_size / (y1 - y0)
    matrix = np.array(
        [
            [scale_x, 0.0, scale_x * 0.5 + (-x0 * scale_x - 0.5)],
            [0.0, scale_y, scale_y * 0.5 + (-y0 * scale_y - 0.5)],
        ]
    )
    return cv2.warpAffine(
        image,
        matrix,
        (out_size, out_size),
        dst=out,
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
    out: Optional[np.ndarray] = None,
) -> np.ndarray:
    """Crop a square of ``side`` image pixels centred on ``center_xy`` to ``out_size``
    (``out``: as in ``crop_window``)."""
    if not side > 0:
        raise ValueError(f"crop side must be positive, got {side}")
    if image.ndim != 3 or image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"expected an HxWxC image, got shape {image.shape}")
    cx, cy = float(center_xy[0]), float(center_xy[1])
    half = float(side) / 2.0  # the window of square_window, without the array round trip
    x0, y0, x1, y1 = cx - half, cy - half, cx + half, cy + half
    if not (x1 > x0 and y1 > y0):
        raise ValueError(f"crop window {[x0, y0, x1, y1]} must have positive width and height")
    return _warp(image, x0, y0, x1, y1, out_size, pad_color, out)


def siamese_crop_sides(
    width: float, height: float, context_amount: float, template_size: int, search_size: int
) -> Tuple[float, float]:
    """Sides (image px) of the template and search crops for a w x h target.

    The template crop side is the context side (``docs/conventions.md#crops``); the search crop keeps the same
    scale (image px per crop px) and is ``search_size / template_size`` times larger.
    """
    template_side = float(context_crop_side(width, height, context_amount))
    return template_side, template_side * search_size / template_size
