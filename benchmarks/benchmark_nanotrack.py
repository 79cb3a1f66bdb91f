#!/usr/bin/env python
"""NanoTrack in siamtrack next to cv2.TrackerNano: accuracy and speed on the evaluation set.

Every tracker runs once over every sequence of ``--sequences`` (default
``../shared/data/sequences_eval``, 8 real OTB / VOT2014 / UAV123 sequences), frames decoded
into memory first; the trackers take turns per sequence so a change in machine load hits all
alike. Printed side by side:

- accuracy: OPE success AUC / precision@20 px per sequence and the mean over sequences, next to
  the anchors measured by the issue that asked for this work (NanoTrack's own PyTorch tracker
  with the same weights, cv2.TrackerNano, OpenCV's CSRT / MIL / KCF on the same set);
- speed: tracker updates per second (median over all updates; crop + network +
  post-processing, frames already decoded), ``--threads`` threads for torch, onnxruntime and
  OpenCV, and the ratio to cv2.TrackerNano with NanoTrack's official v2 ONNX files.

    python benchmarks/benchmark_nanotrack.py                     # v1-v3 + cv2.TrackerNano + MIL
    python benchmarks/benchmark_nanotrack.py --versions 2 --modes default torch-jit torch-eager
"""

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

import cv2
import numpy as np
import torch

from siamtrack import SiamTracker, load_config
from siamtrack.data import load_sequences
from siamtrack.evaluation import evaluate
from siamtrack.tracking.opencv_trackers import OpenCVTracker, available_opencv_trackers

from common import REPO, SHARED, boxes_of, machine_description, timed_tracking

NANO_ONNX = SHARED / "weights" / "nanotrack" / "onnx" / "v2"
# Mean success AUC (%) on sequences_eval measured by the issue (2 cores, AVX2 machine).
ANCHORS = {
    "NanoTrack's own tracker v1": 63.8,
    "NanoTrack's own tracker v2": 71.1,
    "NanoTrack's own tracker v3": 70.9,
    "cv2.TrackerNano (official v2 ONNX)": 71.3,
    "OpenCV CSRT": 64.4,
    "OpenCV MIL": 46.0,
    "OpenCV KCF": 25.7,
}
MODES = {  # siamtrack modes: config overrides
    "default": [],  # the configs' default backend: onnxruntime
    "torch-jit": ["TRACKER.BACKEND", "torch"],
    "torch-eager": ["TRACKER.BACKEND", "torch", "TRACKER.FOLD_BATCHNORM", "False",
                    "TRACKER.JIT_FREEZE", "False"],
}  # fmt: skip


def build_trackers(args):
    trackers = {}
    for version in args.versions:
        for mode in args.modes:
            opts = ["MODEL.WEIGHTS", f"nanotrack_v{version}", *MODES[mode]]
            cfg = load_config(str(REPO / f"configs/nanotrack/nanotrack_v{version}.yaml"), opts)
            name = f"siamtrack nanotrack_v{version}" + ("" if mode == "default" else f" ({mode})")
            trackers[name] = SiamTracker(cfg, device="cpu")
    if hasattr(cv2, "TrackerNano"):
        files = (
            NANO_ONNX / "nanotrack_backbone_sim_v2.onnx",
            NANO_ONNX / "nanotrack_head_sim_v2.onnx",
        )
        trackers["cv2.TrackerNano (official v2 ONNX)"] = OpenCVTracker("Nano", model_files=files)
    for name in args.baselines:
        if name in available_opencv_trackers():
            trackers[f"OpenCV {name}"] = OpenCVTracker(name)
    return trackers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sequences", default=str(SHARED / "data" / "sequences_eval"))
    parser.add_argument("--versions", type=int, nargs="+", default=[1, 2, 3], choices=[1, 2, 3])
    parser.add_argument("--modes", nargs="+", default=["default"], choices=list(MODES))
    parser.add_argument("--baselines", nargs="*", default=["MIL", "CSRT", "KCF"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", help="also write the numbers to this file")
    args = parser.parse_args()
    os.environ.setdefault("SIAMTRACK_WEIGHTS_DIR", str(SHARED / "weights" / "nanotrack"))
    torch.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)
    sequences = load_sequences(args.sequences)
    print(f"{machine_description()}; {args.threads} threads; torch {torch.__version__}, "
          f"OpenCV {cv2.__version__}; {len(sequences)} sequences, "
          f"{sum(len(s) for s in sequences)} frames")  # fmt: skip
    trackers = build_trackers(args)
    results = {name: {"auc": {}, "precision": {}, "times": []} for name in trackers}
    for sequence in sequences:
        frames = [cv2.imread(p) for p in sequence.frame_paths]
        for name, tracker in trackers.items():
            results_, times, _ = timed_tracking(tracker, frames, sequence.boxes_xywh[0])
            metrics = evaluate(boxes_of(results_), sequence.boxes_xywh, sequence.absent)
            results[name]["auc"][sequence.name] = 100 * metrics["auc"]
            results[name]["precision"][sequence.name] = 100 * metrics["precision_20"]
            results[name]["times"].extend(times)
        print(f"  {sequence.name}: done", file=sys.stderr)
    reference = results.get("cv2.TrackerNano (official v2 ONNX)")
    reference_ms = 1000 * statistics.median(reference["times"]) if reference else float("nan")
    names = [s.name for s in sequences]
    print("\nmean success AUC / precision@20 (%) and speed (updates/s, median)")
    print(
        f"{'tracker':<44} {'AUC':>6} {'Prec20':>7} {'ms/upd':>7} {'upd/s':>7} {'vs cv2 Nano':>12}"
    )
    for name, entry in results.items():
        ms = 1000 * statistics.median(entry["times"])
        entry.update(mean_auc=float(np.mean(list(entry["auc"].values()))),
                     mean_precision=float(np.mean(list(entry["precision"].values()))),
                     ms_per_update=ms)  # fmt: skip
        print(f"{name:<44} {entry['mean_auc']:6.1f} {entry['mean_precision']:7.1f} {ms:7.2f} "
              f"{1000 / ms:7.1f} {reference_ms / ms:11.2f}x")  # fmt: skip
    print("\nanchors (mean AUC %, measured by the issue on an AVX2 machine):")
    for name, auc in ANCHORS.items():
        print(f"  {name:<42} {auc:6.1f}")
    print("\nper-sequence success AUC (%)")
    print(f"{'tracker':<44} " + " ".join(f"{n[:10]:>10}" for n in names))
    for name, entry in results.items():
        print(f"{name:<44} " + " ".join(f"{entry['auc'][n]:10.1f}" for n in names))
    if args.json:
        payload = {"cpu": machine_description(), "threads": args.threads,
                   "trackers": {n: {k: v for k, v in e.items() if k != "times"} for n, e in results.items()}}  # fmt: skip
        Path(args.json).write_text(json.dumps(payload, indent=1) + "\n")


if __name__ == "__main__":
    main()
