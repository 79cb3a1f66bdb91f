#!/usr/bin/env python
"""Long-term tracking next to OpenCV's NanoTrack and VitTrack: presence, re-detection and
short-term accuracy, side by side in one run.

Every tracker runs over every sequence of the long-term set (``--lt-sequences``, default
``../shared/data/sequences_eval_lt``: the evaluation sequences with cut-aways, ``nan`` rows where
the target is absent) and of the short-term set (``--st-sequences``, default
``../shared/data/sequences_eval``), frames decoded into memory first, trackers taking turns per
sequence. Printed:

- long-term (VOT-LT, ``siamtrack.evaluation.longterm``): F = max over confidence thresholds,
  F at the tracker's own presence decision, precision and recall at the F-max threshold, success
  AUC over the frames where the target is present, share of absent frames reported absent;
- short-term: OPE success AUC (the tracker's box on every frame);
- speed: median ms per update over all updates of both sets, over the updates that searched
  the local crop only (the cost while the target is present) and, for siamtrack's long-term
  trackers, over the updates that also ran re-detection crops (the cost while a target is
  lost), with the frame sizes they ran on.

siamtrack's trackers run with each config's presence model and threshold, with re-detection
on and off; ``cv2.TrackerNano`` (NanoTrack's official v2 ONNX) and ``cv2.TrackerVit`` report
``getTrackingScore()`` as confidence and never report the target absent, so their F is at the
best threshold.

    python benchmarks/benchmark_longterm.py
    python benchmarks/benchmark_longterm.py --versions 3 --json out/longterm.json
"""

import argparse
import json
import os
import sys
from pathlib import Path

import cv2
import numpy as np
import torch

from siamtrack import SiamTracker, load_config
from siamtrack.evaluation import evaluate
from siamtrack.evaluation.longterm import evaluate_longterm, summarize_longterm
from siamtrack.io.sequences import load_sequences
from siamtrack.tracking.opencv_trackers import OpenCVTracker

from common import REPO, SHARED, machine_description, timed_tracking

NANO_ONNX = SHARED / "weights" / "nanotrack" / "onnx" / "v2"
VIT_ONNX = SHARED / "weights" / "vittrack" / "object_tracking_vittrack_2023sep.onnx"


class _CountingTracker:
    """A SiamTracker that also records how many crops each update searched."""

    def __init__(self, tracker: SiamTracker):
        self.tracker = tracker
        self.crops = []

    def init(self, image, box):
        self.crops = []
        return self.tracker.init(image, box)

    def update(self, image):
        result = self.tracker.update(image)
        self.crops.append(len(self.tracker.last_candidates))
        return result


def build_trackers(args):
    """The trackers by name, and for each re-detection-off tracker the name of its "on" twin."""
    trackers, partners = {}, {}
    for version in args.versions:
        names = {}
        for long_term in (True, False):
            opts = ["MODEL.WEIGHTS", f"nanotrack_v{version}", "TRACKER.LONG_TERM", long_term]
            cfg = load_config(str(REPO / f"configs/nanotrack/nanotrack_v{version}.yaml"), opts)
            name = f"siamtrack nanotrack_v{version} (re-detection {'on' if long_term else 'off'})"
            trackers[name] = _CountingTracker(SiamTracker(cfg, device="cpu"))
            names[long_term] = name
        partners[names[False]] = names[True]
    nano_files = (
        NANO_ONNX / "nanotrack_backbone_sim_v2.onnx",
        NANO_ONNX / "nanotrack_head_sim_v2.onnx",
    )
    trackers["cv2.TrackerNano (official v2 ONNX)"] = OpenCVTracker("Nano", model_files=nano_files)
    trackers["cv2.TrackerVit (VitTrack)"] = OpenCVTracker("Vit", model_files=(VIT_ONNX,))
    return trackers, partners


def run(trackers, sequences, long_term: bool, entries):
    for sequence in sequences:
        frames = [cv2.imread(p) for p in sequence.frame_paths]
        truth = np.asarray(sequence.boxes_xywh, dtype=np.float64)
        for name, tracker in trackers.items():
            results, seconds, _ = timed_tracking(tracker, frames, truth[0])
            crops = getattr(tracker, "crops", [1] * len(seconds))
            entry = entries[name]
            entry["times"].extend(seconds)
            entry["crops"].extend(crops)
            if any(c > 1 for c in crops):
                entry["search_frames"].add(frames[0].shape[1::-1])
            boxes = np.stack([r.box_xywh for r in results])
            if long_term:
                reported = boxes.copy()
                reported[~np.array([r.present for r in results])] = np.nan
                confidences = np.array([r.confidence for r in results])
                entry["lt"].append(evaluate_longterm(reported, truth, confidences, sequence.absent))
            else:
                entry["st"].append(100 * evaluate(boxes, truth, sequence.absent)["auc"])
        print(f"  {sequence.name}: done", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lt-sequences", default=str(SHARED / "data" / "sequences_eval_lt"))
    parser.add_argument("--st-sequences", default=str(SHARED / "data" / "sequences_eval"))
    parser.add_argument("--versions", type=int, nargs="+", default=[1, 2, 3], choices=[1, 2, 3])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", help="also write the numbers to this file")
    args = parser.parse_args()
    os.environ.setdefault("SIAMTRACK_WEIGHTS_DIR", str(SHARED / "weights" / "nanotrack"))
    torch.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)
    lt_sequences = load_sequences(args.lt_sequences)
    st_sequences = load_sequences(args.st_sequences)
    print(f"{machine_description()}; {args.threads} threads; torch {torch.__version__}, "
          f"OpenCV {cv2.__version__}; long-term: {len(lt_sequences)} sequences, "
          f"{sum(len(s) for s in lt_sequences)} frames; short-term: {len(st_sequences)} "
          f"sequences, {sum(len(s) for s in st_sequences)} frames")  # fmt: skip
    trackers, partners = build_trackers(args)
    entries = {
        name: {
            "lt": [],
            "st": [],
            "times": [],
            "crops": [],
            "search_frames": set(),
        }
        for name in trackers
    }
    run(trackers, lt_sequences, True, entries)
    run(trackers, st_sequences, False, entries)
    header = (f"{'tracker':<44} {'LT F':>6} {'F(own)':>7} {'Pr':>6} {'Re':>6} {'AUC pres':>9} "
              f"{'abs.rep':>8} {'ST AUC':>7} {'ms/upd':>7} {'ms local':>9} {'ms lost':>8}")  # fmt: skip
    print("\nlong-term (sequences_eval_lt) and short-term (sequences_eval); fractions, AUC in %")
    print(header)
    payload = {}
    for name, entry in entries.items():
        overall = summarize_longterm(entry["lt"])
        ms = 1000 * float(np.median(entry["times"]))
        times, crops = np.array(entry["times"]), np.array(entry["crops"])
        # the same frames for re-detection on and off: those where "on" searched locally only
        local = np.array(entries[partners.get(name, name)]["crops"]) == 1
        local_ms = 1000 * float(np.median(times[local]))
        lost_ms = 1000 * float(np.median(times[crops > 1])) if (crops > 1).any() else None
        row = {
            "f_score": overall["f_score"],
            "f_score_decision": overall["f_score_decision"],
            "precision": overall["precision"],
            "recall": overall["recall"],
            "auc_present": 100 * overall["auc_present"],
            "absent_reported": overall["absent_reported"],
            "short_term_auc": float(np.mean(entry["st"])),
            "ms_per_update": ms,
            "ms_per_local_update": local_ms,
            "ms_per_update_while_lost": lost_ms,
            "lost_frame_sizes": sorted(entry["search_frames"]),
        }
        payload[name] = row
        lost = f"{lost_ms:8.2f}" if lost_ms is not None else f"{'-':>8}"
        print(f"{name:<44} {row['f_score']:6.3f} {row['f_score_decision']:7.3f} "
              f"{row['precision']:6.3f} {row['recall']:6.3f} {row['auc_present']:9.1f} "
              f"{row['absent_reported']:8.3f} {row['short_term_auc']:7.1f} {ms:7.2f} "
              f"{local_ms:9.2f} {lost}")  # fmt: skip
    print(
        "\nms/upd: median ms of all updates of both sets; ms local: of the updates where the "
        "re-detection-on tracker of that version searched its local crop only (the same frames "
        "for on and off: the cost while the target is present); ms lost: of the updates that "
        "also searched re-detection tiles, which ran on frames of "
        + ", ".join(sorted({f"{w}x{h}" for e in entries.values() for w, h in e["search_frames"]}))
    )
    if args.json:
        Path(args.json).write_text(json.dumps({"cpu": machine_description(),
                                               "threads": args.threads, "trackers": payload},
                                              indent=1, default=list) + "\n")  # fmt: skip


if __name__ == "__main__":
    main()
