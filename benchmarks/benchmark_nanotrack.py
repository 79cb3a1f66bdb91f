#!/usr/bin/env python
"""NanoTrack in siamtrack next to cv2.TrackerNano: accuracy and speed on the evaluation set.

Every tracker runs once over every sequence of ``--sequences`` (default
``../shared/data/sequences_eval``, 8 real OTB / VOT2014 / UAV123 sequences), frames decoded
into memory first. The trackers take turns frame by frame (each tracks the whole sequence on
its own; the order rotates every frame), so a change in machine load hits all alike: on a
shared machine compare the ratios, and read the CPU idle fractions printed before and after
the run (``--wait-quiet`` waits for an idle machine first). Printed side by side:

- accuracy: OPE success AUC / precision@20 px per sequence and the mean over sequences, next to
  reference numbers measured earlier on an AVX2 machine (NanoTrack's own PyTorch tracker
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
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from siamtrack import SiamTracker, load_config
from siamtrack.data import load_sequences
from siamtrack.evaluation import evaluate
from siamtrack.tracking import iterate_tracking
from siamtrack.tracking.opencv_trackers import OpenCVTracker, available_opencv_trackers

from common import REPO, SHARED, boxes_of, cpu_idle_fraction, machine_description, wait_quiet

NANO_ONNX = SHARED / "weights" / "nanotrack" / "onnx" / "v2"
# Mean success AUC (%) on sequences_eval measured earlier (2 cores, AVX2 machine).
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


def interleaved_tracking(trackers, frames, init, phases=None):
    """Run every tracker over ``frames`` (its own tracking loop, ``iterate_tracking``), one
    frame of each in turn, the order rotating every frame. Returns ``{name: [FrameRecord]}``."""
    loops = {name: iterate_tracking(tracker, frames, init) for name, tracker in trackers.items()}
    records = {name: [] for name in trackers}
    names = list(trackers)
    for index in range(len(frames)):
        shift = index % len(names)
        for name in names[shift:] + names[:shift]:
            if phases is not None:
                phases.begin(name)
            records[name].append(next(loops[name]).without_image())
            if phases is not None and index > 0:
                phases.end(records[name][-1].seconds)
    return records


class Phases:
    """``--profile``: where an update's time goes, per tracker (medians over updates).

    Wraps, for the duration of the run, the siamtrack trackers' network call
    (``tracker.network.track``: crops to numpy scores/boxes), onnxruntime's
    ``run_with_iobinding`` (the graph itself, inside that call) and the engine's crop function;
    "other" is the rest of the update (post-processing, target state, results).
    """

    NAMES = ("network call", "onnxruntime run", "crop", "other")

    def __init__(self, trackers):
        self.current, self.spent = None, {}
        self.seconds = {name: {phase: [] for phase in self.NAMES} for name in trackers}
        for tracker in trackers.values():
            network = getattr(tracker, "network", None)
            if network is not None:
                network.track = self._timed(network.track, "network call")
        try:
            import onnxruntime
            import siamtrack.tracking.engine as engine
        except ImportError:
            return
        session = onnxruntime.InferenceSession
        session.run_with_iobinding = self._timed(session.run_with_iobinding, "onnxruntime run")
        engine.crop_square = self._timed(engine.crop_square, "crop")

    def _timed(self, function, phase):
        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.spent[phase] = self.spent.get(phase, 0.0) + time.perf_counter() - start

        return timed

    def begin(self, name) -> None:
        self.current, self.spent = name, {}

    def end(self, update_seconds: float) -> None:
        if "network call" not in self.spent:
            return  # not a siamtrack tracker
        spent = dict(self.spent)
        spent["other"] = update_seconds - spent["network call"] - spent.get("crop", 0.0)
        for phase in self.NAMES:
            self.seconds[self.current][phase].append(spent.get(phase, 0.0))

    def report(self) -> None:
        print("\nwhere an update goes (--profile; medians, ms): " + ", ".join(self.NAMES))
        for name, phases in self.seconds.items():
            if phases["network call"]:
                values = [1000 * statistics.median(phases[p]) for p in self.NAMES]
                print(f"  {name:<44} " + "  ".join(f"{v:6.3f}" for v in values))


def onnxruntime_version() -> str:
    try:
        import onnxruntime
    except ImportError:
        return "not installed"
    return onnxruntime.__version__


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sequences", default=str(SHARED / "data" / "sequences_eval"))
    parser.add_argument("--versions", type=int, nargs="+", default=[1, 2, 3], choices=[1, 2, 3])
    parser.add_argument("--modes", nargs="+", default=["default"], choices=list(MODES))
    parser.add_argument("--baselines", nargs="*", default=["MIL", "CSRT", "KCF"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", help="also write the numbers to this file")
    # fmt: off
    parser.add_argument("--wait-quiet", type=float, default=60,
                        help="wait up to this many seconds for an idle CPU before the run")
    parser.add_argument("--profile", action="store_true",
                        help="also print where an update's time goes (network, onnxruntime, crop)")
    # fmt: on
    args = parser.parse_args()
    os.environ.setdefault("SIAMTRACK_WEIGHTS_DIR", str(SHARED / "weights" / "nanotrack"))
    torch.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)
    sequences = load_sequences(args.sequences)
    print(f"{machine_description()}; {args.threads} threads; torch {torch.__version__}, "
          f"OpenCV {cv2.__version__}; {len(sequences)} sequences, "
          f"{sum(len(s) for s in sequences)} frames")  # fmt: skip
    trackers = build_trackers(args)
    phases = Phases(trackers) if args.profile else None
    print(f"onnxruntime {onnxruntime_version()}; CPU idle before the run: "
          f"{100 * wait_quiet(args.wait_quiet):.0f} %")  # fmt: skip
    results = {name: {"auc": {}, "precision": {}, "times": []} for name in trackers}
    for sequence in sequences:
        frames = [cv2.imread(p) for p in sequence.frame_paths]
        runs = interleaved_tracking(trackers, frames, sequence.boxes_xywh[0], phases)
        for name, records in runs.items():
            boxes = boxes_of([record.result for record in records])
            metrics = evaluate(boxes, sequence.boxes_xywh, sequence.absent)
            results[name]["auc"][sequence.name] = 100 * metrics["auc"]
            results[name]["precision"][sequence.name] = 100 * metrics["precision_20"]
            results[name]["times"].extend(record.seconds for record in records[1:])
        print(f"  {sequence.name}: done", file=sys.stderr)
    print(f"CPU idle after the run: {100 * cpu_idle_fraction(3.0):.0f} %")
    if phases is not None:
        phases.report()
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
    print("\nreference numbers (mean AUC %, measured earlier on a 2-core AVX2 machine):")
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
