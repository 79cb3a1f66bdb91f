"""Pair-crop augmentation of SiamRPN++ / NanoTrack training (``docs/siamrpnpp.md#training-recipe``), without a 511 intermediate crop.

pysot first warps a ``511 x 511`` context crop around the target (side ``s_x = s_z * 511/127``,
so one 511-pixel = ``s_z / 127`` image pixels) and then warps a randomly shifted and scaled
sub-window of it to the 127/255 output. Both warps are axis-aligned scale + translation maps,
so their composition is one such map: the sub-window is itself an axis-aligned window of the
original image. :func:`sample_crop_window` computes that window directly in image coordinates
and the crop is a single :func:`~siamtrack.data.crops.crop_window` call. Geometry per axis,
with ``u = s_z / T`` image pixels per output pixel (``T`` = template size; u is the 511 crop's
pixel size):

- window side = ``out_size * u * scale`` with ``scale = 1 + U(-1, 1) * SCALE`` (independent per
  axis, so the aspect ratio changes);
- window centre = target centre + ``U(-1, 1) * SHIFT * u`` (SHIFT in output/511 pixels);
- as pysot clamps shift and scale so the sub-window stays inside the 511 crop, the window stays
  inside a virtual context square of side ``(2 * S + 1) * u`` (511 for S = 255) around the
  target; out-of-image parts get the image's mean colour, as pysot's 511 crop does;
- the target box in the crop is ``(box - window_origin) / (u * scale)``, i.e. the box size
  times ``T / s_z`` divided by the scale factor, as in pysot, in continuous coordinates.

The one difference: the output is interpolated once from the original image (sharper) instead of
twice, and ``SCALE``/``SHIFT`` act on the continuous window (no ``size - 1`` pixel-index
convention). Colour, blur, flip and gray follow pysot's ``pysot/datasets/augmentation.py`` and act on the output crop.
"""

from dataclasses import dataclass
from typing import Sequence, Tuple

import cv2
import numpy as np

# pysot's fixed RGB "PCA" matrix of the colour jitter (pysot/datasets/augmentation.py).
_RGB_VARIANCE = np.array(
    [
        [-0.55919361, 0.98062831, -0.41940627],
        [1.72091413, 0.19879334, -1.82968581],
        [4.64467907, 4.73710203, 4.88324118],
    ]
)
_BLUR_SIZES = np.arange(5, 46, 2)


@dataclass(frozen=True)
class CropAugParams:
    """Augmentation of one branch (template or search), ``INPUT.TEMPLATE_AUG`` / ``SEARCH_AUG``.

    Attributes:
        shift: max shift of the window centre, in output-crop pixels.
        scale: max relative change of the window side, per axis.
        blur: probability of the cross-shaped motion blur.
        flip: probability of a horizontal flip.
        color: probability of the PCA colour offset.
    """

    shift: float = 0.0
    scale: float = 0.0
    blur: float = 0.0
    flip: float = 0.0
    color: float = 0.0

    @classmethod
    def from_config(cls, node) -> "CropAugParams":
        return cls(
            shift=float(node.SHIFT),
            scale=float(node.SCALE),
            blur=float(node.BLUR),
            flip=float(node.FLIP),
            color=float(node.COLOR),
        )


def sample_crop_window(
    box_xywh: Sequence[float],
    out_size: int,
    unit: float,
    virtual_side: float,
    params: CropAugParams,
    rng: np.random.Generator,
) -> Tuple[np.ndarray, np.ndarray]:
    """Random crop window around a target and the target's box in the crop.

    Args:
        box_xywh: target box (x, y, w, h) in continuous image coordinates.
        out_size: side of the output crop (127 template, 255 search).
        unit: image pixels per output pixel without augmentation (``s_z / T``).
        virtual_side: side, in output pixels, of the context square the window must stay in
            (pysot's 511 crop: ``2 * search_size + 1``).
        params: shift/scale limits.
        rng: random generator (two draws for scale, two for shift, always, so the stream does
            not depend on the parameter values).

    Returns:
        window_xyxy (4,) in image coordinates and box_xyxy (4,) in output-crop coordinates.
    """
    x, y, w, h = (float(v) for v in box_xywh)
    center = np.array([x + w / 2.0, y + h / 2.0])
    scales = 1.0 + rng.uniform(-1.0, 1.0, size=2) * params.scale
    scales = np.minimum(scales, virtual_side / out_size)  # window never larger than the square
    shifts = rng.uniform(-1.0, 1.0, size=2) * params.shift  # output pixels
    max_shift = (virtual_side - out_size * scales) / 2.0
    shifts = np.clip(shifts, -max_shift, max_shift)
    window_sides = out_size * unit * scales  # image pixels, per axis
    window_center = center + shifts * unit
    window_xyxy = np.concatenate(
        [window_center - window_sides / 2, window_center + window_sides / 2]
    )
    box_xyxy = np.array([x, y, x + w, y + h])
    crop_box = (box_xyxy - np.tile(window_xyxy[:2], 2)) * np.tile(out_size / window_sides, 2)
    return window_xyxy, crop_box


def color_offset(crop: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Subtract pysot's random PCA colour offset (BGR) from a uint8 crop (rounded, clipped)."""
    offset_rgb = _RGB_VARIANCE @ rng.standard_normal(3)
    shifted = crop.astype(np.float32) - offset_rgb[::-1].astype(np.float32)
    return np.clip(np.rint(shifted), 0, 255).astype(np.uint8)


def motion_blur(crop: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """pysot's cross-shaped blur: odd size k in 5..45, centre column weight wx/k, centre row
    weight (1 - wx)/k, i.e. a blend of a vertical and a horizontal k-box filter."""
    size = int(rng.choice(_BLUR_SIZES))
    weight_vertical = float(rng.random())
    vertical = cv2.blur(crop, (1, size))
    horizontal = cv2.blur(crop, (size, 1))
    return cv2.addWeighted(vertical, weight_vertical, horizontal, 1.0 - weight_vertical, 0.0)


def hflip(crop: np.ndarray, box_xyxy: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Mirror a crop horizontally; the box follows (continuous coordinates: x -> W - x)."""
    width = crop.shape[1]
    flipped_box = np.array([width - box_xyxy[2], box_xyxy[1], width - box_xyxy[0], box_xyxy[3]])
    return np.ascontiguousarray(crop[:, ::-1]), flipped_box


def to_gray(crop: np.ndarray) -> np.ndarray:
    """BGR -> gray -> BGR (3 equal channels)."""
    return cv2.cvtColor(cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)


def photometric_augment(
    crop: np.ndarray, box_xyxy: np.ndarray, params: CropAugParams, rng: np.random.Generator
) -> Tuple[np.ndarray, np.ndarray]:
    """Colour, blur, flip in pysot's order. Each decision draws from ``rng`` every time."""
    do_color, do_blur, do_flip = rng.random(3) < np.array([params.color, params.blur, params.flip])
    if do_color:
        crop = color_offset(crop, rng)
    if do_blur:
        crop = motion_blur(crop, rng)
    if do_flip:
        crop, box_xyxy = hflip(crop, box_xyxy)
    return crop, box_xyxy
