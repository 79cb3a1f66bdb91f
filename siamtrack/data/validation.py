"""Dataset checks behind ``datasets/validate_dataset.py``: missing or unreadable frames, broken
boxes (NaN, zero/negative size, outside the image), frame/box count mismatches, empty images.

Problems that make a dataset unusable are *errors*; things the pair sampler silently skips
(absent frames, crowd or tiny boxes, images without objects) are counted in ``stats``.
"""

import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import numpy as np
from PIL import Image

from ..utils.boxes import is_valid_xywh
from .catalog import sequence_to_dict
from .pair_sources import annotation_box_xywh
from ..io.images import IMAGE_EXTENSIONS
from ..io.sequences import find_sequence_folders, load_sequence

__all__ = [
    "ValidationReport",
    "validate_sequence_dicts",
    "validate_sequence_root",
    "validate_instance_dicts",
]

_MAX_LISTED = 20  # problems listed per kind; the rest are counted


@dataclass
class ValidationReport:
    """Outcome of a dataset check.

    Attributes:
        name: dataset name or path.
        errors: problems that need fixing (each names the file and what is wrong).
        stats: counters (frames, boxes, skipped kinds, ...).
    """

    name: str
    errors: List[str] = field(default_factory=list)
    stats: Counter = field(default_factory=Counter)
    _kinds: Counter = field(default_factory=Counter)

    def error(self, kind: str, message: str) -> None:
        self._kinds[kind] += 1
        self.stats[f"error_{kind}"] += 1
        if self._kinds[kind] <= _MAX_LISTED:
            self.errors.append(message)
        elif self._kinds[kind] == _MAX_LISTED + 1:
            self.errors.append(f"... more '{kind}' problems (see the counts)")

    @property
    def ok(self) -> bool:
        return not any(k.startswith("error_") for k in self.stats)

    def format(self) -> str:
        lines = [f"dataset {self.name}: {'OK' if self.ok else 'PROBLEMS FOUND'}"]
        lines += [f"  {k}: {v}" for k, v in sorted(self.stats.items())]
        lines += [f"  ERROR {e}" for e in self.errors]
        return "\n".join(lines)


def _image_size(path: str, decode: bool) -> Tuple[Optional[Tuple[int, int]], Optional[str]]:
    """((height, width), None) or (None, reason). Header only unless ``decode``."""
    if not os.path.isfile(path):
        return None, "missing"
    try:
        with Image.open(path) as image:
            if decode:
                image.load()
            return (image.height, image.width), None
    except Exception as e:  # PIL raises many types for broken files
        return None, f"unreadable ({type(e).__name__}: {e})"


def _numbering_gaps(folder: os.PathLike) -> List[int]:
    """Frame numbers missing between the first and last numbered image of a sequence."""
    frame_dir = (
        os.path.join(folder, "img") if os.path.isdir(os.path.join(folder, "img")) else folder
    )
    stems = [os.path.splitext(n) for n in os.listdir(frame_dir)]
    numbers = sorted(int(s) for s, ext in stems if s.isdigit() and ext.lower() in IMAGE_EXTENSIONS)
    if not numbers:
        return []
    return sorted(set(range(numbers[0], numbers[-1] + 1)) - set(numbers))


def _outside(box: np.ndarray, size_hw: Tuple[int, int]) -> bool:
    height, width = size_hw
    return bool(box[0] >= width or box[1] >= height or box[0] + box[2] <= 0 or box[1] + box[3] <= 0)


def validate_sequence_dicts(
    name: str, sequence_dicts: List[Dict], decode: bool = False, all_frames: bool = True
) -> ValidationReport:
    """Check sequence records (``catalog.load_sequence_dicts``).

    Args:
        decode: fully decode every frame (finds truncated files; slow) instead of headers.
        all_frames: open every frame; False opens only the first one of each sequence (sizes of
            the others are assumed equal) and checks only the existence of the rest.
    """
    report = ValidationReport(name)
    if not sequence_dicts:
        report.error("empty", f"{name}: no sequences")
    for record in sequence_dicts:
        seq = record["sequence_name"]
        paths, boxes = record["frame_paths"], np.asarray(record["boxes_xywh"]).reshape(-1, 4)
        absent = np.asarray(record.get("absent", np.zeros(len(boxes))), dtype=bool)
        report.stats["sequences"] += 1
        report.stats["frames"] += len(paths)
        report.stats["absent_frames"] += int(absent.sum())
        if len(paths) != len(boxes):
            report.error("count", f"{seq}: {len(paths)} frames but {len(boxes)} boxes")
            continue
        first_size = None
        for index, (path, box) in enumerate(zip(paths, boxes)):
            if all_frames or index == 0:
                size, problem = _image_size(path, decode)
                first_size = first_size or size
            else:
                size, problem = first_size, None if os.path.isfile(path) else "missing"
            if problem:
                report.error("frame", f"{seq}: frame {index + 1} {path}: {problem}")
                continue
            if absent[index]:
                continue
            if not is_valid_xywh(box):
                if np.isnan(box).all():
                    report.stats["unknown_boxes"] += 1  # e.g. GOT-10k test split
                else:
                    report.error(
                        "box",
                        f"{seq}: frame {index + 1}: invalid box {box.tolist()} "
                        "(x,y,w,h needs finite values and w, h > 0)",
                    )
            elif size is not None and _outside(box, size):
                report.error(
                    "outside",
                    f"{seq}: frame {index + 1}: box {box.tolist()} lies "
                    f"outside the {size[1]}x{size[0]} image {path}",
                )
    return report


def validate_sequence_root(
    root: os.PathLike, layout: str = "auto", decode: bool = False, all_frames: bool = True
) -> ValidationReport:
    """Check every sequence folder under ``root``; a folder that does not load (no
    groundtruth, no frames, frame/box count mismatch, unreadable box file) is reported as an
    error and the others are still checked."""
    report = ValidationReport(str(root))
    folders = find_sequence_folders(root)
    if not folders:
        report.error("empty", f"{root}: no sequence folders (see datasets/README.md)")
    records = []
    for folder in folders:
        try:
            records.append(sequence_to_dict(load_sequence(folder, layout)))
        except (OSError, ValueError) as e:
            gaps = _numbering_gaps(folder)
            hint = f" (missing frame numbers: {gaps[:10]})" if gaps else ""
            report.error("sequence", f"{folder}: {e}{hint}")
    checked = validate_sequence_dicts(str(root), records, decode, all_frames)
    report.stats.update(checked.stats)
    report.errors.extend(checked.errors)
    return report


def validate_instance_dicts(
    name: str, dataset_dicts: List[Dict], decode: bool = False, min_box_size: float = 0.0
) -> ValidationReport:
    """Check detectron2 instance dicts (COCO): image files, declared sizes, boxes."""
    report = ValidationReport(name)
    if not dataset_dicts:
        report.error("empty", f"{name}: no images")
    for record in dataset_dicts:
        path = record["file_name"]
        report.stats["images"] += 1
        size, problem = _image_size(path, decode)
        if problem:
            report.error("image", f"{path}: {problem}")
        declared = (record.get("height"), record.get("width"))
        if size is not None and all(declared) and tuple(declared) != size:
            report.error(
                "size",
                f"{path}: json says {declared[1]}x{declared[0]}, the file is "
                f"{size[1]}x{size[0]}",
            )
        size = size or (declared if all(declared) else None)
        annotations = record.get("annotations", [])
        if not annotations:
            report.stats["images_without_objects"] += 1
        for annotation in annotations:
            report.stats["boxes"] += 1
            box = annotation_box_xywh(annotation)
            if annotation.get("iscrowd", 0):
                report.stats["crowd_boxes"] += 1
            if not is_valid_xywh(box):
                report.error("box", f"{path}: invalid box {box.tolist()} (x,y,w,h)")
            elif size is not None and _outside(box, size):
                report.error(
                    "outside",
                    f"{path}: box {box.tolist()} lies outside the " f"{size[1]}x{size[0]} image",
                )
            elif min(box[2], box[3]) < min_box_size:
                report.stats[f"boxes_smaller_than_{min_box_size:g}px"] += 1
    return report
