"""One-pass evaluation (OPE) metrics (``docs/conventions.md#evaluation``), pure numpy.

Two rule sets; ``siamtrack.evaluation.protocols`` picks one per benchmark.

**OTB / LaSOT (pysot's rule)**, ``evaluate`` + ``summarize``. Per sequence, with N frames:

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

**GOT-10k (the got10k toolkit's rule)**, ``evaluate_got10k`` + ``summarize_got10k``:

- frame 0 (the given box) is left out, and so is every frame whose target is not visible
  (``cover.label`` == 0); the toolkit ignores ``absence.label``;
- predicted and ground-truth boxes are clipped to the image first (``x`` to [0, W], ``w`` to
  [0, W - x], same for y/h), then ``IoU = inter / (union + eps)`` clipped to [0, 1], with eps
  the float64 machine epsilon;
- **AO** = mean IoU, **SR0.50** / **SR0.75** = fraction of IoUs **> 0.5** / **> 0.75**, success
  curve = fraction of IoUs > t for the 101 thresholds t = 0, 0.01, ..., 1;
- overall numbers pool the IoUs of all frames of all sequences (long sequences weigh more),
  they are not a mean of per-sequence numbers;
- a NaN predicted box on a scored frame gives a NaN IoU: like the toolkit, AO becomes NaN and
  SR / the curve count the frame as a miss;
- speed = mean of ``1 / t`` over every finite, positive per-frame time (frame 0 included),
  pooled over sequences like the IoUs.

Frames whose ground truth is unknown (NaN, the test split) are left out as well; the toolkit
refuses to score the test split at all (its ground truth is withheld).
"""

from typing import Dict, Iterable, Optional, Sequence

import numpy as np

from ..utils.boxes import box_centers_xy, iou_xywh, is_valid_xywh

__all__ = [
    "SUCCESS_THRESHOLDS",
    "PRECISION_THRESHOLDS",
    "NORM_PRECISION_THRESHOLDS",
    "evaluate",
    "summarize",
    "METRIC_NAMES",
    "GOT10K_SUCCESS_THRESHOLDS",
    "GOT10K_METRIC_NAMES",
    "bounded_iou_xywh",
    "evaluate_got10k",
    "summarize_got10k",
    "got10k_speed_fps",
]

SUCCESS_THRESHOLDS = np.arange(21) / 20.0  # IoU 0, 0.05, ..., 1.0
PRECISION_THRESHOLDS = np.arange(51, dtype=np.float64)  # px 0..50
NORM_PRECISION_THRESHOLDS = np.arange(51) / 100.0  # 0..0.50
PRECISION_AT = 20  # index of 20 px
NORM_PRECISION_AT = 20  # index of 0.20
# Scalar metrics and their display names (fractions in [0, 1]).
METRIC_NAMES = {"auc": "AUC", "precision_20": "Prec@20", "norm_precision": "NPrec@0.2"}
GOT10K_SUCCESS_THRESHOLDS = np.linspace(0.0, 1.0, 101)  # IoU 0, 0.01, ..., 1.0
GOT10K_METRIC_NAMES = {"ao": "AO", "sr50": "SR0.50", "sr75": "SR0.75"}


def _paired_frames(pred_xywh, gt_xywh, flags, flag_name: str, *, default: bool):
    """(N, 4) float64 predicted and ground-truth boxes and (N,) per-frame flags (``default``
    where None); a ValueError names what does not match the ground truth's length."""
    pred = np.asarray(pred_xywh, dtype=np.float64).reshape(-1, 4)
    gt = np.asarray(gt_xywh, dtype=np.float64).reshape(-1, 4)
    if len(pred) != len(gt):
        raise ValueError(f"{len(pred)} predicted boxes for {len(gt)} ground-truth boxes")
    flags = np.full(len(gt), default) if flags is None else np.asarray(flags, bool).reshape(-1)
    if len(flags) != len(gt):
        raise ValueError(f"{len(flags)} {flag_name} flags for {len(gt)} frames")
    return pred, gt, flags


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
    pred, gt, absent = _paired_frames(pred_xywh, gt_xywh, absent, "absence", default=False)
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


def _clip_xywh_to_image(boxes_xywh: np.ndarray, image_size_wh) -> np.ndarray:
    """Clip x to [0, W] and y to [0, H] first, then w to [0, W - x] and h to [0, H - y]."""
    width, height = float(image_size_wh[0]), float(image_size_wh[1])
    clipped = np.empty_like(boxes_xywh)
    clipped[:, 0] = np.clip(boxes_xywh[:, 0], 0.0, width)
    clipped[:, 1] = np.clip(boxes_xywh[:, 1], 0.0, height)
    clipped[:, 2] = np.clip(boxes_xywh[:, 2], 0.0, width - clipped[:, 0])
    clipped[:, 3] = np.clip(boxes_xywh[:, 3], 0.0, height - clipped[:, 1])
    return clipped


def bounded_iou_xywh(
    pred_xywh: np.ndarray, gt_xywh: np.ndarray, image_size_wh: Optional[Sequence[float]] = None
) -> np.ndarray:
    """Element-wise IoU as the got10k toolkit computes it, optionally inside the image.

    Args:
        pred_xywh: (N, 4) boxes ``[x, y, w, h]``.
        gt_xywh: (N, 4) boxes, same convention.
        image_size_wh: ``(width, height)`` of the image; if given, both sets of boxes are
            clipped to it first (see the module docstring).

    Returns:
        (N,) IoUs ``inter / (union + eps)`` clipped to [0, 1]; NaN where a box has a NaN.
    """
    pred = np.asarray(pred_xywh, dtype=np.float64).reshape(-1, 4)
    gt = np.asarray(gt_xywh, dtype=np.float64).reshape(-1, 4)
    if pred.shape != gt.shape:
        raise ValueError(f"{len(pred)} predicted boxes for {len(gt)} ground-truth boxes")
    if image_size_wh is not None:
        if len(image_size_wh) != 2 or not all(np.isfinite(v) and v > 0 for v in image_size_wh):
            raise ValueError(f"image_size_wh {tuple(image_size_wh)} is not a (width, height) > 0")
        pred, gt = _clip_xywh_to_image(pred, image_size_wh), _clip_xywh_to_image(gt, image_size_wh)
    with np.errstate(invalid="ignore"):
        left = np.maximum(pred[:, 0], gt[:, 0])
        top = np.maximum(pred[:, 1], gt[:, 1])
        right = np.minimum(pred[:, 0] + pred[:, 2], gt[:, 0] + gt[:, 2])
        bottom = np.minimum(pred[:, 1] + pred[:, 3], gt[:, 1] + gt[:, 3])
        inter = np.maximum(right - left, 0.0) * np.maximum(bottom - top, 0.0)
        union = pred[:, 2] * pred[:, 3] + gt[:, 2] * gt[:, 3] - inter
        return np.clip(inter / (union + np.finfo(np.float64).eps), 0.0, 1.0)


def _overlap_scores(ious: np.ndarray) -> Dict[str, object]:
    """AO, SR0.50, SR0.75 and the 101-point success curve of pooled IoUs (NaN if empty)."""
    if len(ious) == 0:
        nan, curve = float("nan"), np.full(len(GOT10K_SUCCESS_THRESHOLDS), np.nan)
        return {"ao": nan, "sr50": nan, "sr75": nan, "success_curve": curve}
    with np.errstate(invalid="ignore"):  # NaN IoUs are misses: NaN > t is False
        hits = ious[:, None] > GOT10K_SUCCESS_THRESHOLDS[None, :]
        return {
            "ao": float(np.mean(ious)),
            "sr50": float(np.mean(ious > 0.5)),
            "sr75": float(np.mean(ious > 0.75)),
            "success_curve": np.mean(hits, axis=0),
        }


def got10k_speed_fps(times: Optional[np.ndarray]) -> float:
    """Mean of ``1 / t`` over the finite, positive times (got10k's speed); NaN if there are none."""
    if times is None:
        return float("nan")
    times = np.asarray(times, dtype=np.float64).reshape(-1)
    times = times[np.isfinite(times) & (times > 0)]
    return float(np.mean(1.0 / times)) if len(times) else float("nan")


def evaluate_got10k(
    pred_xywh: np.ndarray,
    gt_xywh: np.ndarray,
    visible: Optional[np.ndarray] = None,
    *,
    image_size_wh: Sequence[float],
) -> Dict[str, object]:
    """GOT-10k metrics of one sequence, as the got10k toolkit computes them.

    Args:
        pred_xywh: (N, 4) predicted ``[x, y, w, h]`` per frame (row 0 = the initial box).
        gt_xywh: (N, 4) ground truth, same convention.
        visible: optional (N,) bool, True where the target is visible (GOT-10k: ``cover > 0``);
            None = every frame.
        image_size_wh: ``(width, height)`` of the frames; boxes are clipped to it.

    Returns:
        dict with ``ious`` (M,) of the scored frames (frames 1..N-1 that are visible and have a
        known ground truth), ``ao``, ``sr50``, ``sr75`` (fractions, NaN if M == 0),
        ``success_curve`` (101,) and ``num_frames`` (M).
    """
    pred, gt, visible = _paired_frames(pred_xywh, gt_xywh, visible, "visibility", default=True)
    scored = visible & np.all(np.isfinite(gt), axis=1)
    scored[:1] = False  # frame 0 is the given box
    ious = bounded_iou_xywh(pred[scored], gt[scored], image_size_wh)
    return dict(_overlap_scores(ious), ious=ious, num_frames=int(len(ious)))


def summarize_got10k(per_sequence: Iterable[Dict[str, object]]) -> Dict[str, object]:
    """Overall GOT-10k numbers: every scored frame of every sequence pooled (not a mean).

    Args:
        per_sequence: ``evaluate_got10k`` dicts; an optional ``frame_times`` array (seconds
            per frame) of each is pooled into ``fps`` with ``got10k_speed_fps``.
    """
    results = list(per_sequence)
    if not results:
        raise ValueError("no sequences to summarize")
    ious = np.concatenate([np.asarray(r["ious"], dtype=np.float64) for r in results])
    times = [
        np.asarray(r["frame_times"]).reshape(-1)
        for r in results
        if r.get("frame_times") is not None
    ]
    overall = _overlap_scores(ious)
    overall["num_sequences"] = len(results)
    overall["num_frames"] = int(len(ious))
    overall["fps"] = got10k_speed_fps(np.concatenate(times)) if times else float("nan")
    return overall
