"""Running trackers over sequences (OPE) and evaluating result files (pure numpy).

``run_ope(tracker, sequences)`` tracks every sequence from its first ground-truth box, can
write the results (OTB or GOT-10k layout) and returns an ``OPEReport``. Result files that
already exist are reused (the run resumes) unless ``overwrite=True``.
``evaluate_results(result_dir, tracker_name, sequences)`` scores existing result files, e.g. of
other trackers, so they can be compared in one table and one plot.

Both score with the benchmark's own rule (``protocol="auto"``: by the sequences' layout, see
``siamtrack.evaluation.protocols``); ``format_table``, ``save_reports_json`` and
``plot_reports`` show that protocol's metrics.

Under the ``longterm`` protocol the boxes scored and written are the *reported* ones: NaN rows
where the tracker reports the target absent (``TrackSequenceResult.reported_boxes_xywh``);
short-term protocols (``otb``, ``lasot``, ``got10k``) assume the target is in every frame and
take the tracker's box on every frame (``boxes_xywh``). The tracker's confidence per frame is
written next to the boxes (``siamtrack.io.result_files``).
"""

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Optional, Sequence, Tuple, Union

import numpy as np
from tqdm import tqdm

from ..io.files import write_text
from ..io.result_files import (
    SavedResult,
    find_result_file,
    read_results,
    write_got10k_results,
    write_otb_results,
)
from ..utils.boxes import is_valid_xywh
from ..utils.paths import PathLike
from .plots import plot_curves, plot_ope, plot_precision_recall
from .protocols import Protocol, get_protocol, resolve_protocol

__all__ = [
    "OPEReport",
    "run_ope",
    "evaluate_results",
    "format_table",
    "save_reports_json",
    "plot_reports",
]

logger = logging.getLogger(__name__)

RESULT_FORMATS = ("otb", "got10k")
ProtocolLike = Union[str, Protocol]


@dataclass
class OPEReport:
    """OPE numbers of one tracker.

    Attributes:
        tracker_name: name used for result folders, tables and plot legends.
        per_sequence: ``{sequence name: metrics dict + "fps"}``, in sequence order.
        overall: the protocol's summary. ``otb`` / ``lasot``: mean ``auc``, ``precision_20``,
            ``norm_precision`` (fractions), mean curves, ``fps``, counts. ``got10k``: ``ao``,
            ``sr50``, ``sr75``, ``success_curve`` (101,) of all scored frames pooled, ``fps``.
            ``longterm``: ``f_score``, ``precision``, ``recall`` (best threshold), the same
            ``*_decision`` at the tracker's own decision, ``auc_present``,
            ``absent_reported``, the precision-recall curves (``siamtrack.evaluation.longterm``).
        boxes: ``{sequence name: (N, 4) reported boxes}`` (NaN rows: reported absent).
        confidences: ``{sequence name: (N,) confidence per frame}`` (all 1.0 for a tracker
            that reports none).
        protocol: name of the protocol that scored it (``protocols.PROTOCOLS``).
        protocol_description: that protocol's ``description`` (table header, JSON).
    """

    tracker_name: str
    per_sequence: Dict[str, Dict[str, object]]
    overall: Dict[str, object]
    boxes: Dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    protocol: str = "otb"
    protocol_description: str = ""
    confidences: Dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def metrics(self) -> Dict[str, float]:
        """The protocol's scalar metrics of ``overall``, e.g. ``{"ao", "sr50", "sr75"}``."""
        return {key: float(self.overall[key]) for key in get_protocol(self.protocol).metric_names}

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
            "protocol": self.protocol,
            "overall": scalars(self.overall),
            "sequences": {name: scalars(m) for name, m in self.per_sequence.items()},
        }


def _evaluate_sequence(sequence, saved: SavedResult, protocol):
    if len(saved.boxes_xywh) != len(sequence):
        raise ValueError(
            f"sequence '{sequence.name}': {len(saved.boxes_xywh)} result boxes for "
            f"{len(sequence)} frames"
        )
    return protocol.evaluate_sequence(sequence, saved.boxes_xywh, saved.times, saved.confidences)


def _report(name, sequences, saved_by_seq: Dict[str, SavedResult], protocol) -> OPEReport:
    per_sequence = {
        s.name: _evaluate_sequence(s, saved_by_seq[s.name], protocol) for s in sequences
    }
    overall = protocol.summarize(per_sequence.values())
    return OPEReport(
        name,
        per_sequence,
        overall,
        {n: saved.boxes_xywh for n, saved in saved_by_seq.items()},
        protocol=protocol.name,
        protocol_description=protocol.description,
        confidences={n: saved.confidences for n, saved in saved_by_seq.items()},
    )


def run_ope(
    tracker,
    sequences: Sequence,
    *,
    tracker_name: Optional[str] = None,
    result_dir: Optional[PathLike] = None,
    result_format: str = "otb",
    overwrite: bool = False,
    protocol: ProtocolLike = "auto",
    skip_first_frame: bool = False,
    show_progress: bool = True,
) -> OPEReport:
    """One-pass evaluation: track each sequence from its first box and score it.

    Args:
        tracker: anything with ``track(frame_paths, init_box_xywh) -> TrackSequenceResult``
            (``SiamTracker``, ``OpenCVTracker``); its boxes (``reported_boxes_xywh`` under a
            protocol that scores absence, else ``boxes_xywh``) and ``confidences`` are scored
            and written.
        sequences: ``siamtrack.io.Sequence`` objects.
        tracker_name: name for results/tables (default: the tracker's ``name`` or class name).
        result_dir: if given, results are written as ``result_format`` ("otb" or "got10k")
            under ``<result_dir>/<tracker_name>/`` with a confidence file per sequence;
            existing ones are reused unless ``overwrite``.
        protocol: "auto" (by the sequences' layout), "otb", "lasot", "got10k", "longterm" or
            a ``Protocol``; resolved before tracking starts.
        skip_first_frame: "otb" / "lasot": leave frame 0 out of the metrics too ("got10k"
            always leaves it out).
        show_progress: tqdm bar over sequences (frames in the postfix).

    Returns:
        OPEReport (fractions in [0, 1]).
    """
    if result_format not in RESULT_FORMATS:
        raise ValueError(f"result_format '{result_format}' is not one of {RESULT_FORMATS}")
    sequences = list(sequences)
    if not sequences:
        raise ValueError("run_ope got no sequences")
    protocol = resolve_protocol(protocol, sequences, skip_first_frame=skip_first_frame)
    name = tracker_name or getattr(tracker, "name", None) or type(tracker).__name__
    saved_by_seq = {}
    progress = tqdm(sequences, desc=f"OPE {name}", unit="seq", disable=not show_progress)
    for sequence in progress:
        progress.set_postfix_str(f"{sequence.name} ({len(sequence)} frames)")
        existing = find_result_file(result_dir, name, sequence.name) if result_dir else None
        if existing is not None and not overwrite:
            logger.info(f"{existing} exists: reusing it (overwrite=True re-tracks)")
            saved = read_results(result_dir, name, sequence.name)
        else:
            init_box = sequence.boxes_xywh[0]
            if not is_valid_xywh(init_box):
                raise ValueError(
                    f"sequence '{sequence.name}': first box {init_box.tolist()} is not a valid "
                    "x,y,w,h box to start tracking from"
                )
            result = tracker.track(sequence.frame_paths, init_box)
            boxes = result.reported_boxes_xywh if protocol.scores_absence else result.boxes_xywh
            saved = SavedResult(
                np.asarray(boxes),
                np.asarray(result.times),
                np.asarray(result.confidences),
            )
            if result_dir is not None:
                if result_format == "otb":
                    write_otb_results(
                        result_dir, name, sequence.name, saved.boxes_xywh, saved.confidences
                    )
                else:
                    write_got10k_results(result_dir, name, sequence.name, *saved)
        saved_by_seq[sequence.name] = saved
    return _report(name, sequences, saved_by_seq, protocol)


def evaluate_results(
    result_dir: PathLike,
    tracker_name: str,
    sequences: Sequence,
    *,
    protocol: ProtocolLike = "auto",
    skip_first_frame: bool = False,
) -> OPEReport:
    """Score existing result files (OTB or GOT-10k layout) of one tracker.

    ``protocol`` and ``skip_first_frame`` as in :func:`run_ope`. Sequences without a confidence
    file count as confidence 1.0 on every frame.
    """
    sequences = list(sequences)
    protocol = resolve_protocol(protocol, sequences, skip_first_frame=skip_first_frame)
    missing = [
        s.name for s in sequences if find_result_file(result_dir, tracker_name, s.name) is None
    ]
    if missing:
        raise FileNotFoundError(
            f"tracker '{tracker_name}' in {result_dir} has no results for {len(missing)} of "
            f"{len(sequences)} sequences: {missing[:5]}"
        )
    saved_by_seq = {s.name: read_results(result_dir, tracker_name, s.name) for s in sequences}
    return _report(tracker_name, sequences, saved_by_seq, protocol)


def _common_protocol(reports: Sequence[OPEReport]) -> Tuple[Protocol, str]:
    """The protocol all reports were scored with, and its description."""
    found = sorted({(r.protocol, r.protocol_description) for r in reports})
    if not found:
        raise ValueError("no reports to show")
    if len(found) > 1:
        raise ValueError(
            f"reports scored with different protocols cannot be shown together: "
            f"{[d or n for n, d in found]}"
        )
    protocol = get_protocol(found[0][0])
    return protocol, found[0][1] or protocol.description


def format_table(reports: Sequence[OPEReport], per_sequence: bool = True) -> str:
    """Plain-text table: overall rows (best first), then per-sequence rows.

    The first line names the protocol; columns are its metrics in percent (``otb`` / ``lasot``:
    AUC, precision at 20 px, normalized precision at 0.2; ``got10k``: AO, SR0.50, SR0.75;
    ``longterm``: F, Pr, Re at the best threshold and at the own decision, AUC over present
    frames, share of absent frames reported absent) and fps.
    """
    protocol, description = _common_protocol(reports)
    keys = list(protocol.metric_names)
    reports = sorted(reports, key=lambda r: -np.nan_to_num(r.overall[keys[0]], nan=-1.0))
    width = max([len("tracker")] + [len(r.tracker_name) for r in reports])
    columns = list(protocol.metric_names.values()) + ["FPS"]

    def row(label, metrics, label_width):
        values = [f"{100 * metrics[k]:>9.1f}" for k in keys]
        fps = metrics.get("fps", float("nan"))
        values.append(f"{fps:>9.2f}" if np.isfinite(fps) else f"{'-':>9}")
        return f"{label:<{label_width}}  " + " ".join(values)

    header = f"{'tracker':<{width}}  " + " ".join(f"{c:>9}" for c in columns)
    lines = [f"OPE overall ({description}; %)", header, "-" * len(header)]
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
    protocol, description = _common_protocol(reports)
    payload = {
        "metrics": "fractions in [0, 1]",
        "protocol": protocol.name,
        "protocol_description": description,
        "trackers": [r.to_dict() for r in reports],
    }
    return write_text(path, json.dumps(payload, indent=1) + "\n", overwrite=True)


def plot_reports(reports: Sequence[OPEReport], output_dir: PathLike) -> Dict[str, Path]:
    """The protocol's plots in ``output_dir``: ``{"success": png, ...}``.

    ``otb`` / ``lasot``: "Success plots of OPE" (AUC) and "Precision plots of OPE"
    (``plot_ope``). ``got10k``: ``success_plot.png`` only, 101 thresholds, AO in the legend.
    ``longterm``: "Tracking precision-recall" (``precision_recall_plot.png``, F in the legend)
    and ``success_plot.png`` over the frames where the target is present.
    """
    protocol, _ = _common_protocol(reports)
    overall_by_tracker = {r.tracker_name: r.overall for r in reports}
    if protocol.has_precision:
        return plot_ope(overall_by_tracker, output_dir)
    plots = {}
    if protocol.has_precision_recall:
        plots["precision_recall"] = plot_precision_recall(
            overall_by_tracker, Path(output_dir) / "precision_recall_plot.png"
        )
    curves = {n: o["success_curve"] for n, o in overall_by_tracker.items()}
    scores = {n: o[protocol.success_key] for n, o in overall_by_tracker.items()}
    plots["success"] = plot_curves(
        curves,
        scores,
        protocol.success_thresholds,
        Path(output_dir) / "success_plot.png",
        f"Success plots of OPE ({protocol.name} protocol)",
        "Overlap threshold",
        "Success rate",
    )
    return plots
