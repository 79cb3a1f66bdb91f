"""Fitting a presence model: labelled score maps from a tracker run on annotated sequences.

``collect_presence_samples`` runs a tracker (re-detection off) through a sequence whose ground
truth marks absent frames with NaN rows (long-term sequences) and records, per frame, the
presence features of the local search's candidate and of ``tiles_per_frame`` random
re-detection tiles (``search_at``), each labelled with the IoU of its box with the ground truth
(0 where the target is absent). ``fit_presence_model`` (``presence.py``) then fits the logistic
regression on ``iou >= ON_TARGET_IOU``. ``tools/fit_presence.py`` is the command line.
"""

import datetime
from dataclasses import dataclass
from typing import Iterable, List, Sequence, Tuple

import numpy as np
from tqdm import tqdm

from ..errors import BadInputError
from ..io.images import read_image_bgr
from ..io.sequences import load_sequences
from ..utils.boxes import cxcywh_to_xywh, iou_xywh, is_valid_xywh
from .multi_target import MultiTargetTracker
from .presence import (
    FEATURE_NAMES,
    ON_TARGET_IOU,
    PresenceModel,
    fit_presence_model,
    reliability_table,
    score_map_features,
)
from .redetection import tile_centers

__all__ = [
    "PresenceFitReport",
    "PresenceSamples",
    "collect_presence_samples",
    "fit_presence_on_sequences",
]


@dataclass
class PresenceSamples:
    """Labelled presence features.

    Attributes:
        features: (M, F) ``score_map_features`` rows.
        ious: (M,) IoU of each candidate's box with the ground truth (0: target absent).
        local: (M,) bool, True for the local search's candidate, False for a tile.
        score_shape: (A, H, W) of the score maps.
    """

    features: np.ndarray
    ious: np.ndarray
    local: np.ndarray
    score_shape: tuple

    @classmethod
    def concatenate(cls, parts: Iterable["PresenceSamples"]) -> "PresenceSamples":
        parts = list(parts)
        shapes = {p.score_shape for p in parts}
        if len(shapes) != 1:
            raise ValueError(f"samples of different score maps cannot be pooled: {shapes}")
        return cls(
            np.concatenate([p.features for p in parts]),
            np.concatenate([p.ious for p in parts]),
            np.concatenate([p.local for p in parts]),
            shapes.pop(),
        )

    def __len__(self) -> int:
        return len(self.ious)


def _candidate_iou(candidate, truth_xywh) -> float:
    if not is_valid_xywh(truth_xywh):
        return 0.0
    box = cxcywh_to_xywh(np.concatenate([candidate.center_xy, candidate.size_wh]))
    return float(iou_xywh(box[None], np.asarray(truth_xywh, np.float64)[None])[0])


def collect_presence_samples(
    tracker, frames: List, boxes_xywh: np.ndarray, *, tiles_per_frame: int = 2, seed: int = 0
) -> PresenceSamples:
    """Labelled presence features of one sequence.

    Args:
        tracker: a ``MultiTargetTracker`` / ``SiamTracker``'s engine with ``long_term`` off.
        frames: BGR images or image paths; frame 0 holds the initial box.
        boxes_xywh: (N, 4) ground truth, NaN rows where the target is absent.
        tiles_per_frame: random re-detection tiles evaluated per frame (besides the local
            search), so the model also sees candidates away from the tracked box.
        seed: seed of the tile choice.
    """
    if getattr(tracker, "long_term", False):
        raise ValueError("collect presence samples with TRACKER.LONG_TERM off")
    boxes = np.asarray(boxes_xywh, dtype=np.float64)
    if len(boxes) != len(frames):
        raise ValueError(f"{len(boxes)} ground-truth boxes for {len(frames)} frames")
    if not is_valid_xywh(boxes[0]):
        raise ValueError(f"frame 0 needs a valid box to start from, got {boxes[0].tolist()}")
    rng = np.random.default_rng(seed)
    features, ious, local = [], [], []
    score_shape = None
    target = 0
    for index, frame in enumerate(frames):
        image = read_image_bgr(frame) if not isinstance(frame, np.ndarray) else frame
        if index == 0:
            tracker.init(image, {target: boxes[0]})
            continue
        tracker.update(image)
        candidates = [tracker.last_candidates[target][0]]
        side = tracker.search.redetection_side(tracker.box_xywh(target)[2:])
        centers = tile_centers(image.shape[:2], side)
        if tiles_per_frame > 0:
            chosen = rng.choice(len(centers), min(tiles_per_frame, len(centers)), replace=False)
            candidates += tracker.search_at(image, target, centers[chosen], side)
        for k, candidate in enumerate(candidates):
            features.append(score_map_features(candidate.scores, candidate.score))
            ious.append(_candidate_iou(candidate, boxes[index]))
            local.append(k == 0)
            score_shape = tuple(candidate.scores.shape)
    if not features:
        raise ValueError("the sequence has no frame after the first")
    return PresenceSamples(
        np.asarray(features).reshape(-1, len(FEATURE_NAMES)),
        np.asarray(ious),
        np.asarray(local, dtype=bool),
        score_shape,
    )


@dataclass
class PresenceFitReport:
    """What ``fit_presence_on_sequences`` returns.

    Attributes:
        model: the fitted ``PresenceModel``.
        samples: the samples it was fit on.
        table_samples: the samples of the reliability table (the holdout's, else ``samples``).
        table_name: "holdout" or "fit data".
    """

    model: PresenceModel
    samples: PresenceSamples
    table_samples: PresenceSamples
    table_name: str

    def summary(self) -> str:
        """Sample counts and the reliability table, as text."""
        fit = self.samples
        lines = [
            f"fit on {len(fit)} candidates ({int(fit.local.sum())} local, "
            f"{int((~fit.local).sum())} re-detection tiles), "
            f"{100 * np.mean(fit.ious >= ON_TARGET_IOU):.1f} % on the target "
            f"(IoU >= {ON_TARGET_IOU})",
            f"reliability on the {self.table_name} ({len(self.table_samples)} candidates):",
            f"{'confidence':>12} {'candidates':>11} {'mean conf':>10} {'on target':>10}",
        ]
        table = self.table_samples
        confidences = self.model.confidences(table.features)
        for row in reliability_table(confidences, table.ious >= ON_TARGET_IOU):
            lines.append(
                f"{row['low']:.1f}-{row['high']:.1f}".rjust(12)
                + f" {row['frames']:>11} {row['mean_confidence']:>10.3f} {row['on_target']:>10.3f}"
            )
        return "\n".join(lines)


def _samples_of(
    tracker, roots, tiles_per_frame: int, seed: int
) -> Tuple[PresenceSamples, List[str]]:
    sequences = [s for root in roots for s in load_sequences(root)]
    if not sequences:
        raise BadInputError(f"no sequences found in {list(roots)}")
    parts = []
    for sequence in tqdm(sequences, desc="presence samples", unit="seq"):
        boxes = np.array(sequence.boxes_xywh, dtype=np.float64)
        boxes[np.asarray(sequence.absent, bool)] = np.nan
        parts.append(
            collect_presence_samples(
                tracker, sequence.frame_paths, boxes, tiles_per_frame=tiles_per_frame, seed=seed
            )
        )
    return PresenceSamples.concatenate(parts), [s.name for s in sequences]


def fit_presence_on_sequences(
    cfg,
    roots: Sequence[str],
    *,
    holdout: Sequence[str] = (),
    tiles_per_frame: int = 2,
    seed: int = 0,
) -> PresenceFitReport:
    """Fit a presence model for the tracker of ``cfg`` (re-detection off) on the sequences in
    ``roots`` (folders of sequences or sequence folders with NaN rows for absent frames).

    Raises:
        BadInputError: no sequences, or none with absent frames or tracking failures (the fit
            needs frames off the target).
    """
    tracker = MultiTargetTracker(cfg)
    samples, names = _samples_of(tracker, roots, tiles_per_frame, seed)
    on_target = samples.ious >= ON_TARGET_IOU
    if on_target.all() or not on_target.any():
        raise BadInputError(
            f"the sequences in {list(roots)} give only frames "
            f"{'on' if on_target.all() else 'off'} the target: use long-term sequences whose "
            "ground truth has nan rows where the target is absent"
        )
    model = fit_presence_model(
        samples.features,
        on_target,
        score_shape=samples.score_shape,
        meta_architecture=cfg.MODEL.META_ARCHITECTURE,
        fit_info={
            "weights": cfg.MODEL.WEIGHTS,
            "sequences": names,
            "candidates": len(samples),
            "tiles_per_frame": tiles_per_frame,
            "label": f"IoU >= {ON_TARGET_IOU} with the ground truth",
            "date": datetime.date.today().isoformat(),
        },
    )
    table, table_name = samples, "fit data"
    if holdout:
        table, _ = _samples_of(tracker, holdout, tiles_per_frame, seed)
        table_name = "holdout"
    return PresenceFitReport(model, samples, table, table_name)
