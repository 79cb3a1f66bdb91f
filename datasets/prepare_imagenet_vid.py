#!/usr/bin/env python
"""Convert ImageNet VID (ILSVRC2015) annotations into a siamtrack tracks json.

    python datasets/prepare_imagenet_vid.py                      # $DETECTRON2_DATASETS/ILSVRC2015
    python datasets/prepare_imagenet_vid.py --root /data/ILSVRC2015 --split val

Reads ``<root>/Annotations/VID/<split>/.../<snippet>/*.xml`` and checks that each frame's
``<root>/Data/VID/<split>/.../<snippet>/*.JPEG`` exists. One track per (snippet, trackid), from
its first to its last visible frame; frames where the object is not annotated are absent.
Boxes: ``(xmin, ymin, xmax - xmin, ymax - ymin)``, the VOC corners as-is (no +1), like pysot
(see ``siamtrack/data/converters.py``). Default output:
``<root>/annotations/imagenet_vid_<split>_tracks.json``, which ``imagenet_vid_train`` reads
(frame paths relative to ``<root>/Data/VID/<split>``). Refuses to overwrite without
``--force``.
"""

import argparse
import os
import sys
from pathlib import Path

from siamtrack.cli import run_tool
from siamtrack.errors import BadInputError
from siamtrack.data.converters import VOC_BOX_NOTE, convert_imagenet_vid, format_stats
from siamtrack.io import check_output_path, write_tracks_json

PROG = "prepare_imagenet_vid.py"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    default_root = Path(os.getenv("DETECTRON2_DATASETS", "datasets")) / "ILSVRC2015"
    parser.add_argument("--root", type=Path, default=default_root, help="the ILSVRC2015 folder")
    parser.add_argument("--split", default="train", choices=("train", "val"))
    parser.add_argument(
        "--output",
        type=Path,
        help="tracks json to write (default <root>/annotations/imagenet_vid_<split>_tracks.json)",
    )
    parser.add_argument("--force", action="store_true", help="replace an existing --output")
    parser.add_argument(
        "--occluded-as-absent",
        action="store_true",
        help="mark frames flagged <occluded>1 absent (default: use them, as pysot does)",
    )
    args = parser.parse_args(argv)
    output = args.output or args.root / "annotations" / f"imagenet_vid_{args.split}_tracks.json"
    return run_tool(PROG, lambda: convert(args, output))


def convert(args, output: Path) -> int:
    check_output_path(output, args.force, "output")  # before the long conversion
    tracks, stats = convert_imagenet_vid(
        args.root, args.split, args.occluded_as_absent, show_progress=True
    )
    if not tracks:
        raise BadInputError(f"no track with a visible frame under {args.root}")
    info = {
        "source": f"ImageNet VID {args.split}",
        "image_root": f"Data/VID/{args.split}",
        "box_convention": VOC_BOX_NOTE,
    }
    write_tracks_json(tracks, output, info, overwrite=args.force)
    print(f"ImageNet VID {args.split}: wrote {stats['tracks']} tracks to {output}")
    print(format_stats(stats))
    print(f"image root for register_tracks_json: {args.root / 'Data' / 'VID' / args.split}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
