#!/usr/bin/env python
"""Several targets in one video: tracker updates per second for K = 1, 2, 4, 8 targets.

``MultiTargetTracker`` crops K search regions and runs one batched network call per frame, so
K targets should cost far less than K trackers. For each model (default: the light SiamRPN++
with random weights and NanoTrack v3 with its released weights) and each K, the same frames of
a real sequence are tracked with K targets (the ground-truth box and K - 1 boxes spread over
the frame); printed: milliseconds per update (all K targets), updates per second, the time
relative to K = 1 and relative to K separate single-target trackers (K x the K = 1 time).
2 threads by default, one run (the trackers take turns per round to share the machine's load).

    python benchmarks/benchmark_multi_target.py
    python benchmarks/benchmark_multi_target.py --targets 1 4 --frames 60
"""

import argparse
import os
import statistics

import cv2
import numpy as np
import torch

from siamtrack import load_config
from siamtrack.io import load_sequence
from siamtrack.tracking import MultiTargetTracker

from common import REPO, SHARED, machine_description, timed_tracking

# --models key: (label, config, overrides)
MODELS = {
    "light": ("SiamRPN++ light (R-18 narrow, random weights)",
              "configs/siamrpn/siamrpn_R_18_narrow_l23_dwxcorr_cpu.yaml", []),
    "nanotrack_v3": ("NanoTrack v3 (released weights)",
                     "configs/nanotrack/nanotrack_v3.yaml", ["MODEL.WEIGHTS", "nanotrack_v3"]),
    "nanotrack_v3_torch": ("NanoTrack v3, torch backend", "configs/nanotrack/nanotrack_v3.yaml",
                           ["MODEL.WEIGHTS", "nanotrack_v3", "TRACKER.BACKEND", "torch"]),
}  # fmt: skip


def spread_boxes(box, count, image_hw):
    """``count`` boxes: ``box`` and copies of its size spread over the frame."""
    height, width = image_hw
    boxes = [np.asarray(box, np.float64)]
    for k in range(1, count):
        x = (box[0] + k * width / count) % max(1.0, width - box[2])
        y = (box[1] + k * height / (2 * count)) % max(1.0, height - box[3])
        boxes.append(np.array([x, y, box[2], box[3]]))
    return boxes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--sequence", default=str(SHARED / "data" / "sequences_eval" / "vot14_jogging")
    )
    parser.add_argument("--frames", type=int, default=100)
    parser.add_argument("--targets", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--rounds", type=int, default=2, help="runs per K (median of all updates)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--models", nargs="+", choices=list(MODELS), default=list(MODELS))
    args = parser.parse_args()
    os.environ.setdefault("SIAMTRACK_WEIGHTS_DIR", str(SHARED / "weights" / "nanotrack"))
    torch.set_num_threads(args.threads)
    cv2.setNumThreads(1)
    sequence = load_sequence(args.sequence)
    frames = [cv2.imread(p) for p in sequence.frame_paths[: args.frames]]
    print(f"{machine_description()}; {args.threads} threads; torch {torch.__version__}; "
          f"{sequence.name}, {len(frames)} frames")  # fmt: skip
    for key in args.models:
        label, config, opts = MODELS[key]
        torch.manual_seed(0)
        tracker = MultiTargetTracker(load_config(str(REPO / config), opts), device="cpu")
        times = {k: [] for k in args.targets}
        for _ in range(args.rounds):
            for k in args.targets:
                boxes = spread_boxes(sequence.boxes_xywh[0], k, frames[0].shape[:2])
                times[k] += list(timed_tracking(tracker, frames, boxes)[1])
        base = statistics.median(times[args.targets[0]])
        print(f"\n{label} ({tracker.network.description})")
        print(f"  {'K':>3} {'ms/update':>10} {'updates/s':>10} {'vs K=1':>8} {'vs K trackers':>14}")
        for k in args.targets:
            ms = 1000 * statistics.median(times[k])
            print(f"  {k:>3} {ms:10.2f} {1000 / ms:10.1f} {ms / (1000 * base):7.2f}x "
                  f"{ms / (1000 * base * k):13.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
