"""SiamFC's tracker as a search strategy: ``ScalePyramidSearch`` (``SEARCH_STRATEGY_REGISTRY``,
``TRACKER.SEARCH "ScalePyramidSearch"``; pure numpy + OpenCV).

Per frame and target (Bertinetto et al. 2016, section 2.4 and the authors' ``tracker.m``;
``docs/siamfc.md#tracker``):

1. **Pyramid.** ``local_search_sides`` gives ``NUM_SCALES`` (3) crop sides around the target's
   centre, ``x * SCALE_STEP ** k`` for ``k = -1, 0, 1`` with ``x`` the search side at the
   current size (the SiamRPN++ context rule); the engine crops them, resizes each to S and
   runs them with the other targets' crops in its one batched network call.
2. **Upsampling.** Each crop's (1, 17, 17) score map is resized ``UPSAMPLE`` (16) times to
   272 x 272 with bicubic interpolation (``cv2.resize``, ``INTER_CUBIC``); upsampled pixel
   ``u`` lies on map coordinate ``(u + 0.5) / 16 - 0.5``, so the crop centre (the centre cell)
   is at ``(272 - 1) / 2``.
3. **Scale.** The maps of the scales other than 1 are multiplied by ``SCALE_PENALTY``
   (0.9745); the scale whose map has the highest peak wins.
4. **Position.** Its map is shifted to a minimum of 0 and normalised to a sum of 1 (a flat
   map, e.g. saturated scores, becomes 0), then blended with a cosine window of sum 1:
   ``(1 - wi) * map + wi * window``, ``wi = TRACKER.WINDOW_INFLUENCE`` (0.176). The window
   is ``np.hanning(272)`` squared, which peaks on the crop centre (``postprocess.hann_window``
   peaks on pixel ``272 // 2``, half a pixel off it, so it is not used here). The arg-max's
   offset from the crop centre, in crop pixels (through the cell centres the network decodes:
   stride 8, i.e. 0.5 crop px per upsampled pixel), times the chosen crop's image pixels per
   crop pixel, moves the centre. Pixels next to the first maximum that tie with it count by
   their mean position: a peak symmetric about the centre cell ties the four pixels around
   the crop centre and leaves the target where it was (the reference trackers take the
   first, a quarter crop pixel up-left).
5. **Size.** ``new = old * (1 - lr + lr * s)``, ``s`` the chosen scale, ``lr = TRACKER.LR``
   (0.59, the scale damping); the aspect ratio stays. The centre is clipped to the image and
   the sides to ``[TRACKER.MIN_SIZE, image size]``, as ``PenaltyWindowSearch`` does.

The maps scaled, normalised and windowed are the network's scores, ``sigmoid(response)``
(the reference trackers use the response itself; the sigmoid keeps every value positive, so
the penalty always lowers a peak). Re-detection tiles (``motion_prior=False``) come one crop
at a time at the target's scale: no penalty, no window, the size unchanged. The candidate's
``score`` is the network's score of the cell nearest the arg-max, its ``scores`` the chosen
crop's (1, H, W) map.
"""

from typing import Any, Dict, Mapping, Tuple

import cv2
import numpy as np

from ...tracking.search import SEARCH_STRATEGY_REGISTRY, Candidate
from ...utils.crops import siamese_crop_sides

__all__ = ["ScalePyramidSearch"]

# A map whose values differ by less than this fraction of its peak counts as flat (a saturated
# or constant score map): the upsampling's rounding must not pick the position.
_FLAT = 1e-9


@SEARCH_STRATEGY_REGISTRY.register()
class ScalePyramidSearch:
    """SiamFC's tracking step: a scale pyramid of crops, upsampled bicubic score maps, scale
    penalty, cosine window and damped scale update (module docstring)."""

    def __init__(
        self,
        *,
        template_size: int,
        search_size: int,
        context_amount: float = 0.5,
        num_scales: int = 3,
        scale_step: float = 1.0375,
        scale_penalty: float = 0.9745,
        window_influence: float = 0.176,
        lr: float = 0.59,
        upsample: int = 16,
        min_size: float = 10.0,
    ):
        """
        Args:
            template_size, search_size: crop sides T and S the network takes.
            context_amount: ``MODEL.SIAMESE.CONTEXT_AMOUNT``, context around the target crop.
            num_scales: crops per target and frame, odd (``TRACKER.SCALE_PYRAMID.NUM_SCALES``).
            scale_step: ratio of neighbouring scales (``TRACKER.SCALE_PYRAMID.SCALE_STEP``).
            scale_penalty: factor of the maps of scales other than 1
                (``TRACKER.SCALE_PYRAMID.SCALE_PENALTY``).
            window_influence: weight of the cosine window (``TRACKER.WINDOW_INFLUENCE``).
            lr: scale damping (``TRACKER.LR``).
            upsample: score-map upsampling factor (``TRACKER.SCALE_PYRAMID.UPSAMPLE``).
            min_size: smallest box side reported, px (``TRACKER.MIN_SIZE``).
        """
        if int(num_scales) < 1 or int(num_scales) % 2 == 0:
            raise ValueError(f"num_scales must be a positive odd number, got {num_scales}")
        if not scale_step >= 1.0 or not 0.0 < scale_penalty <= 1.0:
            raise ValueError(
                f"scale_step must be >= 1 and scale_penalty in (0, 1], got {scale_step} and "
                f"{scale_penalty}"
            )
        for name, value in (("lr", lr), ("window_influence", window_influence)):
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must lie in [0, 1], got {value}")
        if int(upsample) < 1 or not context_amount >= 0 or not min_size >= 0:
            raise ValueError("upsample must be >= 1, context_amount and min_size non-negative")
        self.template_size = int(template_size)
        self.search_size = int(search_size)
        self.context_amount = float(context_amount)
        self.num_scales = int(num_scales)
        self.scale_step = float(scale_step)
        half = self.num_scales // 2
        self.scale_factors = self.scale_step ** np.arange(-half, half + 1, dtype=np.float64)
        self.scale_penalty = float(scale_penalty)
        self.window_influence = float(window_influence)
        self.lr = float(lr)
        self.upsample = int(upsample)
        self.min_size = float(min_size)
        self._windows: Dict[int, np.ndarray] = {}

    @classmethod
    def from_config(cls, cfg, template_size: int, search_size: int):
        pyramid = cfg.TRACKER.SCALE_PYRAMID
        return {
            "template_size": template_size,
            "search_size": search_size,
            "context_amount": cfg.MODEL.SIAMESE.CONTEXT_AMOUNT,
            "num_scales": pyramid.NUM_SCALES,
            "scale_step": pyramid.SCALE_STEP,
            "scale_penalty": pyramid.SCALE_PENALTY,
            "window_influence": cfg.TRACKER.WINDOW_INFLUENCE,
            "lr": cfg.TRACKER.LR,
            "upsample": pyramid.UPSAMPLE,
            "min_size": cfg.TRACKER.MIN_SIZE,
        }

    def settings(self) -> Dict[str, Any]:
        """The keyword arguments that rebuild this strategy (``cls(**settings)``; the torch-free
        tracker's runtime records keep them)."""
        return {
            "template_size": self.template_size,
            "search_size": self.search_size,
            "context_amount": self.context_amount,
            "num_scales": self.num_scales,
            "scale_step": self.scale_step,
            "scale_penalty": self.scale_penalty,
            "window_influence": self.window_influence,
            "lr": self.lr,
            "upsample": self.upsample,
            "min_size": self.min_size,
        }

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> "ScalePyramidSearch":
        return cls(**settings)

    # ------------------------------------------------------------------ crops
    def _sides(self, size_wh) -> Tuple[float, float]:
        return siamese_crop_sides(
            size_wh[0], size_wh[1], self.context_amount, self.template_size, self.search_size
        )

    def template_side(self, size_wh: np.ndarray) -> float:
        return self._sides(size_wh)[0]

    def redetection_side(self, size_wh: np.ndarray) -> float:
        return self._sides(size_wh)[1]

    def local_search_sides(self, size_wh: np.ndarray) -> Tuple[float, ...]:
        side = self._sides(size_wh)[1]
        return tuple(float(side * factor) for factor in self.scale_factors)

    # ------------------------------------------------------------------ one target
    def locate(self, scores, boxes_cxcywh, centers_xy, sides, size_wh, image_hw, motion_prior=True):
        """The target in its n crops (the pyramid, or one re-detection tile); see the module
        docstring. ``scores`` (n, A, H, W), ``boxes_cxcywh`` (n, A, H, W, 4) (only the cell
        centres are read), ``centers_xy`` (n, 2) and ``sides`` (n,) of the crops."""
        scores = np.asarray(scores, dtype=np.float64)
        if scores.ndim != 4 or len(scores) != len(sides) or len(scores) < 1:
            raise ValueError(
                f"expected scores (n, A, H, W) of n = {len(sides)} crops, got {scores.shape}"
            )
        size_wh = np.asarray(size_wh, dtype=np.float64)
        factors = np.asarray(sides, dtype=np.float64) / self._sides(size_wh)[1]
        maps = [self._upsampled(s.max(axis=0)) for s in scores]  # (U, U) each
        peaks = np.array([m.max() for m in maps])
        unchanged = np.isclose(factors, 1.0, rtol=1e-9, atol=0.0)
        peaks = np.where(unchanged, peaks, peaks * self.scale_penalty)
        best = int(np.argmax(peaks))
        response = maps[best] if unchanged[best] else maps[best] * self.scale_penalty
        if motion_prior and self.window_influence > 0:
            response = response - response.min()
            if response.max() <= _FLAT * maps[best].max():
                # flat: no peak but rounding, the window decides
                response = np.zeros_like(response)
            response = response / (response.sum() + 1e-16)
            window = self._window(response.shape[0])
            response = (1.0 - self.window_influence) * response + self.window_influence * window
        peak_xy = self._peak_xy(response)
        # upsampled pixel -> map coordinate (cv2's pixel-centre convention) -> crop pixels
        cell_xy = (peak_xy + 0.5) / self.upsample - 0.5
        crop_xy = self._crop_coordinates(np.asarray(boxes_cxcywh[best], np.float64), cell_xy)
        image_per_crop = float(sides[best]) / self.search_size
        center = (
            np.asarray(centers_xy[best], np.float64)
            + (crop_xy - self.search_size / 2.0) * image_per_crop
        )
        if unchanged[best]:
            new_size = size_wh.copy()  # bit-identical when the scale does not change
        else:
            new_size = size_wh * (1.0 - self.lr + self.lr * factors[best])
        height, width = float(image_hw[0]), float(image_hw[1])
        limits = np.array([width, height])
        center = np.clip(center, 0.0, limits)
        new_size = np.clip(new_size, np.minimum(self.min_size, limits), limits)
        grid_hw = scores.shape[2:]
        nearest = np.clip(np.rint(cell_xy[::-1]).astype(int), 0, np.array(grid_hw) - 1)
        score = float(scores[best][:, nearest[0], nearest[1]].max())
        return Candidate(center, new_size, score, scores[best])

    @staticmethod
    def _peak_xy(response: np.ndarray) -> np.ndarray:
        """(x, y) of the arg-max: the first maximum and the pixels next to it that tie with it
        (a peak symmetric about a cell centre), by their mean position."""
        row, col = np.unravel_index(int(np.argmax(response)), response.shape)
        rows = slice(max(row - 1, 0), row + 2)
        cols = slice(max(col - 1, 0), col + 2)
        near = response[rows, cols]
        tied_rows, tied_cols = np.nonzero(np.isclose(near, near.max(), rtol=1e-9, atol=0.0))
        return np.array([cols.start + tied_cols.mean(), rows.start + tied_rows.mean()])

    def _upsampled(self, score_map: np.ndarray) -> np.ndarray:
        height, width = score_map.shape
        if self.upsample == 1:
            return score_map.copy()
        size = (width * self.upsample, height * self.upsample)  # cv2: (width, height)
        return cv2.resize(score_map, size, interpolation=cv2.INTER_CUBIC)

    @staticmethod
    def _crop_coordinates(boxes_cxcywh: np.ndarray, cell_xy: np.ndarray) -> np.ndarray:
        """Crop pixels (x, y) of a (fractional) map coordinate (x, y), from the cell centres
        of the decoded boxes (A, H, W, 4): linear between cells."""
        centers = boxes_cxcywh[0, ..., :2]  # (H, W, 2)
        height, width = centers.shape[:2]
        origin = centers[0, 0]
        step_x = (centers[0, -1, 0] - origin[0]) / (width - 1) if width > 1 else 0.0
        step_y = (centers[-1, 0, 1] - origin[1]) / (height - 1) if height > 1 else 0.0
        return origin + cell_xy * np.array([step_x, step_y])

    def _window(self, size: int) -> np.ndarray:
        if size not in self._windows:
            window = np.outer(np.hanning(size), np.hanning(size))
            self._windows[size] = window / window.sum()
        return self._windows[size]

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(scales={np.round(self.scale_factors, 4).tolist()}, "
            f"scale_penalty={self.scale_penalty}, window_influence={self.window_influence}, "
            f"lr={self.lr}, upsample={self.upsample}, template_size={self.template_size}, "
            f"search_size={self.search_size})"
        )
