#!/usr/bin/env python
"""Convert YouTube-BoundingBoxes annotations + already extracted frames into a tracks json.

    python datasets/prepare_youtube_bb.py                        # $DETECTRON2_DATASETS/youtube_bb
    python datasets/prepare_youtube_bb.py --root /data/youtube_bb \
        --csv /data/youtube_bb/yt_bb_detection_validation.csv --output ytb_val.json
    python datasets/prepare_youtube_bb.py --frame-pattern \
        "yt_bb_detection_train/{class_id}/{youtube_id}_{timestamp_ms}_{class_id}_{object_id}.jpg"

Nothing is downloaded: extract the annotated frames yourself (the official YouTube-BB
download/decode tools, or the community ``youtube-bb-utility`` that pysot's README uses) into
``<root>/frames/<youtube_id>/<timestamp_ms>.jpg`` (the default ``--frame-pattern``; any layout
works with a pattern over ``{youtube_id} {timestamp_ms} {class_id} {class_name} {object_id}``,
relative to ``--root``). One track per (youtube_id, class_id, object_id); rows marked "absent"
become absent frames; rows whose frame file is missing are skipped and counted. Boxes are the
csv fractions times the frame size. Default output:
``<root>/annotations/youtube_bb_train_tracks.json``, which ``youtube_bb_train`` reads (frame
paths relative to ``<root>``). Refuses to overwrite without ``--force``.
"""

import argparse
import os
import sys
from pathlib import Path

from siamtrack.cli import run_tool
from siamtrack.errors import BadInputError
from siamtrack.data.converters import (
    YTB_BOX_NOTE,
    YTB_DEFAULT_FRAME_PATTERN,
    convert_youtube_bb,
    format_stats,
)
from siamtrack.io import check_output_path, write_tracks_json

PROG = "prepare_youtube_bb.py"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    default_root = Path(os.getenv("DETECTRON2_DATASETS", "datasets")) / "youtube_bb"
    parser.add_argument(
        "--root", type=Path, default=default_root, help="folder the frame pattern is relative to"
    )
    parser.add_argument(
        "--csv", type=Path, help="detection csv (default <root>/yt_bb_detection_train.csv)"
    )
    parser.add_argument(
        "--frame-pattern",
        default=YTB_DEFAULT_FRAME_PATTERN,
        help=f"frame file of a csv row, relative to --root (default {YTB_DEFAULT_FRAME_PATTERN})",
    )
    parser.add_argument(
        "--output",
        type=Path,
        help="tracks json to write (default <root>/annotations/youtube_bb_<train|validation>"
        "_tracks.json after the csv name)",
    )
    parser.add_argument("--force", action="store_true", help="replace an existing --output")
    args = parser.parse_args(argv)
    csv_file = args.csv or args.root / "yt_bb_detection_train.csv"
    name = csv_file.stem.replace("yt_bb_detection_", "youtube_bb_")  # youtube_bb_train, ...
    output = args.output or args.root / "annotations" / f"{name}_tracks.json"
    return run_tool(PROG, lambda: convert(args, csv_file, output))


def convert(args, csv_file: Path, output: Path) -> int:
    check_output_path(output, args.force, "output")  # before the long conversion
    tracks, stats = convert_youtube_bb(csv_file, args.root, args.frame_pattern, show_progress=True)
    if not tracks:
        raise BadInputError(
            f"no track has a visible frame on disk (missing frame files: "
            f"{stats['skipped_frames_missing_file']}); check --root and --frame-pattern"
        )
    info = {
        "source": f"YouTube-BB {csv_file.name}",
        "frame_pattern": args.frame_pattern,
        "box_convention": YTB_BOX_NOTE,
    }
    write_tracks_json(tracks, output, info, overwrite=args.force)
    print(f"YouTube-BB: wrote {stats['tracks']} tracks to {output}")
    print(format_stats(stats))
    print(f"image root for register_tracks_json: {args.root}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
