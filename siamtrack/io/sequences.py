"""Readers for single-object tracking sequences on disk (no torch, no detectron2).

Layouts (see datasets/README.md):
- ``generic`` (OTB-like): ``<seq>/img/*.jpg|png`` + ``<seq>/groundtruth.txt`` (or OTB's
  ``groundtruth_rect.txt``), one ``x,y,w,h`` line per frame (commas, tabs or spaces);
  ``nan,nan,nan,nan`` marks a frame where the target is absent (UAV123, VOT-LT, long-term
  sequences: ``Sequence.absent``, scored by the ``longterm`` protocol).
- ``got10k``: ``<seq>/00000001.jpg ...`` + ``groundtruth.txt`` (the test split has only the
  first line) + optional ``absence.label`` (1 = target absent) and ``cover.label`` (visible
  ratio 0..8, 0 = not visible; the GOT-10k protocol scores only frames with cover > 0).
- ``lasot``: ``<seq>/img/00000001.jpg ...`` + ``groundtruth.txt`` + ``full_occlusion.txt`` and
  ``out_of_view.txt`` (one comma-separated line of 0/1 each).

Boxes are returned exactly as the files hold them (no 1-based/0-based shift:
``docs/conventions.md#boxes``). Frames whose box is unknown (GOT-10k test split) hold NaN.
"""

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional

import numpy as np

from ..errors import BadInputError
from ..utils.boxes import is_valid_xywh, polygon_bounds_xywh
from ..utils.paths import PathLike
from .images import is_image_file, list_image_files

__all__ = ["LAYOUTS", "Sequence", "detect_layout", "find_sequence_folders", "load_sequence",
           "load_sequences", "read_box_file"]  # fmt: skip

LAYOUTS = ("generic", "got10k", "lasot")


@dataclass
class Sequence:
    """One annotated tracking sequence.

    Attributes:
        name: sequence name (folder name).
        frame_paths: image file of every frame, in order.
        boxes_xywh: float array (N, 4), ground truth per frame (NaN where unknown).
        absent: bool array (N,), True where the dataset marks the target absent / fully
            occluded / out of view (generic layout: the ``nan,nan,nan,nan`` rows).
        layout: one of LAYOUTS.
        cover: optional int array (N,), GOT-10k's visible-ratio label per frame (0..8, 0 = not
            visible); None when the dataset has none.
    """

    name: str
    frame_paths: List[str]
    boxes_xywh: np.ndarray
    absent: np.ndarray = field(default=None)
    layout: str = "generic"
    cover: Optional[np.ndarray] = None

    def __post_init__(self):
        self.boxes_xywh = np.asarray(self.boxes_xywh, dtype=np.float64).reshape(-1, 4)
        if self.absent is None:
            self.absent = np.zeros(len(self.boxes_xywh), dtype=bool)
        self.absent = np.asarray(self.absent, dtype=bool)
        if not (len(self.frame_paths) == len(self.boxes_xywh) == len(self.absent)):
            raise BadInputError(
                f"sequence '{self.name}': {len(self.frame_paths)} frames, "
                f"{len(self.boxes_xywh)} boxes and {len(self.absent)} absence flags differ"
            )
        if self.cover is not None:
            self.cover = np.asarray(self.cover, dtype=np.int64).reshape(-1)
            if len(self.cover) != len(self.frame_paths):
                raise BadInputError(
                    f"sequence '{self.name}': {len(self.cover)} cover labels for "
                    f"{len(self.frame_paths)} frames"
                )

    def __len__(self) -> int:
        return len(self.frame_paths)

    @property
    def visible(self) -> np.ndarray:
        """True where the target is present with a valid (finite, positive-size) box."""
        return ~self.absent & is_valid_xywh(self.boxes_xywh)


def read_box_file(
    path: PathLike, *, allow_partial_nan: bool = True, polygons: bool = False
) -> np.ndarray:
    """Read one box per line (``x,y,w,h`` separated by commas, tabs or spaces) as (N, 4).

    Empty trailing lines are ignored. A ``nan,nan,nan,nan`` line is a frame without a box
    (the target is absent, or the box is unknown).

    Args:
        path: the text file.
        allow_partial_nan: False for ground truth: a line with only some values NaN is then an
            error naming the file and line (result files may hold such boxes; they are
            scored as misses).
        polygons: also take polygon lines ``x1,y1,x2,y2,x3,y3,...`` (VOT's rotated boxes, 3 or
            more corners) and read each as its axis-aligned bounding box
            (``utils.boxes.polygon_bounds_xywh``); otherwise such a line is an error.
    """
    boxes = []
    with open(path) as f:
        for line_number, line in enumerate(f, start=1):
            text = line.strip()
            if not text:
                continue
            parts = text.replace(",", " ").replace("\t", " ").split()
            try:
                values = [float(p) for p in parts]
            except ValueError:
                raise BadInputError(
                    f"{path}:{line_number}: '{text}' is not numeric (expected x,y,w,h)"
                )
            partial_nan = 0 < sum(math.isnan(v) for v in values) < len(values)
            if polygons and len(values) >= 6 and len(values) % 2 == 0:
                values = polygon_bounds_xywh(values).tolist()
            if len(values) != 4:
                expected = (
                    "x,y,w,h or a polygon x1,y1,x2,y2,x3,y3,..."
                    if polygons
                    else "x,y,w,h; polygons: datasets/prepare_sequence.py --polygons"
                )
                raise BadInputError(
                    f"{path}:{line_number}: '{text}' has {len(values)} numbers (expected "
                    f"{expected})"
                )
            if not allow_partial_nan and partial_nan:
                raise BadInputError(
                    f"{path}:{line_number}: '{text}' mixes nan and numbers (a box is x,y,w,h, "
                    "or nan,nan,nan,nan where the target is absent)"
                )
            boxes.append(values)
    if not boxes:
        raise BadInputError(f"{path}: no boxes in the file")
    return np.asarray(boxes, dtype=np.float64)


def _read_labels(path: Path, num_frames: int, expected: str = "0/1 flags") -> np.ndarray:
    """Read integer labels separated by commas or newlines (LaSOT, GOT-10k label files)."""
    text = path.read_text().replace(",", " ").split()
    try:
        labels = np.asarray([int(float(t)) for t in text], dtype=np.int64)
    except ValueError:
        raise BadInputError(f"{path}: expected {expected}")
    if len(labels) != num_frames:
        raise BadInputError(f"{path}: {len(labels)} labels for {num_frames} frames")
    return labels


def _read_flags(path: Path, num_frames: int) -> np.ndarray:
    """Read 0/1 flags separated by commas or newlines as bool (LaSOT, GOT-10k label files)."""
    return _read_labels(path, num_frames) != 0


def _check_counts(folder: Path, frames: List[str], boxes: np.ndarray) -> None:
    if len(frames) != len(boxes):
        raise BadInputError(
            f"sequence {folder}: {len(frames)} frames but {len(boxes)} ground-truth boxes"
        )


def load_generic_sequence(folder: PathLike) -> Sequence:
    folder = Path(folder)
    gt_file = next(
        (folder / n for n in ("groundtruth.txt", "groundtruth_rect.txt") if (folder / n).is_file()),
        None,
    )
    if gt_file is None:
        raise FileNotFoundError(f"sequence {folder}: no groundtruth.txt")
    frames = list_image_files(folder / "img")
    boxes = read_box_file(gt_file, allow_partial_nan=False)
    _check_counts(folder, frames, boxes)
    absent = np.all(np.isnan(boxes), axis=1)  # nan,nan,nan,nan rows: the target is absent
    return Sequence(folder.name, frames, boxes, absent, layout="generic")


def load_got10k_sequence(folder: PathLike) -> Sequence:
    folder = Path(folder)
    frames = list_image_files(folder)
    boxes = read_box_file(folder / "groundtruth.txt", allow_partial_nan=False)
    if len(boxes) == 1 and len(frames) > 1:  # test split: only the initial box is public
        boxes = np.vstack([boxes, np.full((len(frames) - 1, 4), np.nan)])
    _check_counts(folder, frames, boxes)
    absence_file = folder / "absence.label"
    absent = _read_flags(absence_file, len(frames)) if absence_file.is_file() else None
    cover_file = folder / "cover.label"
    cover = None
    if cover_file.is_file():
        cover = _read_labels(cover_file, len(frames), "visible-ratio labels 0..8")
    return Sequence(folder.name, frames, boxes, absent, layout="got10k", cover=cover)


def load_lasot_sequence(folder: PathLike) -> Sequence:
    folder = Path(folder)
    frames = list_image_files(folder / "img")
    boxes = read_box_file(folder / "groundtruth.txt", allow_partial_nan=False)
    _check_counts(folder, frames, boxes)
    absent = np.zeros(len(frames), dtype=bool)
    for flag_file in ("full_occlusion.txt", "out_of_view.txt"):
        if (folder / flag_file).is_file():
            absent |= _read_flags(folder / flag_file, len(frames))
    return Sequence(folder.name, frames, boxes, absent, layout="lasot")


LOADERS = {
    "generic": load_generic_sequence,
    "got10k": load_got10k_sequence,
    "lasot": load_lasot_sequence,
}


def detect_layout(folder: PathLike) -> Optional[str]:
    """Layout of one sequence folder, or None if it is not a sequence."""
    folder = Path(folder)
    if (
        not (folder / "groundtruth.txt").is_file()
        and not (folder / "groundtruth_rect.txt").is_file()
    ):
        return None
    if (folder / "img").is_dir():
        if (folder / "full_occlusion.txt").is_file() or (folder / "out_of_view.txt").is_file():
            return "lasot"
        return "generic"
    if any(is_image_file(p) for p in folder.iterdir()):
        return "got10k"
    return None


def load_sequence(folder: PathLike, layout: str = "auto") -> Sequence:
    if layout == "auto":
        layout = detect_layout(folder)
        if layout is None:
            raise FileNotFoundError(
                f"{folder} is not a sequence folder: expected groundtruth.txt with img/ "
                "(generic/OTB, LaSOT) or frames next to it (GOT-10k)"
            )
    if layout not in LOADERS:
        raise BadInputError(f"unknown sequence layout '{layout}', expected one of {LAYOUTS}")
    return LOADERS[layout](folder)


def find_sequence_folders(root: PathLike) -> List[Path]:
    """Sequence folders under ``root`` (itself, its children, or LaSOT's class/sequence level).

    A GOT-10k ``list.txt`` in ``root`` fixes the order and membership.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"dataset folder {root} does not exist")
    if detect_layout(root):
        return [root]
    list_file = root / "list.txt"
    if list_file.is_file():
        names = [n.strip() for n in list_file.read_text().splitlines() if n.strip()]
        missing = [n for n in names if not (root / n).is_dir()]
        if missing:
            raise FileNotFoundError(f"{list_file} lists missing sequences: {missing[:5]}")
        return [root / n for n in names]
    found = []
    for child in sorted(p for p in root.iterdir() if p.is_dir()):
        if detect_layout(child):
            found.append(child)
        else:  # LaSOT: <root>/<class>/<class>-<n>
            found.extend(g for g in sorted(child.iterdir()) if g.is_dir() and detect_layout(g))
    return found


def load_sequences(root: PathLike, layout: str = "auto") -> List[Sequence]:
    """Load every sequence under ``root``; error if none is found."""
    folders = find_sequence_folders(root)
    if not folders:
        raise FileNotFoundError(
            f"no tracking sequences under {root} (see datasets/README.md for the layouts)"
        )
    return [load_sequence(f, layout) for f in folders]
