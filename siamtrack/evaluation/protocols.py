"""Evaluation protocols: which rule scores which benchmark (pure numpy, no torch).

============  ===============================  ==========================  ===================
protocol      chosen for layout                metrics                     overall numbers
============  ===============================  ==========================  ===================
``otb``       ``generic`` (OTB-like folders),  AUC, Prec@20, NPrec@0.2     mean over sequences
              ``tracks_json``
``lasot``     ``lasot``                        same; absent frames are     mean over sequences
                                               misses (pysot's rule)
``got10k``    ``got10k``                       AO, SR0.50, SR0.75, the     pooled over frames
                                               101-point success curve
``longterm``  ``generic`` / ``tracks_json``    F, Pr, Re (VOT-LT) at the   mean over sequences
              whose ground truth has           best confidence threshold
              ``nan,nan,nan,nan`` rows         and at the own decision,
              (absent frames)                  AUC over present frames
============  ===============================  ==========================  ===================

The rules themselves are in ``siamtrack.evaluation.ope`` (its docstring lists every detail of
the got10k toolkit's rule) and ``siamtrack.evaluation.longterm``.
``resolve_protocol("auto", sequences)`` picks the protocol from the sequences' layout (and
``longterm`` where an ``otb`` layout marks absent frames with NaN rows); a name (or a
``Protocol``) overrides it. ``skip_first_frame`` leaves frame 0 out under ``otb`` / ``lasot``;
``got10k`` and ``longterm`` always leave it out.
"""

import logging
from pathlib import Path
from typing import Dict, Iterable, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
from PIL import Image

from ..utils.paths import PathLike
from ..utils.timing import updates_per_second
from .ope import (
    GOT10K_METRIC_NAMES,
    GOT10K_SUCCESS_THRESHOLDS,
    METRIC_NAMES,
    SUCCESS_THRESHOLDS,
    evaluate,
    evaluate_got10k,
    got10k_speed_fps,
    summarize,
    summarize_got10k,
)
from .longterm import LONGTERM_METRIC_NAMES, evaluate_longterm, summarize_longterm

__all__ = [
    "PROTOCOLS",
    "PROTOCOL_BY_LAYOUT",
    "Protocol",
    "PysotProtocol",
    "Got10kProtocol",
    "LongTermProtocol",
    "get_protocol",
    "detect_protocol",
    "resolve_protocol",
    "read_image_size",
]

logger = logging.getLogger(__name__)

PROTOCOLS = ("otb", "lasot", "got10k", "longterm")
# Sequence.layout -> protocol; layouts not listed here get "otb" ("longterm" if the ground
# truth has nan rows, see detect_protocol).
PROTOCOL_BY_LAYOUT = {"generic": "otb", "tracks_json": "otb", "lasot": "lasot", "got10k": "got10k"}


class Protocol:
    """How one benchmark turns result boxes into numbers.

    Attributes:
        name: one of PROTOCOLS.
        metric_names: ``{overall key: column title}`` of the scalar metrics (fractions); the
            first one ranks trackers.
        success_thresholds: IoU thresholds of ``success_curve``.
        success_key: the scalar shown in the success plot's legend.
        has_precision: True if results carry a ``precision_curve`` (precision plot).
        scores_absence: True if the protocol scores the tracker's presence decision: it reads
            the reported boxes (NaN rows where the tracker reports the target absent) and the
            confidences. Short-term protocols assume the target is in every frame and score
            the tracker's box on every frame (its best guess where it reports the target
            absent).
        has_precision_recall: True if results carry the tracking precision-recall curves
            (``longterm``: the precision-recall plot).
        description: how the overall numbers are formed (table header).
    """

    name: str = ""
    metric_names: Mapping[str, str] = {}
    success_thresholds: np.ndarray = SUCCESS_THRESHOLDS
    success_key: str = ""
    has_precision: bool = False
    has_precision_recall: bool = False
    scores_absence: bool = False
    description: str = ""

    def evaluate_sequence(
        self,
        sequence,
        boxes_xywh: np.ndarray,
        times: Optional[np.ndarray],
        confidences: Optional[np.ndarray] = None,
    ) -> Dict[str, object]:
        """Metrics of one sequence (+ ``fps``).

        Args:
            sequence: a ``siamtrack.io.Sequence``.
            boxes_xywh: (N, 4) reported boxes, row 0 = the initial box (NaN rows: the tracker
                reports the target absent).
            times: (N,) seconds per frame, or None if unknown.
            confidences: (N,) the tracker's confidence per frame, or None (all 1.0); only
                ``longterm`` uses them.
        """
        raise NotImplementedError

    def summarize(self, per_sequence: Iterable[Dict[str, object]]) -> Dict[str, object]:
        """Overall numbers from the ``evaluate_sequence`` dicts."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


class PysotProtocol(Protocol):
    """OTB and LaSOT: ``ope.evaluate`` per sequence, mean over sequences (pysot's rule)."""

    metric_names = METRIC_NAMES
    success_thresholds = SUCCESS_THRESHOLDS
    success_key = "auc"
    has_precision = True

    def __init__(self, name: str = "otb", *, skip_first_frame: bool = False):
        """
        Args:
            name: "otb" or "lasot" (the same rule; the name says which benchmark it follows).
            skip_first_frame: leave frame 0 (the given box) out of the metrics.
        """
        if name not in ("otb", "lasot"):
            raise ValueError(f"PysotProtocol name '{name}' is not 'otb' or 'lasot'")
        self.name = name
        self.skip_first_frame = bool(skip_first_frame)
        self.description = (
            f"{name} protocol: mean over sequences"
            + (", absent frames are misses" if name == "lasot" else "")
            + (", frame 0 left out" if skip_first_frame else "")
        )

    def evaluate_sequence(self, sequence, boxes_xywh, times, confidences=None):
        metrics = evaluate(
            boxes_xywh,
            sequence.boxes_xywh,
            sequence.absent,
            skip_first_frame=self.skip_first_frame,
        )
        metrics["fps"] = float("nan") if times is None else updates_per_second(times)
        return metrics

    def summarize(self, per_sequence):
        return summarize(per_sequence)


def read_image_size(path: PathLike) -> Tuple[int, int]:
    """``(width, height)`` of an image file, read from its header (the pixels are not decoded)."""
    if not Path(path).is_file():
        raise FileNotFoundError(f"frame {path} does not exist (needed for the image size)")
    try:
        with Image.open(path) as image:
            return int(image.size[0]), int(image.size[1])
    except OSError as error:
        raise ValueError(f"cannot read the image size of {path}: {error}") from error


def _got10k_visible(sequence) -> np.ndarray:
    """``cover > 0``, as the got10k toolkit; without cover labels, the non-absent frames."""
    cover = sequence.cover
    if cover is None and sequence.layout == "got10k":  # e.g. a record without the cover labels
        label_file = Path(sequence.frame_paths[0]).parent / "cover.label"
        if label_file.is_file():
            cover = np.loadtxt(label_file, delimiter=",", ndmin=1)
            if len(cover) != len(sequence):
                raise ValueError(f"{label_file}: {len(cover)} labels for {len(sequence)} frames")
    if cover is None:
        return ~np.asarray(sequence.absent, bool)
    return np.asarray(cover) > 0


class Got10kProtocol(Protocol):
    """GOT-10k: AO, SR0.50, SR0.75 as the got10k toolkit computes them (see ``ope``)."""

    name = "got10k"
    metric_names = GOT10K_METRIC_NAMES
    success_thresholds = GOT10K_SUCCESS_THRESHOLDS
    success_key = "ao"
    has_precision = False
    description = "got10k protocol: visible frames 1..N pooled, boxes clipped to the image"

    def evaluate_sequence(self, sequence, boxes_xywh, times, confidences=None):
        image_size_wh = read_image_size(sequence.frame_paths[0])
        metrics = evaluate_got10k(
            boxes_xywh, sequence.boxes_xywh, _got10k_visible(sequence), image_size_wh=image_size_wh
        )
        num_nan = int(np.isnan(metrics["ious"]).sum())
        if num_nan:
            logger.warning(
                f"sequence '{sequence.name}': {num_nan} scored frames have a NaN predicted box; "
                "as in the got10k toolkit they make AO NaN and count as SR misses"
            )
        metrics["image_size_wh"] = list(image_size_wh)
        metrics["fps"] = got10k_speed_fps(times)
        if times is not None:
            metrics["frame_times"] = np.asarray(times, dtype=np.float64).reshape(-1)
        return metrics

    def summarize(self, per_sequence):
        per_sequence = list(per_sequence)
        empty = sum(1 for m in per_sequence if m["num_frames"] == 0)
        if empty:
            logger.warning(
                f"{empty} of {len(per_sequence)} sequences have no frame to score (no visible "
                "frame with a known ground truth after frame 0); GOT-10k's test split is scored "
                "by its server"
            )
        return summarize_got10k(per_sequence)


class LongTermProtocol(Protocol):
    """Long-term sequences (absent frames): VOT-LT's tracking F-score, precision and recall
    (``siamtrack.evaluation.longterm``), from the reported boxes and confidences."""

    name = "longterm"
    metric_names = LONGTERM_METRIC_NAMES
    success_thresholds = SUCCESS_THRESHOLDS
    success_key = "auc_present"
    has_precision = False
    has_precision_recall = True
    scores_absence = True
    description = (
        "longterm protocol (VOT-LT): frames 1..N-1, F = max over confidence thresholds, "
        "mean over sequences"
    )

    def evaluate_sequence(self, sequence, boxes_xywh, times, confidences=None):
        metrics = evaluate_longterm(boxes_xywh, sequence.boxes_xywh, confidences, sequence.absent)
        metrics["fps"] = float("nan") if times is None else updates_per_second(times)
        return metrics

    def summarize(self, per_sequence):
        return summarize_longterm(per_sequence)


def get_protocol(name: str, *, skip_first_frame: bool = False) -> Protocol:
    """The protocol called ``name`` (one of PROTOCOLS).

    Args:
        name: "otb", "lasot", "got10k" or "longterm".
        skip_first_frame: leave frame 0 out under "otb" / "lasot" ("got10k" and "longterm"
            always do).
    """
    if name == "got10k":
        return Got10kProtocol()
    if name == "longterm":
        return LongTermProtocol()
    if name in ("otb", "lasot"):
        return PysotProtocol(name, skip_first_frame=skip_first_frame)
    raise ValueError(f"unknown evaluation protocol '{name}', expected one of {PROTOCOLS}")


def _has_nan_rows(sequence) -> bool:
    """True if a ground-truth row is ``nan,nan,nan,nan`` (the target is absent)."""
    return bool(np.any(np.all(np.isnan(np.asarray(sequence.boxes_xywh, np.float64)), axis=-1)))


def detect_protocol(sequences: Sequence) -> str:
    """The protocol of the sequences' layout (``PROTOCOL_BY_LAYOUT``); "longterm" instead of
    "otb" when the ground truth of any of the sequences has ``nan,nan,nan,nan`` rows.

    Raises:
        ValueError: if there are no sequences, or their layouts call for different protocols.
    """
    by_protocol: Dict[str, set] = {}
    for sequence in sequences:
        layout = getattr(sequence, "layout", "generic")
        by_protocol.setdefault(PROTOCOL_BY_LAYOUT.get(layout, "otb"), set()).add(layout)
    if not by_protocol:
        raise ValueError("cannot pick an evaluation protocol for an empty list of sequences")
    if len(by_protocol) > 1:
        found = ", ".join(f"{p} ({'/'.join(sorted(l))})" for p, l in sorted(by_protocol.items()))
        raise ValueError(
            f"the sequences' layouts call for different protocols: {found}; choose one with "
            f"protocol=... (one of {', '.join(PROTOCOLS)})"
        )
    protocol = next(iter(by_protocol))
    if protocol == "otb" and any(_has_nan_rows(s) for s in sequences):
        return "longterm"
    return protocol


def resolve_protocol(
    protocol: Union[str, Protocol], sequences: Sequence, *, skip_first_frame: bool = False
) -> Protocol:
    """A ``Protocol`` from "auto" (by layout, see ``detect_protocol``), a name, or a Protocol."""
    if isinstance(protocol, Protocol):
        return protocol
    if protocol == "auto":
        protocol = detect_protocol(sequences)
    elif protocol not in PROTOCOLS:
        raise ValueError(
            f"unknown evaluation protocol '{protocol}', expected 'auto' or one of {PROTOCOLS}"
        )
    return get_protocol(protocol, skip_first_frame=skip_first_frame)
