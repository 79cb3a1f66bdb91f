"""The presence model: the probability that the tracker's box is on the target (pure numpy).

A Siamese network's raw score says how much a search-crop cell looks like the template, not
whether the target is in the frame: NanoTrack's stays at 0.65-0.94 on frames without the target.
The presence model turns the score map of the crop a box came from into a calibrated
probability (``docs/longterm.md``):

    confidence = sigmoid(w . standardize(features(score map)) + b)

with the features of ``score_map_features`` (peak score as a logit, peak-to-sidelobe ratio,
second peak, entropy of the map), which any family's (A, H, W) map has, and the weights fit by
logistic regression (``fit_presence_model``) on frames labelled "on the target" (IoU >= 0.5
with the ground truth) or not, from data disjoint from any evaluation set
(``tools/fit_presence.py``). A ``PresenceModel`` is stored as JSON next to the model's config
(``TRACKER.PRESENCE_MODEL``); it records the score-map shape and meta-architecture it was fit
for, and a tracker refuses a file that does not match its network.

Without a presence model the confidence is the raw score itself (``RawScorePresence``).
"""

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..errors import BadInputError
from ..io.files import write_text
from ..model_zoo import configs_dir
from ..utils.paths import PathLike

__all__ = [
    "FEATURE_NAMES",
    "ON_TARGET_IOU",
    "PresenceModel",
    "RawScorePresence",
    "fit_presence_model",
    "load_presence_model",
    "presence_model_from_dict",
    "presence_model_path",
    "reliability_table",
    "score_map_features",
]


# What ``score_map_features`` returns, in order.
FEATURE_NAMES = ("score_logit", "log_peak_to_sidelobe", "second_peak_ratio", "entropy")
# A frame is "on the target" when the reported box overlaps the ground truth this much.
ON_TARGET_IOU = 0.5
# Logits are taken of probabilities clipped to [EPS, 1 - EPS] (float32 resolves ~6e-8 near 1).
_EPS = 1e-7
# Cells around the peak left out of the sidelobe (a (2R+1) x (2R+1) square).
_PEAK_RADIUS = 2
_FORMAT = "siamtrack-presence-1"


def _logit(probability: float) -> float:
    p = min(max(float(probability), _EPS), 1.0 - _EPS)
    return math.log(p / (1.0 - p))


def score_map_features(scores: np.ndarray, score: float) -> np.ndarray:
    """Presence features of one crop's score map.

    Args:
        scores: (A, H, W) foreground probabilities of the crop (the map is reduced over the A
            anchors by their maximum).
        score: the raw score of the cell the tracker selected (``TrackResult.score``).

    Returns:
        float64 (len(FEATURE_NAMES),): ``logit(score)``; ``log`` of the peak-to-sidelobe ratio
        ``(peak - mean(sidelobe)) / std(sidelobe)`` with the sidelobe = the map without the
        5x5 cells around the peak; the largest sidelobe value over the peak; the entropy of
        the map normalised to a distribution, divided by its maximum ``log(H W)``.
    """
    score_map = np.asarray(scores, dtype=np.float64)
    score_map = score_map.max(axis=0) if score_map.ndim == 3 else score_map
    if score_map.ndim != 2 or score_map.size < 2:
        raise ValueError(f"expected an (A, H, W) score map, got shape {np.shape(scores)}")
    flat_peak = int(score_map.argmax())
    row, col = divmod(flat_peak, score_map.shape[1])
    peak = float(score_map.flat[flat_peak])
    # the sidelobe's sums: the whole map's minus the peak window's (a few numpy calls on
    # 15x15 maps, ~30 us: this runs for every target on every frame)
    peak_window = (
        slice(max(0, row - _PEAK_RADIUS), row + _PEAK_RADIUS + 1),
        slice(max(0, col - _PEAK_RADIUS), col + _PEAK_RADIUS + 1),
    )
    window = score_map[peak_window]
    count = score_map.size - window.size
    total = float(score_map.sum())
    if count > 0:
        side_sum = total - float(window.sum())
        side_square_sum = float(np.dot(score_map.ravel(), score_map.ravel())) - float(
            np.dot(window.ravel(), window.ravel())
        )
        side_mean = side_sum / count
        side_std = math.sqrt(max(side_square_sum / count - side_mean * side_mean, 0.0))
        masked = score_map.copy()
        masked[peak_window] = -np.inf
        side_max = float(masked.max())
    else:  # a map no larger than the peak window
        side_mean = side_max = float(score_map.min())
        side_std = 0.0
    peak_to_sidelobe = (peak - side_mean) / (side_std + 1e-6)
    distribution = score_map.ravel() / max(total, 1e-12)
    entropy = -float(np.dot(distribution, np.log(distribution + 1e-12))) / math.log(score_map.size)
    return np.array(
        [
            _logit(score),
            math.log(max(peak_to_sidelobe, 1e-3)),
            side_max / max(peak, 1e-9),
            entropy,
        ],
        dtype=np.float64,
    )


class RawScorePresence:
    """No presence model: the confidence is the raw score (uncalibrated)."""

    description = "raw score (no presence model)"

    def confidence(self, scores: np.ndarray, score: float) -> float:
        return float(score)

    def check_score_shape(self, shape: Sequence[int], where: str = "") -> None:
        """Any score map is fine."""


@dataclass(frozen=True)
class PresenceModel:
    """Logistic regression over ``score_map_features``.

    Attributes:
        weights: (F,) weights of the standardized features.
        bias: intercept.
        feature_mean, feature_scale: (F,) standardization ``(f - mean) / scale``.
        score_shape: (A, H, W) of the score maps it was fit on.
        meta_architecture: the network family it was fit for (``cfg.MODEL.META_ARCHITECTURE``).
        fit_info: free-form description of the fit (data, frames, label rule, date).
        source: the file it was read from ("" when built in memory).
    """

    weights: np.ndarray
    bias: float
    feature_mean: np.ndarray
    feature_scale: np.ndarray
    score_shape: Tuple[int, int, int]
    meta_architecture: str = ""
    fit_info: Dict[str, object] = field(default_factory=dict)
    source: str = ""

    def __post_init__(self):
        for name in ("weights", "feature_mean", "feature_scale"):
            array = np.asarray(getattr(self, name), dtype=np.float64).reshape(-1)
            if array.shape != (len(FEATURE_NAMES),) or not np.all(np.isfinite(array)):
                raise BadInputError(
                    f"presence model{self._where()}: {name} must hold {len(FEATURE_NAMES)} "
                    f"finite numbers ({', '.join(FEATURE_NAMES)}), got {array.tolist()}"
                )
            object.__setattr__(self, name, array)
        if not np.all(self.feature_scale > 0):
            raise BadInputError(f"presence model{self._where()}: feature_scale must be positive")
        if not math.isfinite(float(self.bias)):
            raise BadInputError(f"presence model{self._where()}: bias must be finite")
        object.__setattr__(self, "bias", float(self.bias))
        shape = tuple(int(v) for v in self.score_shape)
        if len(shape) != 3 or min(shape) < 1:
            raise BadInputError(f"presence model{self._where()}: score_shape must be (A, H, W)")
        object.__setattr__(self, "score_shape", shape)

    def _where(self) -> str:
        return f" {self.source}" if self.source else ""

    @property
    def description(self) -> str:
        return f"presence model {self.source or '(in memory)'}"

    def logit(self, features: np.ndarray) -> np.ndarray:
        """Confidence logits of (..., F) features."""
        standardized = (np.asarray(features, np.float64) - self.feature_mean) / self.feature_scale
        return standardized @ self.weights + self.bias

    def confidence(self, scores: np.ndarray, score: float) -> float:
        """Probability that the box selected from ``scores`` (A, H, W) is on the target."""
        return float(self.confidences(score_map_features(scores, score)))

    def confidences(self, features: np.ndarray) -> np.ndarray:
        """Probabilities of (..., F) ``score_map_features`` rows."""
        return _sigmoid(self.logit(features))

    def check_score_shape(self, shape: Sequence[int], where: str = "") -> None:
        """Raise a BadInputError naming the file when the network's score map is not the one the
        model was fit for."""
        shape = tuple(int(v) for v in shape)
        if shape != self.score_shape:
            raise BadInputError(
                f"presence model {self.source or '(in memory)'} was fit for score maps "
                f"{self.score_shape} ({self.meta_architecture or 'unknown network'}) but "
                f"{where or 'the network'} gives {shape}: use the presence model of this "
                "network (TRACKER.PRESENCE_MODEL) or fit one with tools/fit_presence.py"
            )

    def to_dict(self) -> Dict[str, object]:
        return {
            "format": _FORMAT,
            "features": list(FEATURE_NAMES),
            "weights": self.weights.tolist(),
            "bias": self.bias,
            "feature_mean": self.feature_mean.tolist(),
            "feature_scale": self.feature_scale.tolist(),
            "score_shape": list(self.score_shape),
            "meta_architecture": self.meta_architecture,
            "on_target_iou": ON_TARGET_IOU,
            "fit": self.fit_info,
        }

    def save(self, path: PathLike, overwrite: bool = False) -> Path:
        """Write the model as JSON (atomically; an existing file only with ``overwrite``)."""
        return write_text(path, json.dumps(self.to_dict(), indent=1) + "\n", overwrite=overwrite)


def _sigmoid(logit):
    return 1.0 / (1.0 + np.exp(-np.clip(logit, -60.0, 60.0)))


def presence_model_path(path: PathLike) -> Path:
    """The file ``TRACKER.PRESENCE_MODEL`` names: ``path`` itself, or, for a relative path that
    is not a file, the same path under the configs shipped with siamtrack when that exists."""
    path = Path(path)
    if not path.is_file() and not path.is_absolute() and (configs_dir() / path).is_file():
        path = configs_dir() / path
    return path


def load_presence_model(path: PathLike) -> PresenceModel:
    """Read a presence model JSON (``PresenceModel.save``): a file, or a path relative to the
    configs shipped with siamtrack (``"nanotrack/presence/nanotrack_v3.json"``, as
    ``TRACKER.PRESENCE_MODEL`` of the NanoTrack configs names it).

    Raises:
        FileNotFoundError: no such file.
        ValueError: not a presence model, other features, or bad values (naming the file).
    """
    path = presence_model_path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"presence model {path} does not exist (TRACKER.PRESENCE_MODEL: a JSON written by "
            "tools/fit_presence.py, or '' for the raw score)"
        )
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BadInputError(f"presence model {path} is not readable JSON ({error})") from None
    return presence_model_from_dict(data, str(path))


def presence_model_from_dict(data: Dict[str, object], source: str = "") -> PresenceModel:
    """A presence model from its JSON content (``PresenceModel.to_dict``); ``source`` names
    where it came from (the file) in messages and in ``PresenceModel.source``.

    Raises:
        ValueError: not a presence model, other features, or bad values (naming ``source``).
    """
    path = source or "(in memory)"
    if not isinstance(data, dict) or data.get("format") != _FORMAT:
        raise BadInputError(
            f"presence model {path} is not a siamtrack presence model (format "
            f"{data.get('format') if isinstance(data, dict) else None!r}, expected {_FORMAT!r})"
        )
    if tuple(data.get("features", ())) != FEATURE_NAMES:
        raise BadInputError(
            f"presence model {path} uses features {data.get('features')}, this siamtrack "
            f"computes {list(FEATURE_NAMES)}: fit it again with tools/fit_presence.py"
        )
    try:
        return PresenceModel(
            weights=data["weights"],
            bias=data["bias"],
            feature_mean=data["feature_mean"],
            feature_scale=data["feature_scale"],
            score_shape=data["score_shape"],
            meta_architecture=str(data.get("meta_architecture", "")),
            fit_info=dict(data.get("fit", {})),
            source=source,
        )
    except KeyError as error:
        raise BadInputError(f"presence model {path} has no {error.args[0]!r}") from None
    except (TypeError, ValueError) as error:
        message = str(error)
        raise BadInputError(
            message if str(path) in message else f"presence model {path}: {message}"
        ) from None


def fit_presence_model(
    features: np.ndarray,
    on_target: np.ndarray,
    *,
    score_shape: Sequence[int],
    meta_architecture: str = "",
    l2: float = 1e-2,
    iterations: int = 50,
    fit_info: Optional[Dict[str, object]] = None,
) -> PresenceModel:
    """Logistic regression of ``on_target`` on the features (Newton's method, L2 on weights).

    Args:
        features: (N, F) ``score_map_features`` rows.
        on_target: (N,) bool labels (the box's IoU with the ground truth >= ``ON_TARGET_IOU``).
        score_shape, meta_architecture: what the model is for (checked by trackers).
        l2: ridge penalty on the standardized weights.
        iterations: Newton steps (it converges in ~10).
    """
    x = np.asarray(features, dtype=np.float64)
    y = np.asarray(on_target, dtype=np.float64).reshape(-1)
    if x.ndim != 2 or x.shape[1] != len(FEATURE_NAMES) or len(x) != len(y):
        raise ValueError(f"expected (N, {len(FEATURE_NAMES)}) features and N labels")
    if not 0 < y.mean() < 1:
        raise ValueError("the fit needs frames both on and off the target")
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-9
    design = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
    params = np.zeros(design.shape[1])
    ridge = l2 * np.diag(np.r_[np.ones(design.shape[1] - 1), 0.0])
    for _ in range(iterations):
        p = _sigmoid(design @ params)
        gradient = design.T @ (p - y) + ridge @ params
        hessian = (design * (p * (1.0 - p))[:, None]).T @ design + ridge
        step = np.linalg.solve(hessian, gradient)
        params -= step
        if np.max(np.abs(step)) < 1e-8:
            break
    return PresenceModel(
        weights=params[:-1],
        bias=float(params[-1]),
        feature_mean=mean,
        feature_scale=scale,
        score_shape=tuple(score_shape),
        meta_architecture=meta_architecture,
        fit_info=dict(fit_info or {}),
    )


def reliability_table(
    confidences: np.ndarray, on_target: np.ndarray, bins: int = 10
) -> List[Dict[str, float]]:
    """Calibration: per confidence bin ``[k/bins, (k+1)/bins)``, the number of frames, their
    mean confidence and the fraction on the target (empty bins left out)."""
    confidences = np.asarray(confidences, dtype=np.float64)
    on_target = np.asarray(on_target, dtype=bool)
    index = np.clip((confidences * bins).astype(int), 0, bins - 1)
    rows = []
    for k in range(bins):
        mask = index == k
        if mask.any():
            rows.append(
                {
                    "low": k / bins,
                    "high": (k + 1) / bins,
                    "frames": int(mask.sum()),
                    "mean_confidence": float(confidences[mask].mean()),
                    "on_target": float(on_target[mask].mean()),
                }
            )
    return rows
