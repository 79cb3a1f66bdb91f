"""``PairCropDatasetMapper``: a pair record -> template/search crops for SiamRPN++ training.

detectron2 DatasetMapper style (``@configurable`` with ``from_config(cfg, is_train)``), but the
input is a *pair record* from ``PairSampler.record`` instead of a single-image dict. The crops
use the shared :func:`~siamtrack.data.crops.crop_window` (one sub-pixel affine warp, mean-colour
padding) with the shift/scale augmentation folded into the window; see ``augmentation.py`` for
why this equals pysot's 511-crop-then-augment scheme.
"""

from typing import Dict, Optional, Tuple

import numpy as np
import torch
from detectron2.config import configurable

from ..errors import BadInputError
from ..utils.boxes import context_crop_side, is_valid_xywh
from ..io.images import UnreadableImageError
from ..io.images import read_image_bgr as read_image
from .augmentation import CropAugParams, photometric_augment, sample_crop_window, to_gray
from .crops import crop_window, mean_color

__all__ = ["PairCropDatasetMapper", "UnusableSampleError", "read_sample_image"]


class UnusableSampleError(BadInputError):
    """A single training sample cannot be used (unreadable image, box outside the image).

    The training stream logs it, counts it and draws a replacement sample.
    """


def read_sample_image(file_name: str) -> np.ndarray:
    """Read a training image as HxWx3 uint8 BGR; :class:`UnusableSampleError` (the stream
    replaces the sample) naming the file if it cannot be read."""
    try:
        return read_image(file_name)
    except UnreadableImageError as error:
        raise UnusableSampleError(str(error)) from error


class PairCropDatasetMapper:
    """Turn a pair record into the model's training input.

    Returns ``{"template": uint8 (3, T, T), "search": uint8 (3, S, S), "search_box_xyxy":
    float32 (4,), "template_box_xyxy": float32 (4,), "is_negative": bool, "dataset_name": str,
    "file_name": str (search image), "template_file_name": str}``; crops are BGR, CHW,
    contiguous. Boxes are in continuous crop coordinates; for negative pairs
    ``search_box_xyxy`` is the box of the distractor the search crop is centred on.

    Order (pysot's): pair-level negative/gray decisions, crop with shift/scale, gray, then per
    crop colour offset, blur and flip (so a gray pair still gets the colour offset, as in pysot).
    Randomness comes from ``record["seed"]`` when present (reproducible per sample), else from
    the mapper's own generator.
    """

    @configurable
    def __init__(
        self,
        is_train: bool = True,
        *,
        template_size: int,
        search_size: int,
        context_amount: float,
        template_aug: CropAugParams,
        search_aug: CropAugParams,
        negative_pair_prob: float = 0.0,
        gray_prob: float = 0.0,
        seed: Optional[int] = None,
    ):
        """
        Args:
            is_train: False disables all augmentation and negative pairs (centred crops).
            template_size: side T of the template crop (127).
            search_size: side S of the search crop (255).
            context_amount: context of the template crop side (``docs/conventions.md#crops``, 0.5).
            template_aug: augmentation of the template crop (``INPUT.TEMPLATE_AUG``).
            search_aug: augmentation of the search crop (``INPUT.SEARCH_AUG``).
            negative_pair_prob: probability of a negative pair (``INPUT.NEGATIVE_PAIR_PROB``).
            gray_prob: probability of converting both crops to gray (``INPUT.GRAY_PROB``).
            seed: seed of the fallback generator used for records without a "seed".
        """
        if not (0.0 <= negative_pair_prob <= 1.0 and 0.0 <= gray_prob <= 1.0):
            raise BadInputError(
                f"probabilities must be in [0, 1]: negative_pair_prob={negative_pair_prob}, "
                f"gray_prob={gray_prob}"
            )
        if template_size <= 0 or search_size < template_size:
            raise BadInputError(
                f"expected 0 < template_size <= search_size, got {template_size}, {search_size}"
            )
        self.is_train = is_train
        self.template_size = int(template_size)
        self.search_size = int(search_size)
        self.context_amount = float(context_amount)
        self.template_aug = template_aug if is_train else CropAugParams()
        self.search_aug = search_aug if is_train else CropAugParams()
        self.negative_pair_prob = float(negative_pair_prob) if is_train else 0.0
        self.gray_prob = float(gray_prob) if is_train else 0.0
        self._rng = np.random.default_rng(seed)

    @classmethod
    def from_config(cls, cfg, is_train: bool = True):
        return {
            "is_train": is_train,
            "template_size": cfg.MODEL.SIAMESE.TEMPLATE_SIZE,
            "search_size": cfg.MODEL.SIAMESE.SEARCH_SIZE,
            "context_amount": cfg.MODEL.SIAMESE.CONTEXT_AMOUNT,
            "template_aug": CropAugParams.from_config(cfg.INPUT.TEMPLATE_AUG),
            "search_aug": CropAugParams.from_config(cfg.INPUT.SEARCH_AUG),
            "negative_pair_prob": cfg.INPUT.NEGATIVE_PAIR_PROB,
            "gray_prob": cfg.INPUT.GRAY_PROB,
            "seed": cfg.SEED if cfg.SEED >= 0 else None,
        }

    def _crop(
        self,
        image: np.ndarray,
        pad_color: Tuple[float, ...],
        frame: Dict,
        out_size: int,
        params: CropAugParams,
        rng: np.random.Generator,
    ) -> Tuple[np.ndarray, np.ndarray]:
        box = np.asarray(frame["box_xywh"], dtype=np.float64)
        height, width = image.shape[:2]
        if not is_valid_xywh(box):
            raise UnusableSampleError(f"{frame['file_name']}: invalid box {box.tolist()} (x,y,w,h)")
        if box[0] >= width or box[1] >= height or box[0] + box[2] <= 0 or box[1] + box[3] <= 0:
            raise UnusableSampleError(
                f"{frame['file_name']}: box {box.tolist()} (x,y,w,h) lies outside the "
                f"{width}x{height} image"
            )
        unit = float(context_crop_side(box[2], box[3], self.context_amount)) / self.template_size
        window, box_xyxy = sample_crop_window(
            box, out_size, unit, 2 * self.search_size + 1, params, rng
        )
        crop = crop_window(image, window, out_size, pad_color)
        return crop, box_xyxy

    def __call__(self, record: Dict) -> Dict:
        """Map one pair record (``PairSampler.record``) to the training dict (class docstring)."""
        rng = np.random.default_rng(record["seed"]) if "seed" in record else self._rng
        # Pair-level decisions first; each draw happens unconditionally so that the stream of
        # random numbers does not depend on the outcome.
        negative_draw, gray_draw = rng.random(2)
        is_negative = bool(
            negative_draw < self.negative_pair_prob and record.get("distractor") is not None
        )
        gray = bool(gray_draw < self.gray_prob)
        template_frame = record["template"]
        search_frame = record["distractor"] if is_negative else record["search"]

        template_image = read_sample_image(template_frame["file_name"])
        template_pad = mean_color(template_image)
        if search_frame["file_name"] == template_frame["file_name"]:
            search_image, search_pad = template_image, template_pad
        else:
            search_image = read_sample_image(search_frame["file_name"])
            search_pad = mean_color(search_image)

        template, template_box = self._crop(
            template_image, template_pad, template_frame, self.template_size, self.template_aug, rng
        )
        search, search_box = self._crop(
            search_image, search_pad, search_frame, self.search_size, self.search_aug, rng
        )
        if gray:
            template, search = to_gray(template), to_gray(search)
        template, template_box = photometric_augment(template, template_box, self.template_aug, rng)
        search, search_box = photometric_augment(search, search_box, self.search_aug, rng)
        return {
            "template": _to_chw_tensor(template),
            "search": _to_chw_tensor(search),
            "search_box_xyxy": torch.as_tensor(search_box, dtype=torch.float32),
            "template_box_xyxy": torch.as_tensor(template_box, dtype=torch.float32),
            "is_negative": is_negative,
            "dataset_name": record.get("dataset_name", ""),
            "file_name": search_frame["file_name"],
            "template_file_name": template_frame["file_name"],
        }


def _to_chw_tensor(crop: np.ndarray) -> torch.Tensor:
    # Contiguous CHW so the tensor can be shared between DataLoader workers without copies
    # (detectron2 DatasetMapper does the same).
    return torch.from_numpy(np.ascontiguousarray(crop.transpose(2, 0, 1)))
