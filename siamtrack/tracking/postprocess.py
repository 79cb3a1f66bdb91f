"""SiamRPN++ box selection and state update (``docs/siamrpnpp.md#tracker``), pure numpy, continuous coordinates.

The network gives, for every anchor ``(a, row, col)``, a foreground probability and a decoded
box ``(cx, cy, w, h)`` in search-crop pixels (crop centre ``S/2``). The tracker then

1. penalises changes of scale and aspect ratio relative to the current target:
   ``penalty = exp(-(r_c * s_c - 1) * penalty_k)`` with ``change(r) = max(r, 1/r)``,
   ``s_c = change(padded(w_pred, h_pred) / padded(w_tgt, h_tgt))``,
   ``r_c = change((w_tgt / h_tgt) / (w_pred / h_pred))``, ``padded(w, h) = sqrt((w+p)(h+p))``,
   ``p = (w + h) / 2``;
2. blends in a cosine (Hann) window: ``pscore = penalty * score * (1 - wi) + hann * wi``;
3. takes the arg-max, moves the centre by the box's offset from the crop centre and smooths the
   size with ``lr = penalty * score * LR``;
4. clips the centre to the image and the size to ``[min_size, image size]``.

Unlike pysot, the offsets are measured from the exact crop centre (the crop function maps the
target centre to ``S/2``), so a zero-offset prediction leaves the centre unchanged bit for bit.
"""

from typing import NamedTuple, Tuple

import numpy as np

__all__ = ["hann_window", "scale_ratio_penalty", "Selection", "select_best", "update_target"]


def _centred_hanning(size: int) -> np.ndarray:
    """Hann window of ``size`` cells whose peak (1) is cell ``size // 2``.

    For odd sizes this is ``np.hanning(size)``. For even sizes (NanoTrack v1/v2's 16x16 map,
    whose cell 8 lies on the crop centre) it is the symmetric window of ``2 * (size // 2) + 1``
    cells without its last cell, so it peaks on the crop centre, where the target was;
    ``np.hanning(16)`` would peak half a cell (8 px) up-left of it.
    """
    centre = size // 2
    half = max(centre, size - 1 - centre)
    return np.hanning(2 * half + 1)[half - centre : half - centre + size]


def hann_window(height: int, width: int) -> np.ndarray:
    """Cosine window (H, W), 1 on the centre cell ``(H // 2, W // 2)`` (the cell on the crop
    centre), falling to 0 towards the border."""
    return np.outer(_centred_hanning(height), _centred_hanning(width))


def _change(ratio: np.ndarray) -> np.ndarray:
    return np.maximum(ratio, 1.0 / ratio)


def _padded_size(width, height):
    pad = (width + height) * 0.5
    return np.sqrt((width + pad) * (height + pad))


def scale_ratio_penalty(
    pred_wh: np.ndarray, target_wh: Tuple[float, float], penalty_k: float
) -> np.ndarray:
    """Penalty in (0, 1] for changing scale or aspect ratio (1 when nothing changes).

    Args:
        pred_wh: array (..., 2), predicted (w, h) in search-crop pixels (positive).
        target_wh: current target (w, h) in the same crop pixels.
        penalty_k: strength (``TRACKER.PENALTY_K``).

    Returns:
        array (...,) of penalties.
    """
    pred_w, pred_h = pred_wh[..., 0], pred_wh[..., 1]
    target_w, target_h = float(target_wh[0]), float(target_wh[1])
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        scale_change = _change(_padded_size(pred_w, pred_h) / _padded_size(target_w, target_h))
        ratio_change = _change((target_w / target_h) / (pred_w / pred_h))
        penalty = np.exp(-(ratio_change * scale_change - 1.0) * penalty_k)
    return np.nan_to_num(penalty, nan=0.0, posinf=0.0, neginf=0.0)


class Selection(NamedTuple):
    """The anchor the tracker picked.

    Attributes:
        index: flat index ``a * H * W + row * W + col`` (pysot's order).
        box_cxcywh: float64 (4,), its decoded box in search-crop pixels.
        score: its raw foreground probability.
        penalty: its scale/ratio penalty.
    """

    index: int
    box_cxcywh: np.ndarray
    score: float
    penalty: float


def select_best(
    scores: np.ndarray,
    boxes_cxcywh: np.ndarray,
    target_wh_crop: Tuple[float, float],
    window: np.ndarray,
    penalty_k: float,
    window_influence: float,
) -> Selection:
    """Pick the anchor with the best penalised, windowed score.

    Args:
        scores: (A, H, W) foreground probabilities.
        boxes_cxcywh: (A, H, W, 4) decoded boxes in search-crop pixels.
        target_wh_crop: current target size in search-crop pixels.
        window: (H, W) cosine window (``hann_window``); broadcast over the A anchors.
        penalty_k, window_influence: ``TRACKER.PENALTY_K``, ``TRACKER.WINDOW_INFLUENCE``.
    """
    scores = np.asarray(scores, dtype=np.float64)
    boxes = np.asarray(boxes_cxcywh, dtype=np.float64)
    if scores.ndim != 3 or boxes.shape != scores.shape + (4,):
        raise ValueError(
            f"expected scores (A, H, W) and boxes (A, H, W, 4), got {scores.shape} and {boxes.shape}"
        )
    penalty = scale_ratio_penalty(boxes[..., 2:], target_wh_crop, penalty_k)
    penalized = penalty * scores
    blended = penalized * (1.0 - window_influence) + window[None] * window_influence
    best = int(np.argmax(blended))  # flat index in (a, row, col) order
    return Selection(
        index=best,
        box_cxcywh=boxes.reshape(-1, 4)[best].copy(),
        score=float(scores.reshape(-1)[best]),
        penalty=float(penalty.reshape(-1)[best]),
    )


def update_target(
    center_xy: np.ndarray,
    size_wh: np.ndarray,
    selection: Selection,
    crop_center: float,
    crop_scale: float,
    lr: float,
    image_hw: Tuple[int, int],
    min_size: float,
) -> Tuple[np.ndarray, np.ndarray]:
    """New target centre and size from the selected box.

    Args:
        center_xy: float64 (2,), current centre in image pixels.
        size_wh: float64 (2,), current size in image pixels.
        selection: output of ``select_best``.
        crop_center: ``S / 2``, the crop point the current centre maps to.
        crop_scale: crop pixels per image pixel.
        lr: ``TRACKER.LR``; the size moves by ``penalty * score * lr`` of the way.
        image_hw: (H, W) of the frame, for clipping.
        min_size: smallest reported side (px), capped by the image size.

    Returns:
        (center_xy, size_wh), new float64 arrays.
    """
    box = selection.box_cxcywh
    offset_xy = (box[:2] - crop_center) / crop_scale
    pred_wh = box[2:] / crop_scale
    step = selection.penalty * selection.score * lr
    new_center = center_xy + offset_xy
    # Same as (1 - step) * old + step * new, but an unchanged size stays bit-identical.
    new_size = size_wh + step * (pred_wh - size_wh)
    height, width = float(image_hw[0]), float(image_hw[1])
    limits = np.array([width, height])
    new_center = np.clip(new_center, 0.0, limits)
    new_size = np.clip(new_size, np.minimum(min_size, limits), limits)
    return new_center, new_size
