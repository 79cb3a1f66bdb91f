"""Box formats and conversions (pure numpy).

Convention (``docs/conventions.md#boxes``): continuous pixel coordinates everywhere. A box ``[x, y, w, h]`` covers
``x <= u < x + w``; its centre is ``(x + w/2, y + h/2)``; pixel ``i`` covers ``[i, i + 1)``.
Public APIs take and return top-left ``xywh``; nothing here adds or subtracts 1.
Every function accepts a single box of shape (4,) or an array of shape (N, 4).
"""

from typing import Sequence, Union

import numpy as np

from ..errors import BadInputError

ArrayLike = Union[np.ndarray, Sequence[float]]


def _as_boxes(boxes: ArrayLike) -> np.ndarray:
    array = np.asarray(boxes, dtype=np.float64)
    if array.shape[-1:] != (4,):
        raise BadInputError(
            f"expected boxes with 4 numbers in the last axis, got shape {array.shape}"
        )
    return array


def xywh_to_xyxy(boxes_xywh: ArrayLike) -> np.ndarray:
    b = _as_boxes(boxes_xywh)
    return np.concatenate([b[..., :2], b[..., :2] + b[..., 2:]], axis=-1)


def xywh_to_cxcywh(boxes_xywh: ArrayLike) -> np.ndarray:
    b = _as_boxes(boxes_xywh)
    return np.concatenate([b[..., :2] + b[..., 2:] / 2.0, b[..., 2:]], axis=-1)


def cxcywh_to_xywh(boxes_cxcywh: ArrayLike) -> np.ndarray:
    b = _as_boxes(boxes_cxcywh)
    return np.concatenate([b[..., :2] - b[..., 2:] / 2.0, b[..., 2:]], axis=-1)


def box_centers_xy(boxes_xywh: ArrayLike) -> np.ndarray:
    """Centres ``(x + w/2, y + h/2)`` of xywh boxes, shape (..., 2)."""
    return xywh_to_cxcywh(boxes_xywh)[..., :2]


def iou_xywh(boxes_a: ArrayLike, boxes_b: ArrayLike) -> np.ndarray:
    """Element-wise IoU of two equally shaped sets of xywh boxes (no +1 in widths).

    Boxes with non-positive width or height have IoU 0 with everything.
    """
    a = xywh_to_xyxy(boxes_a)
    b = xywh_to_xyxy(boxes_b)
    inter_w = np.clip(np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]), 0, None)
    inter_h = np.clip(np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]), 0, None)
    inter = inter_w * inter_h
    area_a = np.clip(a[..., 2] - a[..., 0], 0, None) * np.clip(a[..., 3] - a[..., 1], 0, None)
    area_b = np.clip(b[..., 2] - b[..., 0], 0, None) * np.clip(b[..., 3] - b[..., 1], 0, None)
    union = area_a + area_b - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)
    return iou


def is_valid_xywh(boxes_xywh: ArrayLike) -> np.ndarray:
    """True where a box is finite with positive width and height."""
    b = _as_boxes(boxes_xywh)
    return np.all(np.isfinite(b), axis=-1) & (b[..., 2] > 0) & (b[..., 3] > 0)


def polygon_bounds_xywh(polygon: Sequence[float]) -> np.ndarray:
    """Axis-aligned bounding box ``[x, y, w, h]`` of a polygon ``x1, y1, x2, y2, ...`` (VOT's
    rotated boxes: the smallest upright box holding every corner); NaN if any value is NaN."""
    points = np.asarray(polygon, dtype=np.float64).reshape(-1, 2)
    low, high = points.min(axis=0), points.max(axis=0)
    return np.concatenate([low, high - low])


def context_crop_side(width, height, context_amount: float):
    """Side of the square SiamFC/SiamRPN crop around a w x h target.

    ``sqrt((w + a(w+h)) * (h + a(w+h)))`` with ``a = context_amount`` (SiamFC's context).
    Works element-wise on arrays.
    """
    context = context_amount * (np.asarray(width) + np.asarray(height))
    return np.sqrt((np.asarray(width) + context) * (np.asarray(height) + context))


def parse_box_xywh(text: str, name: str = "box") -> np.ndarray:
    """Parse ``"x,y,w,h"`` (commas and/or spaces) into a float array, with a clear error."""
    parts = [p for p in text.replace(",", " ").split() if p]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise BadInputError(f"{name} '{text}' is not numeric: expected X,Y,W,H, e.g. 10,20,50,80")
    if len(values) != 4:
        raise BadInputError(f"{name} '{text}' has {len(values)} numbers: expected X,Y,W,H")
    box = np.asarray(values, dtype=np.float64)
    if not is_valid_xywh(box):
        raise BadInputError(f"{name} '{text}' must be finite with positive width and height")
    return box


def check_box_in_image(box_xywh: ArrayLike, image_hw, name: str = "box") -> None:
    """Raise ValueError unless the box is valid and overlaps the image of size (H, W)."""
    box = _as_boxes(box_xywh)
    height, width = image_hw[:2]
    if not is_valid_xywh(box):
        raise BadInputError(f"{name} {box.tolist()} must be finite with positive width and height")
    x0, y0, x1, y1 = xywh_to_xyxy(box)
    if x1 <= 0 or y1 <= 0 or x0 >= width or y0 >= height:
        raise BadInputError(
            f"{name} {box.tolist()} (x,y,w,h) lies outside the {width}x{height} image"
        )
