"""Pair sources: compact, fork-friendly indexes of the objects a dataset offers as targets.

Both classes follow the ``PairSource`` contract (``siamtrack.modeling.contracts``). A source
has ``num_items`` "videos" (pysot's unit: an image of a still-image dataset, a sequence of a
tracking dataset) and draws frames of one object from them:

- ``sample_positive(item, rng)`` -> (template frame, search frame) of the same object;
- ``sample_target(item, rng)`` -> one frame of one object (template of negative pairs and the
  distractor they are centred on).

A frame is a dict ``{"file_name": str, "box_xywh": ndarray (4,), "object_id": tuple}``; the
``object_id`` tells two frames of the same object apart from different objects. Everything is
stored in numpy arrays (no per-object Python objects), so DataLoader workers forked from the
main process share the memory instead of copying it on access.
"""

import logging
from collections import Counter
from typing import Dict, List, Tuple

import numpy as np
from detectron2.structures import BoxMode

from ..errors import BadInputError
from ..utils.boxes import is_valid_xywh

logger = logging.getLogger(__name__)

__all__ = ["ImagePairSource", "SequencePairSource", "annotation_box_xywh"]


def annotation_box_xywh(annotation: Dict) -> np.ndarray:
    """The box of a detectron2 instance annotation as xywh (converted from its bbox_mode)."""
    box = np.asarray(annotation["bbox"], dtype=np.float64)
    mode = annotation.get("bbox_mode", BoxMode.XYWH_ABS)
    if mode != BoxMode.XYWH_ABS:
        box = np.asarray(BoxMode.convert(box.tolist(), mode, BoxMode.XYWH_ABS), dtype=np.float64)
    return box


class ImagePairSource:
    """Still images with instance annotations (COCO): template and search = the same object.

    Args:
        name: dataset name (for messages).
        dataset_dicts: detectron2 instance dicts (``file_name``, ``annotations``, optionally
            ``height``/``width``).
        min_box_size: boxes with a side < this (px) are not used (``DATASETS.MIN_BOX_SIZE``).
        skip_crowd: drop ``iscrowd=1`` boxes (``DATASETS.SKIP_CROWD``).

    Attributes:
        filter_counts: Counter of dropped boxes/images by reason ("crowd", "too_small",
            "invalid_box", "outside_image", "empty_image") and the kept totals ("images",
            "objects").
    """

    kind = "images"

    def __init__(self, name: str, dataset_dicts: List[Dict], min_box_size: float, skip_crowd: bool):
        self.name = name
        counts: Counter = Counter()
        file_names, starts, boxes = [], [], []
        for record in dataset_dicts:
            if "annotations" not in record or "file_name" not in record:
                raise BadInputError(
                    f"dataset '{name}': record {sorted(record)[:6]} is not an instance dict "
                    "(expected 'file_name' and 'annotations')"
                )
            kept = []
            for annotation in record["annotations"]:
                if skip_crowd and annotation.get("iscrowd", 0):
                    counts["crowd"] += 1
                    continue
                box = annotation_box_xywh(annotation)
                if not is_valid_xywh(box):
                    counts["invalid_box"] += 1
                    continue
                if min(box[2], box[3]) < min_box_size:
                    counts["too_small"] += 1
                    continue
                width, height = record.get("width"), record.get("height")
                if (
                    width
                    and height
                    and (
                        box[0] >= width
                        or box[1] >= height
                        or box[0] + box[2] <= 0
                        or box[1] + box[3] <= 0
                    )
                ):
                    counts["outside_image"] += 1
                    continue
                kept.append(box)
            if not kept:
                counts["empty_image"] += 1
                continue
            starts.append(len(boxes))
            boxes.extend(kept)
            file_names.append(record["file_name"])
        counts["images"], counts["objects"] = len(file_names), len(boxes)
        self.filter_counts = counts
        if not boxes:
            raise BadInputError(
                f"dataset '{name}': no usable objects in {len(dataset_dicts)} images "
                f"(dropped: {dict(counts)}; see DATASETS.MIN_BOX_SIZE / DATASETS.SKIP_CROWD)"
            )
        self._file_names = np.asarray(file_names, dtype=str)
        self._starts = np.asarray(starts + [len(boxes)], dtype=np.int64)
        self._boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        logger.info(
            f"pair source '{name}': {len(file_names)} images, {len(boxes)} objects "
            f"(dropped: crowd {counts['crowd']}, smaller than {min_box_size}px "
            f"{counts['too_small']}, invalid {counts['invalid_box']}, outside image "
            f"{counts['outside_image']}, images without objects {counts['empty_image']})"
        )

    @property
    def num_items(self) -> int:
        return len(self._file_names)

    @property
    def num_objects(self) -> int:
        return len(self._boxes)

    def _frame(self, item: int, obj: int) -> Dict:
        return {
            "file_name": str(self._file_names[item]),
            "box_xywh": self._boxes[obj].copy(),
            "object_id": (self.name, int(obj)),
        }

    def sample_target(self, item: int, rng: np.random.Generator) -> Dict:
        obj = int(rng.integers(self._starts[item], self._starts[item + 1]))
        return self._frame(item, obj)

    def sample_positive(self, item: int, rng: np.random.Generator) -> Tuple[Dict, Dict]:
        frame = self.sample_target(item, rng)
        return frame, dict(frame, box_xywh=frame["box_xywh"].copy())


class SequencePairSource:
    """Tracking sequences: template and search from the same track, at most ``frame_range``
    frames apart, both visible (not absent, finite box with sides >= ``min_box_size``).

    Args:
        name: dataset name (for messages).
        sequence_dicts: ``DatasetCatalog`` sequence records (see ``catalog.py``).
        frame_range: max |search frame - template frame| (frame numbers, not positions).
        min_box_size: boxes with a side < this (px) are treated as invalid frames.

    Attributes:
        filter_counts: Counter with "sequences", "frames" (usable), "absent_frames",
            "invalid_frames" (non-finite / non-positive box), "too_small_frames",
            "empty_sequences" (no usable frame, dropped).
    """

    kind = "sequences"

    def __init__(
        self, name: str, sequence_dicts: List[Dict], frame_range: int, min_box_size: float
    ):
        self.name = name
        self.frame_range = int(frame_range)
        if self.frame_range < 0:
            raise BadInputError(f"dataset '{name}': frame range must be >= 0, got {frame_range}")
        counts: Counter = Counter()
        paths, boxes, frame_numbers, seq_starts, names = [], [], [], [], []
        for record in sequence_dicts:
            if "frame_paths" not in record or "boxes_xywh" not in record:
                raise BadInputError(
                    f"dataset '{name}': record {sorted(record)[:6]} is not a sequence record "
                    "(expected 'frame_paths' and 'boxes_xywh')"
                )
            seq_boxes = np.asarray(record["boxes_xywh"], dtype=np.float64).reshape(-1, 4)
            if len(seq_boxes) != len(record["frame_paths"]):
                raise BadInputError(
                    f"dataset '{name}', sequence '{record.get('sequence_name')}': "
                    f"{len(record['frame_paths'])} frames but {len(seq_boxes)} boxes"
                )
            absent = np.asarray(record.get("absent", np.zeros(len(seq_boxes))), dtype=bool)
            valid = is_valid_xywh(seq_boxes)
            large = np.zeros_like(valid)
            large[valid] = np.minimum(seq_boxes[valid, 2], seq_boxes[valid, 3]) >= min_box_size
            usable = ~absent & valid & large
            counts["absent_frames"] += int(absent.sum())
            counts["invalid_frames"] += int((~absent & ~valid).sum())
            counts["too_small_frames"] += int((~absent & valid & ~large).sum())
            if not usable.any():
                counts["empty_sequences"] += 1
                continue
            indices = np.flatnonzero(usable)
            seq_starts.append(len(paths))
            names.append(record.get("sequence_name", str(len(names))))
            paths.extend(record["frame_paths"][i] for i in indices)
            boxes.append(seq_boxes[indices])
            frame_numbers.append(indices)
        counts["sequences"], counts["frames"] = len(names), len(paths)
        self.filter_counts = counts
        if not paths:
            raise BadInputError(
                f"dataset '{name}': no usable frames in {len(sequence_dicts)} sequences "
                f"(dropped: {dict(counts)})"
            )
        self._paths = np.asarray(paths, dtype=str)
        self._boxes = np.concatenate(boxes)
        self._frame_numbers = np.concatenate(frame_numbers).astype(np.int64)
        self._starts = np.asarray(seq_starts + [len(paths)], dtype=np.int64)
        self._names = np.asarray(names, dtype=str)
        logger.info(
            f"pair source '{name}': {len(names)} sequences, {len(paths)} usable frames, frame "
            f"range {self.frame_range} (skipped: absent {counts['absent_frames']}, invalid box "
            f"{counts['invalid_frames']}, smaller than {min_box_size}px "
            f"{counts['too_small_frames']}, sequences without usable frames "
            f"{counts['empty_sequences']})"
        )

    @property
    def num_items(self) -> int:
        return len(self._names)

    def _frame(self, item: int, position: int) -> Dict:
        return {
            "file_name": str(self._paths[position]),
            "box_xywh": self._boxes[position].copy(),
            "object_id": (self.name, int(item)),
        }

    def sample_target(self, item: int, rng: np.random.Generator) -> Dict:
        position = int(rng.integers(self._starts[item], self._starts[item + 1]))
        return self._frame(item, position)

    def sample_positive(self, item: int, rng: np.random.Generator) -> Tuple[Dict, Dict]:
        start, stop = int(self._starts[item]), int(self._starts[item + 1])
        template = int(rng.integers(start, stop))
        numbers = self._frame_numbers[start:stop]  # sorted frame numbers of usable frames
        center = self._frame_numbers[template]
        low = start + int(np.searchsorted(numbers, center - self.frame_range, side="left"))
        high = start + int(np.searchsorted(numbers, center + self.frame_range, side="right"))
        search = int(rng.integers(low, high))  # the template frame itself is in [low, high)
        return self._frame(item, template), self._frame(item, search)
