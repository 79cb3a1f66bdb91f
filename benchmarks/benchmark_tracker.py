#!/usr/bin/env python
"""Tracking speed on CPU: tracker fps, model latency, achieved GFLOP/s, output differences.

For each config (default: pysot-layout R-50 l234, standard-layout R-50, the light R-18):

- GMAC of the template branch and of one tracking step (``siamtrack.modeling.analysis``);
- model latency (median / min over interleaved repeats) of the template branch and one
  tracking step, for the plain eager model with autograd on (what pysot runs) and for each
  tracker mode; achieved GFLOP/s = 2 * GMAC / step time;
- tracker fps (median per-frame time of ``update``) over a real sequence;
- output difference of each mode against the plain eager tracker: max box difference (px)
  when both are stepped from the same state on every frame, and free-running over the sequence.

Weights are random (seed 0) unless --weights is given; BatchNorm statistics are then
calibrated on crops of the sequence so activations have a realistic scale (raw random weights on
0-255 input give box offsets of 1e5 px, where float32 rounding alone exceeds 1e-3 px).
The machine is shared: --wait-quiet waits for an idle CPU before each config.

    python benchmarks/benchmark_tracker.py                       # 2 threads, bundled sample
    python benchmarks/benchmark_tracker.py --modes default bf16 compile --frames 60
"""

import argparse
import contextlib
import copy
import json
import os
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch
from detectron2.config import get_cfg
from detectron2.modeling import build_model

from siamtrack import SiamTracker, add_siamtrack_config
from siamtrack.data.crops import crop_square, mean_color, siamese_crop_sides
from siamtrack.io.sequences import load_sequence
from siamtrack.modeling import TemplateBranch, TrackStep
from siamtrack.modeling.analysis import count_macs
from siamtrack.tracking import InferenceOptions
from siamtrack.utils.boxes import xywh_to_cxcywh

from common import REPO, boxes_of, machine_description, timed_tracking, wait_quiet

DEFAULT_CONFIGS = [
    "configs/siamrpn/siamrpn_R_50_l234_dwxcorr.yaml",
    "configs/siamrpn/siamrpn_R_50_std_l234_dwxcorr.yaml",
    "configs/siamrpn/siamrpn_R_18_narrow_l23_dwxcorr_cpu.yaml",
]
DEFAULT_SEQUENCE = "datasets/siamtrack_sample/val/astronaut_gravel"
# Tracker modes: InferenceOptions. "plain" is the reference for differences.
MODES = {
    "plain": InferenceOptions.eager(),
    "fold": InferenceOptions(jit_freeze=False),
    "fold+cl": InferenceOptions(jit_freeze=False, channels_last=True),
    "default": InferenceOptions(),
    "jit+cl": InferenceOptions(channels_last=True),
    "bf16": InferenceOptions(jit_freeze=False, channels_last=True, precision="bf16"),
    "compile": InferenceOptions(jit_freeze=False, compile=True),
    "onnxruntime": InferenceOptions(backend="onnxruntime"),
}


def calibrate_batchnorm(model, template_crops, search_crops) -> None:
    """Set BatchNorm running statistics from real crops (cumulative average), then eval()."""
    norms = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None
    model.train()
    with torch.no_grad():
        for template, search in zip(template_crops, search_crops):
            features = model.encode_template(to_tensor(template))
            model.track(features, to_tensor(search))
    model.eval()


def to_tensor(crop: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(crop).permute(2, 0, 1).unsqueeze(0).contiguous()


def sample_crops(model, frames, boxes, count=8):
    """Template / search crops around the ground truth of evenly spaced frames."""
    templates, searches = [], []
    for k in np.linspace(0, len(frames) - 1, count).astype(int):
        box = xywh_to_cxcywh(boxes[k])
        t_side, s_side = siamese_crop_sides(
            box[2], box[3], 0.5, model.template_size, model.search_size
        )
        pad = mean_color(frames[k])
        templates.append(crop_square(frames[k], box[:2], t_side, model.template_size, pad))
        searches.append(crop_square(frames[k], box[:2], s_side, model.search_size, pad))
    return templates, searches


def count_gmacs(model, template, search):
    """GMAC of the template branch and of one tracking step (cached template features)."""
    with torch.no_grad():
        features = model.encode_template(template)
        return [
            count_macs(TemplateBranch(model), (template,)).total() / 1e9,
            count_macs(TrackStep(model), (search, *features)).total() / 1e9,
        ]


def interleaved_times(functions, repeats: int, warmup: int = 2):
    """Seconds per call of each function, calls interleaved so load changes hit all alike."""
    for fn in functions.values():
        for _ in range(warmup):
            fn()
    times = {name: [] for name in functions}
    for _ in range(repeats):
        for name, fn in functions.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return times


def paired_difference(reference, other, frames, box) -> float:
    """Max box difference (px) when ``other`` is stepped from ``reference``'s state each frame."""
    reference.init(frames[0], box)
    other.init(frames[0], box)
    worst = 0.0
    for frame in frames[1:]:
        other.set_box(reference.box_xywh)
        expected = reference.update(frame).box_xywh
        worst = max(worst, float(np.max(np.abs(other.update(frame).box_xywh - expected))))
    return worst


def benchmark_config(config_file, args, frames, gt_boxes):
    cfg = add_siamtrack_config(get_cfg())
    cfg.merge_from_file(str(REPO / config_file if not os.path.isabs(config_file) else config_file))
    cfg.MODEL.DEVICE = "cpu"
    torch.manual_seed(0)
    model = build_model(cfg).eval()
    templates, searches = sample_crops(model, frames, gt_boxes)
    if args.weights:
        from siamtrack.checkpoint import SiamCheckpointer

        SiamCheckpointer(model).load(args.weights)
    else:
        calibrate_batchnorm(model, templates, searches)
    template, search = to_tensor(templates[0]), to_tensor(searches[0])
    template_gmac, step_gmac = count_gmacs(model, template, search)
    row = {"config": config_file, "template_gmac": template_gmac, "step_gmac": step_gmac}
    hyper = dict(penalty_k=cfg.TRACKER.PENALTY_K, window_influence=cfg.TRACKER.WINDOW_INFLUENCE,
                 lr=cfg.TRACKER.LR, context_amount=cfg.MODEL.SIAMESE.CONTEXT_AMOUNT)  # fmt: skip
    trackers = {
        name: SiamTracker(model=model, **hyper, inference=MODES[name])
        for name in ["plain"] + args.modes
    }
    # float64 copy of the eager model: the noise floor of float32 itself
    reference64 = SiamTracker(
        model=copy.deepcopy(model).double(), **hyper, inference=MODES["plain"]
    )
    idle = wait_quiet(args.wait_quiet) if args.wait_quiet else float("nan")
    row["cpu_idle_before"] = idle

    # Model latency: the plain eager model with autograd (pysot) and each tracker's network.
    search_crop = searches[0]
    features = {name: t.network.encode_template(templates[0][None]) for name, t in trackers.items()}
    calls = {"template branch (eager)": lambda: model.encode_template(template)}
    with torch.enable_grad():
        pysot_features = model.encode_template(template)
    calls["step: eager, autograd on (pysot-like)"] = lambda: _with_grad(
        model.track, pysot_features, search
    )
    for name, tracker in trackers.items():
        calls[f"step: tracker '{name}'"] = lambda t=tracker, f=features[name]: t.network.track(
            f, search_crop[None]
        )
    latency = interleaved_times(calls, args.repeats)
    row["latency_ms"] = {k: (1000 * np.median(v), 1000 * np.min(v)) for k, v in latency.items()}

    # Tracker fps and output differences over the sequence.
    row["trackers"] = {}
    reference_results, _, _ = timed_tracking(trackers["plain"], frames, gt_boxes[0])
    reference_boxes = boxes_of(reference_results)
    for name, tracker in trackers.items():
        # a fresh tracker, so init includes one-off work (the jit trace)
        tracker = trackers[name] = SiamTracker(model=model, **hyper, inference=MODES[name])
        results, step, init_seconds = timed_tracking(tracker, frames, gt_boxes[0])
        boxes = boxes_of(results)
        entry = {"fps_median": 1.0 / np.median(step), "ms_median": 1000 * np.median(step),
                 "ms_min": 1000 * np.min(step), "init_ms": 1000 * init_seconds}  # fmt: skip
        entry["gflops_per_s"] = 2 * step_gmac / np.median(step)
        entry["paired_vs_fp64_px"] = paired_difference(reference64, tracker, frames, gt_boxes[0])
        if name != "plain":
            entry["free_running_max_px"] = float(np.max(np.abs(boxes - reference_boxes)))
            entry["paired_max_px"] = paired_difference(
                trackers["plain"], tracker, frames, gt_boxes[0]
            )
        row["trackers"][name] = entry
    return row


def _with_grad(fn, *args):
    with torch.enable_grad():
        return fn(*args)


def print_row(row) -> None:  # noqa: C901
    print(f"\n== {row['config']}: template {row['template_gmac']:.2f} GMAC, step {row['step_gmac']:.2f} GMAC"
          f" (CPU idle before: {100 * row['cpu_idle_before']:.0f}%)")  # fmt: skip
    for name, (median, minimum) in row["latency_ms"].items():
        print(f"  {name:<42s} median {median:8.1f} ms   min {minimum:8.1f} ms")
    print(f"  {'tracker mode':<10s} {'fps':>6s} {'ms/frame':>9s} {'min ms':>7s} {'init ms':>7s} {'GFLOP/s':>8s}"
          f" {'vs plain px':>12s} {'vs fp64 px':>11s} {'free-run px':>12s}")  # fmt: skip
    for name, e in row["trackers"].items():
        paired = f"{e['paired_max_px']:.1e}" if "paired_max_px" in e else "reference"
        free = f"{e['free_running_max_px']:.1e}" if "free_running_max_px" in e else "-"
        print(f"  {name:<10s} {e['fps_median']:6.2f} {e['ms_median']:9.1f} {e['ms_min']:7.1f} "
              f"{e['init_ms']:7.0f} {e['gflops_per_s']:8.1f} {paired:>12s} "
              f"{e['paired_vs_fp64_px']:11.1e} {free:>12s}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--configs", nargs="+", default=DEFAULT_CONFIGS)
    parser.add_argument("--weights", help="checkpoint (only with a single --configs entry)")
    parser.add_argument("--sequence", default=str(REPO / DEFAULT_SEQUENCE), help="sequence folder")
    parser.add_argument("--frames", type=int, default=40, help="frames of the sequence to track")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=7, help="latency repeats per function")
    parser.add_argument("--modes", nargs="+", default=["fold", "fold+cl", "default", "jit+cl", "bf16"],
                        choices=[m for m in MODES if m != "plain"])  # fmt: skip
    parser.add_argument("--wait-quiet", type=float, default=120, help="max s to wait for idle CPU")
    parser.add_argument("--json", help="also write the numbers to this file")
    args = parser.parse_args()
    if args.weights and len(args.configs) != 1:
        parser.error("--weights needs exactly one --configs entry")
    torch.set_num_threads(args.threads)
    cv2.setNumThreads(1)
    sequence = load_sequence(args.sequence)
    frames = [cv2.imread(p) for p in sequence.frame_paths[: args.frames]]
    print(f"{machine_description()}; {torch.get_num_threads()} threads; torch {torch.__version__}; "
          f"sequence {sequence.name}, {len(frames)} frames")  # fmt: skip
    rows = []
    for config_file in args.configs:
        rows.append(benchmark_config(config_file, args, frames, sequence.boxes_xywh))
        print_row(rows[-1])
        sys.stdout.flush()
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1, default=float) + "\n")


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
