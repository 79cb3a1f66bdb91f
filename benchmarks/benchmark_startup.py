"""Whole-process time of a short real run: siamtrack's track_video.py next to pysot's demo loop.

    python benchmarks/benchmark_startup.py --pysot-root /path/to/pysot

Both sides track the same first ``--frames`` frames of one sequence with the pysot-layout
SiamRPN++ R-50 l234 (random weights, saved once in pysot's state-dict layout so that each side
loads the same file its own way) on ``--threads`` CPU threads, as separate processes started
from nothing: Python start-up, imports, model build, weight loading, init and every update.

- siamtrack: ``tools/track_video.py --config-file configs/siamrpn_R_50_l234_dwxcorr.yaml
  --weights model.pth --input FRAMES --init-box ... --save-boxes boxes.txt``.
- pysot: its ``tools/demo.py`` loop (``ModelBuilder``, ``load_state_dict``, ``build_tracker``,
  ``init`` + ``track`` per frame) without the display window, from a pysot checkout
  (https://github.com/STVIR/pysot; only its Python sources are needed, nothing is compiled).

Runs alternate between the two (``--rounds`` each) and the medians are compared; the issue's
target is a ratio pysot / siamtrack of at least 1.1. The machine line matters: quote ratios.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from detectron2.modeling import build_model

from siamtrack import load_config
from siamtrack.checkpoint import siamtrack_to_pysot_state_dict
from siamtrack.io import load_sequence

from common import REPO, machine_description, wait_quiet

CONFIG = "configs/siamrpn_R_50_l234_dwxcorr.yaml"
PYSOT_CONFIG = "experiments/siamrpn_r50_l234_dwxcorr/config.yaml"
DEFAULT_SEQUENCE = "datasets/siamtrack_sample/val/astronaut_gravel"

# pysot's tools/demo.py tracking loop, display left out; argv: config weights frames... box
PYSOT_DRIVER = """
import sys
import cv2
import torch
from pysot.core.config import cfg
from pysot.models.model_builder import ModelBuilder
from pysot.tracker.tracker_builder import build_tracker

torch.set_num_threads(int(sys.argv[1]))
cfg.merge_from_file(sys.argv[2])
cfg.CUDA = False
model = ModelBuilder()
model.load_state_dict(torch.load(sys.argv[3], map_location="cpu"))
model.eval()
tracker = build_tracker(model)
box = [float(v) for v in sys.argv[4].split(",")]
with open(sys.argv[5], "w") as out:
    for index, path in enumerate(sys.argv[6:]):
        frame = cv2.imread(path)
        if index == 0:
            tracker.init(frame, box)
        else:
            x, y, w, h = tracker.track(frame)["bbox"]
            out.write(f"{x},{y},{w},{h}\\n")
"""


def write_weights(path: Path) -> None:
    """Seeded random R-50 l234 weights in pysot's state-dict layout."""
    torch.manual_seed(0)
    cfg = load_config(str(REPO / CONFIG), ["MODEL.DEVICE", "cpu"])
    model = build_model(cfg)
    torch.save(siamtrack_to_pysot_state_dict(model.state_dict()), path)


def timed(command, env) -> float:
    start = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(f"{command[1]} failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pysot-root", required=True, help="a pysot checkout (STVIR/pysot)")
    parser.add_argument("--sequence", default=str(REPO / DEFAULT_SEQUENCE))
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3, help="runs of each side (median)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--wait-quiet", type=float, default=120, help="max s to wait for idle CPU")
    args = parser.parse_args()
    pysot_root = Path(args.pysot_root).resolve()
    if not (pysot_root / "pysot" / "models" / "model_builder.py").is_file():
        parser.error(f"--pysot-root {pysot_root} is not a pysot checkout (no pysot/models/)")
    sequence = load_sequence(args.sequence)
    frames = [str(p) for p in sequence.frame_paths[: args.frames]]
    box = ",".join(f"{v:g}" for v in sequence.boxes_xywh[0])
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        weights, driver, frame_dir = tmp / "model.pth", tmp / "pysot_demo.py", tmp / "frames"
        write_weights(weights)
        driver.write_text(PYSOT_DRIVER)
        frame_dir.mkdir()
        for path in frames:
            (frame_dir / Path(path).name).symlink_to(path)
        commands = {
            "siamtrack track_video.py": lambda k: [
                sys.executable, str(REPO / "tools" / "track_video.py"),
                "--config-file", str(REPO / CONFIG), "--weights", str(weights),
                "--input", str(frame_dir), "--init-box", box,
                "--save-boxes", str(tmp / f"siamtrack_{k}.txt"), "--device", "cpu",
            ],
            "pysot demo loop": lambda k: [
                sys.executable, str(driver), str(args.threads),
                str(pysot_root / PYSOT_CONFIG), str(weights), box, str(tmp / f"pysot_{k}.txt"),
                *frames,
            ],
        }  # fmt: skip
        pysot_env = dict(env, PYTHONPATH=f"{pysot_root}{os.pathsep}{env.get('PYTHONPATH', '')}")
        idle = wait_quiet(args.wait_quiet) if args.wait_quiet else float("nan")
        print(f"{machine_description()}; {args.threads} threads; torch {torch.__version__}; "
              f"idle before start {100 * idle:.0f} %")  # fmt: skip
        print(
            f"{sequence.name}: {len(frames)} frames, R-50 l234 pysot layout, {args.rounds} rounds"
        )
        seconds = {name: [] for name in commands}
        for k in range(args.rounds):
            for name, command in commands.items():
                run_env = pysot_env if name.startswith("pysot") else env
                seconds[name].append(timed(command(k), run_env))
                print(f"  round {k}: {name} {seconds[name][-1]:.2f} s", file=sys.stderr)
    medians = {name: statistics.median(values) for name, values in seconds.items()}
    print(f"\n{'process':<28} {'median s':>9} {'runs':>30}")
    for name, values in seconds.items():
        print(f"{name:<28} {medians[name]:9.2f} {' '.join(f'{v:.2f}' for v in values):>30}")
    ratio = medians["pysot demo loop"] / medians["siamtrack track_video.py"]
    print(f"\npysot / siamtrack whole process: {ratio:.2f}x (target >= 1.1x)")


if __name__ == "__main__":
    main()
