#!/usr/bin/env python
"""Track one object through a video, an image folder/glob or a camera with a SiamRPN++ model.

Example:
    python tools/track_video.py --config-file configs/siamrpn_R_50_l234_dwxcorr_coco.yaml \
        --weights model.pth --input video.mp4 --init-box 204,150,17,50 \
        --output out/tracked.mp4 --save-boxes out/boxes.csv

Without --init-box a window opens to drag the box (needs a display and a GUI OpenCV).
Corrupt frames are skipped with a warning; their row repeats the last box with an empty score.
Exit codes: 0 done, 1 interrupted (outputs hold the frames done), 2 bad input.
"""

import argparse
import logging
import sys

from siamtrack import SiamTracker, load_config
from siamtrack.tracking.video_runner import track_video
from siamtrack.utils.boxes import parse_box_xywh
from siamtrack.utils.video import open_frame_source
from siamtrack.utils.visualization import select_box_interactively, why_no_gui

PROG = "track_video.py"


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n")[0])
    parser.add_argument(
        "--input",
        required=True,
        help="video file, image folder, glob pattern ('frames/*.jpg') or camera index",
    )
    parser.add_argument(
        "--init-box",
        nargs="+",
        metavar="X,Y,W,H",
        help="target box in the first frame: x,y,w,h (top-left, pixels)",
    )
    parser.add_argument("--config-file", required=True, metavar="FILE", help="model config (yaml)")
    parser.add_argument("--weights", help="siamtrack or pysot checkpoint (sets MODEL.WEIGHTS)")
    parser.add_argument(
        "--output", metavar="VIDEO", help="annotated video to write (.mp4/.avi/.mkv)"
    )
    parser.add_argument(
        "--save-boxes",
        metavar="FILE",
        help="per-frame boxes: .txt (x,y,w,h lines), .csv or .json (frame, box, score)",
    )
    parser.add_argument(
        "--device", help="cpu, cuda, cuda:1 ... (default: MODEL.DEVICE, cpu without GPU)"
    )
    parser.add_argument("--force", action="store_true", help="overwrite existing output files")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument(
        "--opts",
        default=[],
        nargs=argparse.REMAINDER,
        help="config overrides as KEY VALUE pairs, e.g. TRACKER.PENALTY_K 0.1",
    )
    return parser


def setup_cfg(args):
    cfg = load_config(args.config_file, args.opts)
    if args.weights:
        cfg.MODEL.WEIGHTS = args.weights
    cfg.freeze()
    return cfg


def main(argv=None) -> int:
    args = get_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        init_box = parse_box_xywh(",".join(args.init_box), "--init-box") if args.init_box else None
        if init_box is None and why_no_gui() is not None:
            raise ValueError(
                f"--init-box X,Y,W,H is required here ({why_no_gui()}, so no box can be drawn)"
            )
        source = open_frame_source(args.input)
        with source:
            cfg = setup_cfg(args)
            tracker = SiamTracker(cfg, device=args.device)
            summary = track_video(
                tracker,
                source,
                init_box,
                select_box=select_box_interactively,
                output_video=args.output,
                boxes_file=args.save_boxes,
                overwrite=args.force,
                show_progress=not args.no_progress,
            )
    except (ValueError, OSError) as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
    result = summary.result
    print(
        f"tracked {len(result)} frames of {args.input} on {tracker.device}: "
        f"{summary.fps:.2f} fps (tracker update, frames 1..{len(result) - 1}), "
        f"init {1000 * result.times[0]:.0f} ms"
    )
    if summary.bad_frames:
        print(f"skipped {len(summary.bad_frames)} unreadable frames: {summary.bad_frames[:10]}")
    for label, path in (("annotated video", summary.output_video), ("boxes", summary.boxes_file)):
        if path is not None:
            print(f"{label}: {path}")
    if not summary.completed:
        print("stopped before the end of the input; the outputs hold the frames tracked so far")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
