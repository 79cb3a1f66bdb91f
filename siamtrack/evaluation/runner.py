"""Running trackers over sequences (OPE) and evaluating result files (pure numpy).

``run_ope(tracker, sequences)`` tracks every sequence from its first ground-truth box, can
write the results (OTB or GOT-10k layout) and returns an ``OPEReport``. Result files that
already exist are reused (the run resumes) unless ``overwrite=True``.
``evaluate_results(result_dir, tracker_name, sequences)`` scores existing result files, e.g. of
other trackers, so they can be compared in one table and one plot.
"""

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Optional, Sequence, Union

import numpy as np
from tqdm import tqdm

from ..utils.boxes import is_valid_xywh
from .ope import METRIC_NAMES, evaluate, summarize
from .result_io import (
    atomic_write_text,
    find_result_file,
    read_results,
    write_got10k_results,
    write_otb_results,
)

__all__ = ["OPEReport", "run_ope", "evaluate_results", "format_table", "save_reports_json"]

logger = logging.getLogger(__name__)

PathLike = Union[str, os.PathLike]
RESULT_FORMATS = ("otb", "got10k")


@dataclass
class OPEReport:
    """OPE numbers of one tracker.

    Attributes:
        tracker_name: name used for result folders, tables and plot legends.
        per_sequence: ``{sequence name: evaluate(...) dict + "fps"}``, in sequence order.
        overall: ``summarize(per_sequence)``: mean ``auc``, ``precision_20``,
            ``norm_precision`` (fractions), mean curves, ``fps``, counts.
        boxes: ``{sequence name: (N, 4) predicted boxes}``.
    """

    tracker_name: str
    per_sequence: Dict[str, Dict[str, object]]
    overall: Dict[str, object]
    boxes: Dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def to_dict(self) -> Dict[str, object]:
        """JSON-friendly scalars (curves left out)."""

        def scalars(metrics):
            out = {}
            for key, value in metrics.items():
                if isinstance(value, np.ndarray):
                    continue
                out[key] = None if isinstance(value, float) and not np.isfinite(value) else value
            return out

        return {
            "tracker": self.tracker_name,
            "overall": scalars(self.overall),
            "sequences": {name: scalars(m) for name, m in self.per_sequence.items()},
        }


def _fps(times: Optional[np.ndarray]) -> float:
    if times is None or len(times) < 2 or not np.sum(times[1:]) > 0:
        return float("nan")
    return float((len(times) - 1) / np.sum(times[1:]))


def _evaluate_sequence(sequence, boxes: np.ndarray, times: Optional[np.ndarray], skip_first: bool):
    if len(boxes) != len(sequence):
        raise ValueError(
            f"sequence '{sequence.name}': {len(boxes)} result boxes for {len(sequence)} frames"
        )
    metrics = evaluate(boxes, sequence.boxes_xywh, sequence.absent, skip_first_frame=skip_first)
    metrics["fps"] = _fps(times)
    return metrics


def _report(name, sequences, boxes_by_seq, times_by_seq, skip_first) -> OPEReport:
    per_sequence = {
        s.name: _evaluate_sequence(s, boxes_by_seq[s.name], times_by_seq[s.name], skip_first)
        for s in sequences
    }
    return OPEReport(name, per_sequence, summarize(per_sequence.values()), boxes_by_seq)


def run_ope(
    tracker,
    sequences: Sequence,
    *,
    tracker_name: Optional[str] = None,
    result_dir: Optional[PathLike] = None,
    result_format: str = "otb",
    overwrite: bool = False,
    skip_first_frame: bool = False,
    show_progress: bool = True,
) -> OPEReport:
    """One-pass evaluation: track each sequence from its first box and score it.

    Args:
        tracker: anything with ``track(frame_paths, init_box_xywh) -> TrackSequenceResult``
            (``SiamTracker``, ``OpenCVTracker``).
        sequences: ``siamtrack.data.sequences.Sequence`` objects.
        tracker_name: name for results/tables (default: the tracker's ``name`` or class name).
        result_dir: if given, results are written as ``result_format`` ("otb" or "got10k")
            under ``<result_dir>/<tracker_name>/``; existing ones are reused unless ``overwrite``.
        skip_first_frame: leave frame 0 out of the metrics (GOT-10k protocol).
        show_progress: tqdm bar over sequences (frames in the postfix).

    Returns:
        OPEReport (fractions in [0, 1]).
    """
    if result_format not in RESULT_FORMATS:
        raise ValueError(f"result_format '{result_format}' is not one of {RESULT_FORMATS}")
    sequences = list(sequences)
    if not sequences:
        raise ValueError("run_ope got no sequences")
    name = tracker_name or getattr(tracker, "name", None) or type(tracker).__name__
    boxes_by_seq, times_by_seq = {}, {}
    progress = tqdm(sequences, desc=f"OPE {name}", unit="seq", disable=not show_progress)
    for sequence in progress:
        progress.set_postfix_str(f"{sequence.name} ({len(sequence)} frames)")
        existing = find_result_file(result_dir, name, sequence.name) if result_dir else None
        if existing is not None and not overwrite:
            logger.info(f"{existing} exists: reusing it (overwrite=True re-tracks)")
            boxes, times = read_results(result_dir, name, sequence.name)
        else:
            init_box = sequence.boxes_xywh[0]
            if not is_valid_xywh(init_box):
                raise ValueError(
                    f"sequence '{sequence.name}': first box {init_box.tolist()} is not a valid "
                    "x,y,w,h box to start tracking from"
                )
            result = tracker.track(sequence.frame_paths, init_box)
            boxes, times = np.asarray(result.boxes_xywh), np.asarray(result.times)
            if result_dir is not None:
                if result_format == "otb":
                    write_otb_results(result_dir, name, sequence.name, boxes)
                else:
                    write_got10k_results(result_dir, name, sequence.name, boxes, times)
        boxes_by_seq[sequence.name] = boxes
        times_by_seq[sequence.name] = times
    return _report(name, sequences, boxes_by_seq, times_by_seq, skip_first_frame)


def evaluate_results(
    result_dir: PathLike, tracker_name: str, sequences: Sequence, *, skip_first_frame: bool = False
) -> OPEReport:
    """Score existing result files (OTB or GOT-10k layout) of one tracker."""
    sequences = list(sequences)
    missing = [
        s.name for s in sequences if find_result_file(result_dir, tracker_name, s.name) is None
    ]
    if missing:
        raise FileNotFoundError(
            f"tracker '{tracker_name}' in {result_dir} has no results for {len(missing)} of "
            f"{len(sequences)} sequences: {missing[:5]}"
        )
    boxes_by_seq, times_by_seq = {}, {}
    for sequence in sequences:
        boxes_by_seq[sequence.name], times_by_seq[sequence.name] = read_results(
            result_dir, tracker_name, sequence.name
        )
    return _report(tracker_name, sequences, boxes_by_seq, times_by_seq, skip_first_frame)


def format_table(reports: Sequence[OPEReport], per_sequence: bool = True) -> str:
    """Plain-text table: overall rows (best AUC first), then per-sequence rows.

    Numbers are percentages (AUC, precision at 20 px, normalized precision at 0.2) and fps.
    """
    reports = sorted(reports, key=lambda r: -r.overall["auc"])
    width = max([len("tracker")] + [len(r.tracker_name) for r in reports])
    columns = list(METRIC_NAMES.values()) + ["FPS"]

    def row(label, metrics, label_width):
        values = [f"{100 * metrics[k]:>9.1f}" for k in METRIC_NAMES]
        fps = metrics.get("fps", float("nan"))
        values.append(f"{fps:>9.2f}" if np.isfinite(fps) else f"{'-':>9}")
        return f"{label:<{label_width}}  " + " ".join(values)

    header = f"{'tracker':<{width}}  " + " ".join(f"{c:>9}" for c in columns)
    lines = ["OPE overall (mean over sequences, %)", header, "-" * len(header)]
    lines += [row(r.tracker_name, r.overall, width) for r in reports]
    if per_sequence:
        seq_names = list(reports[0].per_sequence)
        label_width = max([width + 2, len("sequence / tracker")] + [len(s) for s in seq_names])
        lines += [
            "",
            "per sequence",
            f"{'sequence / tracker':<{label_width}}  " + " ".join(f"{c:>9}" for c in columns),
        ]
        for seq in seq_names:
            lines.append(seq)
            lines += [row("  " + r.tracker_name, r.per_sequence[seq], label_width) for r in reports]
    return "\n".join(lines)


def save_reports_json(reports: Sequence[OPEReport], path: PathLike) -> Path:
    """Write the scalar numbers of every report to a JSON file (replaced atomically)."""
    payload = {"metrics": "fractions in [0, 1]", "trackers": [r.to_dict() for r in reports]}
    return atomic_write_text(path, json.dumps(payload, indent=1) + "\n")
