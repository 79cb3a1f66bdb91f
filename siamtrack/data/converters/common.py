"""What the converters share: track assembly, box checks, image sizes, the summary."""

from collections import Counter
from pathlib import Path
from typing import List, Tuple

import numpy as np
from PIL import Image

from ...io.sequences import Sequence

__all__ = ["NAN_BOX", "add_track", "format_stats", "ilsvrc_folders", "image_size_wh"]

NAN_BOX = (np.nan,) * 4


def ilsvrc_folders(root: Path, task: str, split: str, release: str) -> Tuple[Path, Path]:
    """(annotation folder, image folder) of an ILSVRC ``task`` ("DET", "VID") split under
    ``root``; FileNotFoundError naming the folder if the annotations are not there."""
    annotation_root = root / "Annotations" / task / split
    if not annotation_root.is_dir():
        raise FileNotFoundError(
            f"{annotation_root} does not exist (expected the {release} release under {root})"
        )
    return annotation_root, root / "Data" / task / split


def format_stats(stats: Counter) -> str:
    """One ``key: count`` line per counter, sorted (for the scripts' summaries)."""
    return "\n".join(f"  {key}: {value}" for key, value in sorted(stats.items()))


def image_size_wh(path: Path) -> Tuple[int, int]:
    with Image.open(path) as image:
        return image.size


def add_track(tracks: List[Sequence], stats: Counter, name: str, paths, boxes, absent) -> None:
    """Append the track from its first to its last visible frame (count it if none is)."""
    visible = [i for i, a in enumerate(absent) if not a]
    if not visible:
        stats["skipped_tracks_no_visible_frame"] += 1
        return
    first, last = visible[0], visible[-1] + 1
    track = Sequence(name, paths[first:last], boxes[first:last], absent[first:last], "tracks_json")
    tracks.append(track)
    stats.update(tracks=1, track_frames=len(track), track_frames_absent=int(track.absent.sum()))
