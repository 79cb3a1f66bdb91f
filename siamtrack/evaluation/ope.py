"""One-pass evaluation (OPE) metrics (spec §12), pure numpy.

Per sequence, with N frames:

- **success curve**: fraction of the N frames whose IoU with the ground truth is **> t**, for
  the 21 thresholds t = 0, 0.05, ..., 1; **AUC** is the mean of the 21 values (OTB, pysot,
  got10k's OTB experiment).
- **precision curve**: fraction of frames whose centre distance is **<= d** px, d = 0..50;
  reported at **20 px** (``precision_20``).
- **normalized precision**: the same with both centres divided by the ground-truth (w, h),
  thresholds 0..0.50 step 0.01, reported at **0.20** (a point of the curve, not an area; LaSOT).

Frames that cannot be compared -- the target is flagged absent (LaSOT full occlusion / out of
view, GOT-10k absence) or the ground truth is unknown or empty (NaN, w or h <= 0) -- stay in
the denominator and count as misses at every threshold, as pysot's toolkit does for LaSOT.
(pysot counts such frames as precision *hits* on other datasets because it gives them
distance -1; we treat all metrics alike.) A NaN prediction is a miss.

Centres are ``x + w/2`` for both prediction and ground truth. pysot and got10k use
``x + (w - 1)/2``; the shift is the same for both boxes and cancels in every distance, so the
numbers agree. Overall numbers are the mean over sequences (each sequence weighs the same).
"""

from typing import Dict, Iterable, Optional

import numpy as np

from ..utils.boxes import box_centers_xy, iou_xywh, is_valid_xywh

__all__ = [
    "SUCCESS_THRESHOLDS",
    "PRECISION_THRESHOLDS",
    "NORM_PRECISION_THRESHOLDS",
    "evaluate",
    "summarize",
    "METRIC_NAMES",
]

SUCCESS_THRESHOLDS = np.arange(21) / 20.0  # IoU 0, 0.05, ..., 1.0
PRECISION_THRESHOLDS = np.arange(51, dtype=np.float64)  # px 0..50
NORM_PRECISION_THRESHOLDS = np.arange(51) / 100.0  # 0..0.50
PRECISION_AT = 20  # index of 20 px
NORM_PRECISION_AT = 20  # index of 0.20
# Scalar metrics and their display names (fractions in [0, 1]).
METRIC_NAMES = {"auc": "AUC", "precision_20": "Prec@20", "norm_precision": "NPrec@0.2"}


def _fraction_below(values: np.ndarray, thresholds: np.ndarray, num_frames: int) -> np.ndarray:
    """Fraction (over num_frames) of finite values <= each threshold; NaN values are misses."""
    finite = values[np.isfinite(values)]
    return np.sum(finite[:, None] <= thresholds[None, :], axis=0) / float(num_frames)


def evaluate(
    pred_xywh: np.ndarray,
    gt_xywh: np.ndarray,
    absent: Optional[np.ndarray] = None,
    *,
    skip_first_frame: bool = False,
) -> Dict[str, object]:
    """OPE metrics of one sequence.

    Args:
        pred_xywh: (N, 4) predicted ``[x, y, w, h]`` per frame (row 0 = the initial box).
        gt_xywh: (N, 4) ground truth, same convention (NaN where unknown).
        absent: optional (N,) bool, True where the target is absent (counted as misses).
        skip_first_frame: leave out frame 0 (the given box), as GOT-10k's protocol does.

    Returns:
        dict with ``success_curve`` (21,), ``auc``, ``precision_curve`` (51,),
        ``precision_20``, ``norm_precision_curve`` (51,), ``norm_precision`` (fractions), and
        ``num_frames`` (the denominator) and ``num_compared`` (frames with a usable gt).
    """
    pred = np.asarray(pred_xywh, dtype=np.float64).reshape(-1, 4)
    gt = np.asarray(gt_xywh, dtype=np.float64).reshape(-1, 4)
    if len(pred) != len(gt):
        raise ValueError(f"{len(pred)} predicted boxes for {len(gt)} ground-truth boxes")
    absent = np.zeros(len(gt), bool) if absent is None else np.asarray(absent, bool).reshape(-1)
    if len(absent) != len(gt):
        raise ValueError(f"{len(absent)} absence flags for {len(gt)} frames")
    if skip_first_frame:
        pred, gt, absent = pred[1:], gt[1:], absent[1:]
    num_frames = len(gt)
    if num_frames == 0:
        raise ValueError("no frames to evaluate")
    compared = ~absent & is_valid_xywh(gt)
    pred, gt = pred[compared], gt[compared]
    pred_ok = is_valid_xywh(pred)

    iou = np.where(pred_ok, iou_xywh(pred, gt), -1.0)
    success_curve = np.sum(iou[:, None] > SUCCESS_THRESHOLDS[None, :], axis=0) / float(num_frames)

    offset = box_centers_xy(pred) - box_centers_xy(gt)
    offset[~np.all(np.isfinite(pred), axis=1)] = np.nan
    distance = np.hypot(offset[:, 0], offset[:, 1])
    norm_distance = np.hypot(offset[:, 0] / gt[:, 2], offset[:, 1] / gt[:, 3])
    precision_curve = _fraction_below(distance, PRECISION_THRESHOLDS, num_frames)
    norm_curve = _fraction_below(norm_distance, NORM_PRECISION_THRESHOLDS, num_frames)
    return {
        "success_curve": success_curve,
        "auc": float(np.mean(success_curve)),
        "precision_curve": precision_curve,
        "precision_20": float(precision_curve[PRECISION_AT]),
        "norm_precision_curve": norm_curve,
        "norm_precision": float(norm_curve[NORM_PRECISION_AT]),
        "num_frames": int(num_frames),
        "num_compared": int(compared.sum()),
    }


def summarize(per_sequence: Iterable[Dict[str, object]]) -> Dict[str, object]:
    """Mean over sequences of every curve and scalar (and of ``fps`` when present)."""
    results = list(per_sequence)
    if not results:
        raise ValueError("no sequences to summarize")
    overall = {}
    for key in ("success_curve", "precision_curve", "norm_precision_curve"):
        overall[key] = np.mean([r[key] for r in results], axis=0)
    for key in METRIC_NAMES:
        overall[key] = float(np.mean([r[key] for r in results]))
    overall["num_sequences"] = len(results)
    overall["num_frames"] = int(sum(r["num_frames"] for r in results))
    fps = [r["fps"] for r in results if np.isfinite(r.get("fps", np.nan))]
    overall["fps"] = float(np.mean(fps)) if fps else float("nan")
    return overall
