"""Search strategies: where a tracker crops around a target and how it reads the network's
answer (pure numpy).

A ``SearchStrategy`` is the family-specific part of the online tracker. The tracker engine
(``engine.py``) asks it for the crop sides of a target's local search, crops them
(``siamtrack.utils.crops``), runs the network on all crops of all targets in one batched call and
hands each target's maps back to ``locate``, which returns a ``Candidate``: the new centre and
size in image pixels, the raw score and the score map it came from (which the presence model
reads). Re-detection crops (``redetection.py``) go through ``locate`` too, one crop at a time
and without the motion prior.

``PenaltyWindowSearch`` is the tracker of SiamRPN / SiamRPN++ / NanoTrack
(``docs/siamrpnpp.md#tracker``: scale/ratio penalty, cosine window, size smoothing;
``postprocess.py``). Other families register theirs in ``SEARCH_STRATEGY_REGISTRY``
(``TRACKER.SEARCH`` names one).

A strategy is built two ways: from a config (``build_search_strategy(cfg, T, S)``: the class's
``from_config(cfg, template_size=T, search_size=S)`` gives its keyword arguments; a detectron2
``@configurable`` class works as it is), and from plain settings
(``search_strategy_from_settings(name, settings)``: ``cls.from_settings(settings)``, by
default ``cls(**settings)``), which is how the torch-free tracker rebuilds the strategy a
config gave (``runtime_record.py``). A strategy that can be rebuilt so has a ``settings()``
method returning those keyword arguments as plain JSON values. Nothing here imports torch or
detectron2: the registry is siamtrack's own, with detectron2's API.
"""

from dataclasses import dataclass
from typing import Any, Dict, Mapping, Protocol, Sequence, Tuple

import numpy as np

from ..errors import BadInputError
from ..utils.crops import siamese_crop_sides
from ..utils.registry import Registry
from .postprocess import hann_window, select_best, update_target

__all__ = [
    "SEARCH_STRATEGY_REGISTRY",
    "Candidate",
    "PenaltyWindowSearch",
    "SearchStrategy",
    "build_search_strategy",
    "search_strategy_from_settings",
]

SEARCH_STRATEGY_REGISTRY = Registry("SEARCH_STRATEGY")
SEARCH_STRATEGY_REGISTRY.__doc__ = """
Search strategies of the online trackers (``SearchStrategy``), registered with
``@SEARCH_STRATEGY_REGISTRY.register()`` on the class; ``TRACKER.SEARCH`` names the one a config
uses. A registered class is built from a config with its ``from_config(cfg, template_size=...,
search_size=...)`` (or ``cls(cfg, ...)`` without one), and from plain settings with
``from_settings`` / ``cls(**settings)`` (module docstring).
"""


@dataclass(frozen=True)
class Candidate:
    """Where a search found the target.

    Attributes:
        center_xy: float64 (2,), new target centre in image pixels.
        size_wh: float64 (2,), new target size in image pixels.
        score: raw score of the selected cell.
        scores: (A, H, W) score map of the crop the cell belongs to.
    """

    center_xy: np.ndarray
    size_wh: np.ndarray
    score: float
    scores: np.ndarray


class SearchStrategy(Protocol):
    """The family-specific part of the tracker (see the module docstring)."""

    context_amount: float
    template_size: int
    search_size: int

    def local_search_sides(self, size_wh: np.ndarray) -> Tuple[float, ...]:
        """Sides (image px) of the square crops around the target's centre, one per crop
        (several for a scale pyramid); each crop is resized to ``search_size``."""

    def locate(
        self,
        scores: np.ndarray,
        boxes_cxcywh: np.ndarray,
        centers_xy: np.ndarray,
        sides: Sequence[float],
        size_wh: np.ndarray,
        image_hw: Tuple[int, int],
        motion_prior: bool = True,
    ) -> Candidate:
        """The target in n crops of one target.

        Args:
            scores: (n, A, H, W) network scores of the crops.
            boxes_cxcywh: (n, A, H, W, 4) decoded boxes in crop pixels.
            centers_xy: (n, 2) image centres of the crops.
            sides: (n,) crop sides in image pixels.
            size_wh: current target size in image pixels.
            image_hw: frame size, for clipping.
            motion_prior: favour small motions (the cosine window); off for re-detection.
        """

    def template_side(self, size_wh: np.ndarray) -> float:
        """Side (image px) of the template crop of a target of ``size_wh``."""

    def redetection_side(self, size_wh: np.ndarray) -> float:
        """Side (image px) of one re-detection crop (the local search at the target's scale)."""

    # Optional, for the torch-free tracker (module docstring):
    # def settings(self) -> Dict[str, Any]: the keyword arguments that rebuild this strategy.


@SEARCH_STRATEGY_REGISTRY.register()
class PenaltyWindowSearch:
    """SiamRPN++ / NanoTrack tracking step: one crop, penalised + windowed arg-max, smoothed
    size (``postprocess.py``)."""

    def __init__(
        self,
        *,
        template_size: int,
        search_size: int,
        context_amount: float = 0.5,
        penalty_k: float = 0.04,
        window_influence: float = 0.44,
        lr: float = 0.4,
        min_size: float = 10.0,
    ):
        """
        Args:
            template_size, search_size: crop sides T and S the network takes.
            context_amount: ``MODEL.SIAMESE.CONTEXT_AMOUNT``, context around the target crop.
            penalty_k: scale/aspect-ratio change penalty strength (``TRACKER.PENALTY_K``).
            window_influence: weight of the cosine window (``TRACKER.WINDOW_INFLUENCE``).
            lr: size smoothing rate (``TRACKER.LR``).
            min_size: smallest box side reported, px (``TRACKER.MIN_SIZE``).
        """
        for name, value in (("lr", lr), ("window_influence", window_influence)):
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must lie in [0, 1], got {value}")
        if not penalty_k >= 0 or not context_amount >= 0 or not min_size >= 0:
            raise ValueError("penalty_k, context_amount and min_size must be non-negative")
        self.template_size = int(template_size)
        self.search_size = int(search_size)
        self.context_amount = float(context_amount)
        self.penalty_k = float(penalty_k)
        self.window_influence = float(window_influence)
        self.lr = float(lr)
        self.min_size = float(min_size)
        self._windows: Dict[tuple, np.ndarray] = {}

    @classmethod
    def from_config(cls, cfg, template_size: int, search_size: int):
        return {
            "template_size": template_size,
            "search_size": search_size,
            "context_amount": cfg.MODEL.SIAMESE.CONTEXT_AMOUNT,
            "penalty_k": cfg.TRACKER.PENALTY_K,
            "window_influence": cfg.TRACKER.WINDOW_INFLUENCE,
            "lr": cfg.TRACKER.LR,
            "min_size": cfg.TRACKER.MIN_SIZE,
        }

    def settings(self) -> Dict[str, Any]:
        """The keyword arguments that rebuild this strategy (``cls(**settings)``)."""
        return {
            "template_size": self.template_size,
            "search_size": self.search_size,
            "context_amount": self.context_amount,
            "penalty_k": self.penalty_k,
            "window_influence": self.window_influence,
            "lr": self.lr,
            "min_size": self.min_size,
        }

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> "PenaltyWindowSearch":
        return cls(**settings)

    def template_side(self, size_wh: np.ndarray) -> float:
        return self._sides(size_wh)[0]

    def redetection_side(self, size_wh: np.ndarray) -> float:
        return self._sides(size_wh)[1]

    def local_search_sides(self, size_wh: np.ndarray) -> Tuple[float, ...]:
        return (self._sides(size_wh)[1],)

    def _sides(self, size_wh) -> Tuple[float, float]:
        return siamese_crop_sides(
            size_wh[0], size_wh[1], self.context_amount, self.template_size, self.search_size
        )

    def locate(self, scores, boxes_cxcywh, centers_xy, sides, size_wh, image_hw, motion_prior=True):
        if len(scores) != 1:
            raise ValueError(f"{type(self).__name__} searches one crop, got {len(scores)}")
        scale = self.search_size / float(sides[0])  # crop px per image px
        target_scores = scores[0]
        selection = select_best(
            target_scores,
            boxes_cxcywh[0],
            np.asarray(size_wh) * scale,
            self._window(target_scores.shape[1:]),
            self.penalty_k,
            self.window_influence if motion_prior else 0.0,
        )
        center_xy, new_size_wh = update_target(
            np.asarray(centers_xy[0], dtype=np.float64),
            np.asarray(size_wh, dtype=np.float64),
            selection,
            crop_center=self.search_size / 2.0,
            crop_scale=scale,
            lr=self.lr,
            image_hw=image_hw,
            min_size=self.min_size,
        )
        return Candidate(center_xy, new_size_wh, selection.score, target_scores)

    def _window(self, score_hw) -> np.ndarray:
        key = tuple(int(v) for v in score_hw)
        if key not in self._windows:
            self._windows[key] = hann_window(*key)
        return self._windows[key]

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(penalty_k={self.penalty_k}, window_influence="
            f"{self.window_influence}, lr={self.lr}, template_size={self.template_size}, "
            f"search_size={self.search_size})"
        )


def _strategy_class(name: str):
    try:
        return SEARCH_STRATEGY_REGISTRY.get(name)
    except KeyError:
        known = sorted(name for name, _ in SEARCH_STRATEGY_REGISTRY)
        raise ValueError(
            f"TRACKER.SEARCH '{name}' is not a registered search strategy {known}"
        ) from None


def build_search_strategy(cfg, template_size: int, search_size: int) -> SearchStrategy:
    """The strategy ``cfg.TRACKER.SEARCH`` names, for a network with these crop sizes."""
    strategy_class = _strategy_class(cfg.TRACKER.SEARCH)
    from_config = getattr(strategy_class, "from_config", None)
    if from_config is None:  # a class that reads the config itself
        return strategy_class(cfg, template_size=template_size, search_size=search_size)
    return strategy_class(**from_config(cfg, template_size=template_size, search_size=search_size))


def search_strategy_from_settings(name: str, settings: Mapping[str, Any]) -> SearchStrategy:
    """The registered strategy ``name`` rebuilt from its ``settings()``.

    Raises:
        ValueError: ``name`` is not registered.
        BadInputError: the settings do not fit the class.
    """
    strategy_class = _strategy_class(name)
    from_settings = getattr(strategy_class, "from_settings", None)
    try:
        if from_settings is not None:
            return from_settings(dict(settings))
        return strategy_class(**dict(settings))
    except TypeError as error:
        raise BadInputError(f"search strategy {name}: settings {dict(settings)} ({error})")
