#!/usr/bin/env python
"""Track objects through a video, an image folder/glob or a camera with a siamtrack model.

Examples:
    python tools/track_video.py --config-file configs/nanotrack/nanotrack_v3.yaml \
        --weights nanotrack_v3 --input video.mp4 --init-box 204,150,17,50 \
        --output out/tracked.mp4 --save-boxes out/boxes.csv
    python tools/track_video.py --weights nanotrack_v3 --input frames/ --init-box 204,150,17,50
    # several targets, one batched network call per frame (targets 0, 1, ...)
    python tools/track_video.py --weights nanotrack_v3 --input video.mp4 \
        --init-box 204,150,17,50 --init-box 20,30,40,40 --save-boxes out/boxes.csv

Without --config-file, a model zoo name given as --weights brings its own config. Without
--init-box a window opens to drag the box (needs a display and a GUI OpenCV). With several
targets the video draws each in its own colour with its id, and the boxes file gains a target
column (.txt: one file per target, <name>_<target>.txt). Frames where the tracker reports the
target absent show its last box dashed and grey ("target lost"); the boxes file has nan rows
there (.txt) or present 0 (.csv/.json, which keep the last box); --confidence-plot draws the
confidence over the frames with those frames shaded. Unreadable frames keep their row: the
last box again with an empty score. Outputs are never replaced without --force. Exit codes:
0 done, 1 interrupted (the outputs hold the frames done), 2 bad input.
"""

import argparse
import sys

# torch-free (the trackers are imported after parsing; torch and detectron2 only when the
# tracker is built from the config, not when an earlier run's runtime record rebuilds it)
from siamtrack.cli import EXIT_INTERRUPTED, add_model_arguments, run_tool

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
        action="append",
        metavar="X,Y,W,H",
        help="target box in the first frame: x,y,w,h (top-left, pixels); repeat for more targets",
    )
    parser.add_argument(
        "--output", metavar="VIDEO", help="annotated video to write (.mp4/.avi/.mkv)"
    )
    parser.add_argument(
        "--save-boxes",
        metavar="FILE",
        help="per-frame boxes: .txt (x,y,w,h lines), .csv or .json (frame, box, score, present, "
        "confidence)",
    )
    parser.add_argument(
        "--confidence-plot",
        metavar="PNG",
        help="plot of every target's presence confidence and raw score over the frames, the "
        "presence threshold and the frames reported absent",
    )
    parser.add_argument("--force", action="store_true", help="replace existing output files")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_model_arguments(parser)
    return parser


def main(argv=None) -> int:
    args = get_parser().parse_args(argv)
    return run_tool(PROG, lambda: track(args))


def build_tracker(args, num_targets: int):
    """The tracker of the model arguments: rebuilt from its runtime record without torch when
    an earlier run kept one (siamtrack.tracking.runtime_record), else built from the config
    (torch, detectron2), which keeps the record for the next run."""
    from siamtrack.tracking.runtime_record import (
        RuntimeRequest,
        load_runtime_tracker,
        save_runtime_record,
    )

    request = RuntimeRequest.from_args(args)
    tracker = load_runtime_tracker(request, num_targets)
    if tracker is None:
        from siamtrack import SiamTracker
        from siamtrack.config import config_from_args
        from siamtrack.tracking import MultiTargetTracker

        cfg = config_from_args(args)  # --device is MODEL.DEVICE
        tracker = (MultiTargetTracker if num_targets > 1 else SiamTracker)(cfg)
        save_runtime_record(request, tracker, cfg)
    return tracker


def track(args) -> int:
    import logging

    from siamtrack.errors import BadInputError
    from siamtrack.io import open_frame_source
    from siamtrack.tracking.video_runner import (
        AnnotatedVideoWriter,
        BoxesFileWriter,
        ConfidencePlotWriter,
        track_video,
    )
    from siamtrack.utils.boxes import parse_box_xywh
    from siamtrack.utils.visualization import select_box_interactively, why_no_gui

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    boxes = [parse_box_xywh(",".join(parts), "--init-box") for parts in args.init_box or []]
    init_box = boxes[0] if len(boxes) == 1 else (boxes or None)
    if init_box is None and why_no_gui() is not None:
        raise BadInputError(
            f"--init-box X,Y,W,H is required here ({why_no_gui()}, so no box can be drawn)"
        )
    with open_frame_source(args.input) as source:
        writers = []
        if args.output:
            writers.append(AnnotatedVideoWriter(args.output, source.fps, overwrite=args.force))
        if args.save_boxes:
            writers.append(BoxesFileWriter(args.save_boxes, overwrite=args.force))
        plot = None
        if args.confidence_plot:
            plot = ConfidencePlotWriter(args.confidence_plot, overwrite=args.force)
            writers.append(plot)
        tracker = build_tracker(args, max(len(boxes), 1))
        if plot is not None:
            plot.presence_threshold = tracker.presence_threshold
        summary = track_video(
            tracker,
            source,
            init_box,
            select_box=select_box_interactively,
            writers=writers,
            show_progress=not args.no_progress,
        )
    results = summary.result if isinstance(summary.result, dict) else {None: summary.result}
    result = next(iter(results.values()))
    print(
        f"tracked {len(result)} frames of {args.input} with {tracker.network.description}: "
        f"{summary.fps:.2f} fps (tracker updates, frames 1..{len(result) - 1}), "
        f"init {1000 * result.times[0]:.0f} ms"
        + (f", {len(results)} targets" if len(results) > 1 else "")
    )
    absent = summary.frames_absent
    if len(absent) == 1:
        print(f"reported the target absent in {next(iter(absent.values()))} frames")
    else:
        print("reported absent: " + ", ".join(f"target {t}: {n} frames" for t, n in absent.items()))
    if summary.bad_frames:
        print(f"skipped {len(summary.bad_frames)} unreadable frames: {summary.bad_frames[:10]}")
    for writer, paths in zip(writers, summary.outputs):
        for path in paths if isinstance(paths, list) else [paths]:
            if path is not None:
                print(f"{writer.what}: {path}")
    if not summary.completed:
        print("stopped before the end of the input; the outputs hold the frames tracked so far")
        return EXIT_INTERRUPTED
    return 0


if __name__ == "__main__":
    sys.exit(main())
