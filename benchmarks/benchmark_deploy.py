#!/usr/bin/env python
"""Speed of the deployment paths of one NanoTrack model, side by side on the same frames.

- PyTorch: ``SiamTracker`` with ``TRACKER.BACKEND torch`` (BatchNorm folded, TorchScript frozen);
- onnxruntime: ``SiamTracker`` with ``TRACKER.BACKEND onnxruntime`` and ``TRACKER.ONNX_DIR``, on
  files written by ``tools/export_onnx.py`` (siamtrack layout; no torch model built);
- ``cv2.TrackerNano`` on siamtrack's opencv-nano export of the same weights;
- ``cv2.TrackerNano`` on NanoTrack's official ONNX files (v1 / v2 only).

Frames are decoded into memory first; every tracker runs ``--rounds`` times over them, taking
turns so a change in machine load hits all alike. Printed: the CPU, torch's CPU capability,
median milliseconds per update (crop + network + post-processing) and updates per second, and
the mean IoU with the ground truth (a sanity check, not a benchmark).

    python benchmarks/benchmark_deploy.py                      # NanoTrack v2, Crossing, 2 threads
    python benchmarks/benchmark_deploy.py --version 1 --threads 1 --rounds 5
"""

import argparse
import os
import statistics
import tempfile
from pathlib import Path

import cv2
import torch

from siamtrack import SiamTracker, load_config
from siamtrack.checkpoint import build_model_with_weights
from siamtrack.export import export_graphs, save_export
from siamtrack.io import load_sequence
from siamtrack.tracking import OpenCVTracker
from siamtrack.utils.boxes import iou_xywh

from common import SHARED, REPO, boxes_of, machine_description, timed_tracking

OFFICIAL = {
    1: ("v1/nanotrack_backbone_sim.onnx", "v1/nanotrack_head_sim.onnx"),
    2: ("v2/nanotrack_backbone_sim_v2.onnx", "v2/nanotrack_head_sim_v2.onnx"),
}


def build_trackers(version: int, folder: Path):
    config = str(REPO / "configs" / "nanotrack" / f"nanotrack_v{version}.yaml")
    weights = f"nanotrack_v{version}"
    cfg = load_config(config, ["MODEL.DEVICE", "cpu", "MODEL.WEIGHTS", weights])
    model = build_model_with_weights(cfg, "cpu", require_weights=True)
    save_export(export_graphs(model, "siamtrack"), folder / "siamtrack")
    trackers = {
        "PyTorch (TorchScript, BN folded)": SiamTracker(
            load_config(config, ["MODEL.DEVICE", "cpu", "MODEL.WEIGHTS", weights,
                                 "TRACKER.BACKEND", "torch"])  # fmt: skip
        ),
        "siamtrack onnxruntime (exported files)": SiamTracker(
            load_config(config, ["MODEL.DEVICE", "cpu", "TRACKER.BACKEND", "onnxruntime",
                                 "TRACKER.ONNX_DIR", str(folder / "siamtrack")])  # fmt: skip
        ),
    }
    if model.score_size == 16 and hasattr(cv2, "TrackerNano"):
        nano = save_export(export_graphs(model, "opencv-nano"), folder / "opencv-nano")
        trackers["cv2.TrackerNano, siamtrack export"] = OpenCVTracker("Nano", model_files=nano)
        official = [SHARED / "weights" / "nanotrack" / "onnx" / f for f in OFFICIAL[version]]
        trackers["cv2.TrackerNano, official files"] = OpenCVTracker("Nano", model_files=official)
    return trackers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--version", type=int, default=2, choices=[1, 2, 3])
    parser.add_argument("--sequence", default=str(SHARED / "data" / "sequences" / "Crossing"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("SIAMTRACK_WEIGHTS_DIR", str(SHARED / "weights" / "nanotrack"))
    torch.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)
    sequence = load_sequence(args.sequence)
    frames = [cv2.imread(p) for p in sequence.frame_paths]
    print(f"{machine_description()}; {args.threads} threads; torch {torch.__version__}, "
          f"OpenCV {cv2.__version__}")  # fmt: skip
    print(
        f"NanoTrack v{args.version}, {sequence.name}: {len(frames)} frames x {args.rounds} rounds"
    )
    with tempfile.TemporaryDirectory() as folder:
        trackers = build_trackers(args.version, Path(folder))
        times = {name: [] for name in trackers}
        ious = {}
        for _ in range(args.rounds):
            for name, tracker in trackers.items():
                results, update_times, _ = timed_tracking(tracker, frames, sequence.boxes_xywh[0])
                times[name].extend(update_times)
                ious[name] = float(iou_xywh(boxes_of(results), sequence.boxes_xywh).mean())
    print(f"\n{'path':<42} {'ms/update':>10} {'fps':>8} {'mean IoU':>9}")
    for name, values in times.items():
        ms = 1000 * statistics.median(values)
        print(f"{name:<42} {ms:10.2f} {1000 / ms:8.1f} {ious[name]:9.3f}")


if __name__ == "__main__":
    main()
