"""Long-term tracking measures (VOT-LT): tracking precision, recall and F-score (pure numpy).

A long-term tracker reports, per frame, a box (or none: a NaN row, the target is reported
absent) and a confidence. The rules (Lukezic et al., "Now you see me: evaluating performance in
long-term visual tracking", the VOT-LT challenges), per sequence, over frames 1..N-1 (frame 0,
the given box, is left out everywhere):

- **IoU** of a frame: of the reported box with the ground truth; 0 where the target is absent
  (flagged absent, or no valid ground-truth box) or the reported box is NaN.
- A frame is **reported at threshold t** when its box is finite and its confidence >= t. A NaN
  box is never a report, whatever its confidence, and a NaN confidence (a frame that could not
  be read) is never >= t. (VOT's toolkit counts an empty region with confidence >= t as a
  report of IoU 0; results files without confidences would then not score as their own
  decision.)
- **Pr_s(t)** = mean IoU over the frames reported at t (undefined when there is none);
  **Re_s(t)** = sum of the IoUs of the frames reported at t / number of frames where the
  target is present (undefined when there is none).

Over sequences: **Pr(t)** = mean of Pr_s(t) over the sequences with at least one frame
reported at t (the VOT-LT definition; vot-toolkit 0.9 instead counts Pr_s(t) = 1 for a
sequence without any), **Re(t)** = mean of Re_s(t) over the sequences where the target is
present at least once. **F(t)** = 2 Pr Re / (Pr + Re) (0 when both are 0).

**Thresholds**: every distinct finite confidence of a reported frame (finite box) of all
sequences, so **F** = max over t of F(t) is the exact maximum (vot-toolkit samples 100 of the
sorted confidences). Pr and Re are reported at that t (the highest t among ties), as is the
threshold itself. A tracker without confidences (all 1.0) has the single threshold 1.0: its F
is that of its own decision.

Also reported:

- ``*_decision``: F, Pr, Re of the tracker's own presence decision: a frame is reported when
  its box is finite (NaN rows are not reported), confidences play no part.
- ``auc_present``: OPE success AUC (``ope.evaluate``: 21 IoU thresholds, IoU > t) over the
  frames where the target is present, a NaN box being a miss; mean over the sequences with a
  present frame.
- ``absent_reported``: share of the frames where the target is absent that the tracker
  reported absent (NaN box), all sequences' frames pooled (NaN when no frame is absent).
"""

from typing import Dict, Iterable, List, Optional

import numpy as np

from ..utils.boxes import iou_xywh, is_valid_xywh
from .ope import SUCCESS_THRESHOLDS, _paired_frames, evaluate

__all__ = [
    "LONGTERM_METRIC_NAMES",
    "evaluate_longterm",
    "summarize_longterm",
    "tracking_precision_recall",
]

# Scalar metrics and their display names (fractions in [0, 1]); the first one ranks trackers.
LONGTERM_METRIC_NAMES = {
    "f_score": "F",
    "precision": "Pr",
    "recall": "Re",
    "f_score_decision": "F(own)",
    "precision_decision": "Pr(own)",
    "recall_decision": "Re(own)",
    "auc_present": "AUC(pres)",
    "absent_reported": "Abs.rep",
}


def _f_score(precision: np.ndarray, recall: np.ndarray) -> np.ndarray:
    total = precision + recall
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, 2 * precision * recall / np.where(total > 0, total, 1), 0.0)


def _curves(sequences: List[Dict], thresholds: np.ndarray, decision: bool):
    """Pr(t), Re(t) (NaN where undefined) for ascending ``thresholds`` (module docstring).

    ``decision``: every reported frame (finite box) has confidence 1 (the own decision).
    """
    precision_sum = np.zeros(len(thresholds))
    precision_count = np.zeros(len(thresholds))
    recall_sum = np.zeros(len(thresholds))
    recall_count = 0
    for sequence in sequences:
        reported = sequence["reported"]
        confidences = np.ones(len(reported)) if decision else sequence["confidences"]
        keep = reported & np.isfinite(confidences)
        order = np.argsort(confidences[keep], kind="stable")
        sorted_confidences, ious = confidences[keep][order], sequence["ious"][keep][order]
        first = np.searchsorted(sorted_confidences, thresholds, side="left")
        num_reported = len(ious) - first  # frames with confidence >= t
        iou_sums = np.concatenate([np.cumsum(ious[::-1])[::-1], [0.0]])[first]
        has_report = num_reported > 0
        precision_sum[has_report] += iou_sums[has_report] / num_reported[has_report]
        precision_count += has_report
        num_present = int(np.sum(sequence["target_present"]))
        if num_present:
            recall_sum += iou_sums / num_present
            recall_count += 1
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(precision_count > 0, precision_sum / precision_count, np.nan)
    recall = recall_sum / recall_count if recall_count else np.full(len(thresholds), np.nan)
    return precision, recall


def tracking_precision_recall(sequences: Iterable[Dict]) -> Dict[str, object]:
    """F, Pr, Re (best threshold and own decision) of sequences of ``evaluate_longterm``.

    Returns:
        dict with ``thresholds`` (T,) ascending, ``precision_curve`` / ``recall_curve`` /
        ``f_curve`` (T,), ``f_score``, ``precision``, ``recall``, ``threshold`` (the best t),
        ``f_score_decision``, ``precision_decision``, ``recall_decision``. Without any
        reported frame: T = 0, F 0, Pr NaN, Re 0; when the target is never present, Re and F
        are NaN.
    """
    sequences = list(sequences)
    confidences = [s["confidences"][s["reported"]] for s in sequences]
    pooled = np.concatenate(confidences) if confidences else np.zeros(0)
    thresholds = np.unique(pooled[np.isfinite(pooled)])
    precision, recall = _curves(sequences, thresholds, decision=False)
    f_curve = _f_score(precision, recall)
    out = {
        "thresholds": thresholds,
        "precision_curve": precision,
        "recall_curve": recall,
        "f_curve": f_curve,
    }
    if np.isfinite(f_curve).any():
        best = len(f_curve) - 1 - int(np.nanargmax(f_curve[::-1]))  # highest t among ties
        out.update(
            f_score=float(f_curve[best]),
            precision=float(precision[best]),
            recall=float(recall[best]),
            threshold=float(thresholds[best]),
        )
    else:  # nothing reported (or the target is never present)
        _, recall_none = _curves(sequences, np.array([np.inf]), decision=True)
        recall_none = float(recall_none[0])
        out.update(f_score=0.0 if np.isfinite(recall_none) else float("nan"))
        out.update(precision=float("nan"), recall=recall_none, threshold=float("nan"))
    precision, recall = _curves(sequences, np.ones(1), decision=True)
    out.update(
        precision_decision=float(precision[0]),
        recall_decision=float(recall[0]),
        f_score_decision=float(_f_score(precision, recall)[0]),
    )
    return out


def evaluate_longterm(
    pred_xywh: np.ndarray,
    gt_xywh: np.ndarray,
    confidences: Optional[np.ndarray] = None,
    absent: Optional[np.ndarray] = None,
) -> Dict[str, object]:
    """Long-term measures of one sequence (module docstring); frame 0 is left out.

    Args:
        pred_xywh: (N, 4) reported boxes, row 0 = the initial box; NaN rows where the tracker
            reports the target absent.
        gt_xywh: (N, 4) ground truth, same convention; NaN rows where the target is absent.
        confidences: optional (N,) confidence per frame; None = all 1.0.
        absent: optional (N,) bool, True where the target is absent (frames without a valid
            ground-truth box count as absent too).

    Returns:
        dict with the scalars of ``tracking_precision_recall`` for this sequence alone, its
        curves, ``success_curve`` (21,) and ``auc_present`` over the present frames (NaN
        without any), ``absent_reported`` (NaN without absent frames), the counts
        ``num_frames``, ``num_present``, ``num_absent``, ``num_absent_reported``, and the
        per-frame arrays ``ious``, ``confidences``, ``reported``, ``target_present`` (M,) of
        frames 1..N-1 that ``summarize_longterm`` pools.
    """
    pred, gt, absent = _paired_frames(pred_xywh, gt_xywh, absent, "absence", default=False)
    if confidences is None:
        confidences = np.ones(len(gt))
    confidences = np.asarray(confidences, dtype=np.float64).reshape(-1)
    if len(confidences) != len(gt):
        raise ValueError(f"{len(confidences)} confidences for {len(gt)} frames")
    pred, gt, absent, confidences = pred[1:], gt[1:], absent[1:], confidences[1:]
    target_present = ~absent & is_valid_xywh(gt)
    reported = np.all(np.isfinite(pred), axis=1)
    ious = np.where(target_present & reported, iou_xywh(pred, gt), 0.0)
    frames = {
        "ious": ious,
        "confidences": confidences,
        "reported": reported,
        "target_present": target_present,
    }
    metrics = tracking_precision_recall([frames])
    if target_present.any():
        success = evaluate(pred[target_present], gt[target_present])["success_curve"]
    else:
        success = np.full(len(SUCCESS_THRESHOLDS), np.nan)
    num_absent = int(np.sum(~target_present))
    num_absent_reported = int(np.sum(~target_present & ~reported))
    metrics.update(
        success_curve=success,
        auc_present=float(np.mean(success)),
        absent_reported=num_absent_reported / num_absent if num_absent else float("nan"),
        num_frames=int(len(gt)),
        num_present=int(target_present.sum()),
        num_absent=num_absent,
        num_absent_reported=num_absent_reported,
        **frames,
    )
    return metrics


def summarize_longterm(per_sequence: Iterable[Dict[str, object]]) -> Dict[str, object]:
    """Overall long-term numbers of ``evaluate_longterm`` dicts (module docstring), plus the
    mean ``fps`` of those that have one."""
    results = list(per_sequence)
    if not results:
        raise ValueError("no sequences to summarize")
    overall = tracking_precision_recall(results)
    curves = [r["success_curve"] for r in results if r["num_present"]]
    success = np.mean(curves, axis=0) if curves else np.full(len(SUCCESS_THRESHOLDS), np.nan)
    num_absent = sum(r["num_absent"] for r in results)
    num_absent_reported = sum(r["num_absent_reported"] for r in results)
    fps = [r["fps"] for r in results if np.isfinite(r.get("fps", np.nan))]
    overall.update(
        success_curve=success,
        auc_present=float(np.mean(success)),
        absent_reported=num_absent_reported / num_absent if num_absent else float("nan"),
        num_sequences=len(results),
        num_frames=int(sum(r["num_frames"] for r in results)),
        num_present=int(sum(r["num_present"] for r in results)),
        num_absent=int(num_absent),
        num_absent_reported=int(num_absent_reported),
        fps=float(np.mean(fps)) if fps else float("nan"),
    )
    return overall
