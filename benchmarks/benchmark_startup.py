"""Whole-process start-up: ``tools/track_video.py`` from a cold process to its first tracked
frame (first run, second run) next to OpenCV's ``cv2.TrackerNano``, and (with ``--pysot-root``)
a short R-50 run next to pysot.

    python benchmarks/benchmark_startup.py                          # NanoTrack v3 first frame
    python benchmarks/benchmark_startup.py --pysot-root /path/to/pysot   # + R-50 vs pysot

**First frame (default).** Every process starts from nothing (Python start-up, imports, model,
weights, graphs, reading the video, ``init`` and one ``update``) on a 2-frame video cut from
the bundled sample (``astronaut_gravel``: its first two frames, written once with
``cv2.VideoWriter``), ``--threads`` threads:

- siamtrack ``tools/track_video.py --weights nanotrack_v3 --input first_frames.mp4
  --init-box ... --save-boxes boxes.txt`` (the default onnxruntime backend), twice on an empty
  cache (``$SIAMTRACK_CACHE_DIR`` a new folder per round): the **first run** imports torch and
  detectron2, builds the model, exports the ONNX graphs and keeps them with the tracker's
  runtime record; the **second run** finds the record and builds the tracker from it without
  torch (``siamtrack/tracking/runtime_record.py``). Both must write the same boxes (checked);
- a plain Python script: ``import cv2``, ``cv2.TrackerNano`` with NanoTrack's official v2 ONNX
  files (OpenCV cannot run v3), read the same two frames, ``init``, ``update``.

Rounds alternate the three (``--rounds`` each, after one untimed warm-up round); medians are
compared (target: the second run within 1 s of OpenCV's script). The processes keep Python's
bytecode cache in a temporary folder (``PYTHONPYCACHEPREFIX``; an installed package has its
``.pyc`` files), so ``PYTHONDONTWRITEBYTECODE`` in the environment does not add compiling to
every run. The CPU's idle fraction is measured for 1 s before each round (a shared, busy
machine slows all three; the medians are printed with it). ``--breakdown`` then times the
phases of the second run in one process (imports, runtime record, tracker, frames, init,
update).

**R-50 vs pysot (``--pysot-root``).** Both sides track the same first ``--frames`` frames of one
sequence with the pysot-layout SiamRPN++ R-50 l234 (random weights, saved once in pysot's
state-dict layout so that each side loads the same file its own way) on ``--threads`` CPU
threads, as separate processes started from nothing:

- siamtrack: ``tools/track_video.py --config-file configs/siamrpn/siamrpn_R_50_l234_dwxcorr.yaml
  --weights model.pth --input FRAMES --init-box ... --save-boxes boxes.txt``.
- pysot: its ``tools/demo.py`` loop (``ModelBuilder``, ``load_state_dict``, ``build_tracker``,
  ``init`` + ``track`` per frame) without the display window, from a pysot checkout
  (https://github.com/STVIR/pysot; only its Python sources are needed, nothing is compiled).

Runs alternate between the two (``--rounds`` each) and the medians are compared (pysot /
siamtrack, higher is better for siamtrack). The machine line matters: quote ratios.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import onnxruntime
import torch
from detectron2.modeling import build_model

from siamtrack import load_config
from siamtrack.families.siamrpn import siamtrack_to_pysot_state_dict
from siamtrack.io import load_sequence

from common import REPO, SHARED, cpu_idle_fraction, machine_description, wait_quiet

NANO_SEQUENCE = "datasets/siamtrack_sample/val/astronaut_gravel"
NANO_ONNX = SHARED / "weights" / "nanotrack" / "onnx" / "v2"
OPENCV_NANO_FILES = ("nanotrack_backbone_sim_v2.onnx", "nanotrack_head_sim_v2.onnx")
CONFIG = "configs/siamrpn/siamrpn_R_50_l234_dwxcorr.yaml"
PYSOT_CONFIG = "experiments/siamrpn_r50_l234_dwxcorr/config.yaml"
DEFAULT_SEQUENCE = "datasets/siamtrack_sample/val/astronaut_gravel"

# pysot's tools/demo.py tracking loop, display left out; argv: config weights frames... box
PYSOT_DRIVER = """
import sys
import cv2
import onnxruntime
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


# cv2.TrackerNano on the first two frames; argv: threads backbone head video box
OPENCV_NANO_DRIVER = """
import sys
import cv2

cv2.setNumThreads(int(sys.argv[1]))
params = cv2.TrackerNano_Params()
params.backbone, params.neckhead = sys.argv[2], sys.argv[3]
tracker = cv2.TrackerNano.create(params)
capture = cv2.VideoCapture(sys.argv[4])
frames = [capture.read()[1] for _ in range(2)]
tracker.init(frames[0], tuple(int(round(float(v))) for v in sys.argv[5].split(",")))
ok, box = tracker.update(frames[1])
print(ok, box)
"""

# The second siamtrack run in one process, phase by phase, as tools/track_video.py does it
# (the runtime record, no torch); argv: video box
BREAKDOWN_DRIVER = """
import sys, time
start = time.perf_counter()
marks = []
def mark(name):
    marks.append((name, time.perf_counter()))
import numpy, cv2
mark("import numpy, cv2")
import onnxruntime
mark("import onnxruntime")
from siamtrack.cli import add_model_arguments
from siamtrack.io import open_frame_source
from siamtrack.tracking.runtime_record import RuntimeRequest, load_runtime_tracker, runtime_key
from siamtrack.tracking.video_runner import BoxesFileWriter, track_video
mark("import siamtrack (cli, io, runtime record, video runner)")
args = type("Args", (), dict(config_file=None, weights="nanotrack_v3", opts=[], device="cpu",
                             trust_weights=False))
request = RuntimeRequest.from_args(args)
runtime_key(request)
mark("the record's key (config files, weights sha256, sources)")
tracker = load_runtime_tracker(request)
assert tracker is not None, "no runtime record: run the tool once first"
mark("the tracker from the record (graphs read and checked, onnxruntime set up)")
with open_frame_source(sys.argv[1]) as source:
    frames = [frame for _, frame in source]
mark("read two frames")
tracker.init(frames[0], [float(v) for v in sys.argv[2].split(",")])
mark("init")
tracker.update(frames[1])
mark("first update")
assert not [m for m in sys.modules if m.split(".")[0] in ("torch", "detectron2")]
previous = start
for name, at in marks:
    print(f"{name:<76} {at - previous:6.2f} s")
    previous = at
print(f"{'total (after Python start-up; no torch imported)':<76} {previous - start:6.2f} s")
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


def write_first_frames(sequence, path: Path, count: int = 2) -> None:
    """The first ``count`` frames of ``sequence`` as a video (mp4v)."""
    first = cv2.imread(str(sequence.frame_paths[0]))
    height, width = first.shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 25, (width, height))
    for frame_path in sequence.frame_paths[:count]:
        writer.write(cv2.imread(str(frame_path)))
    writer.release()


def first_frame_startup(args, env) -> None:
    """NanoTrack v3 to its first tracked frame (first run, second run) next to cv2.TrackerNano."""
    sequence = load_sequence(REPO / NANO_SEQUENCE)
    box = ",".join(f"{v:g}" for v in sequence.boxes_xywh[0])
    env = dict(env)
    env.setdefault("SIAMTRACK_WEIGHTS_DIR", str(SHARED / "weights" / "nanotrack"))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        video, driver = tmp / "first_frames.mp4", tmp / "opencv_nano.py"
        write_first_frames(sequence, video)
        driver.write_text(OPENCV_NANO_DRIVER)
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # bytecode kept as installed packages keep it
        env["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")

        def siamtrack_command(k, label):
            return [
                sys.executable, str(REPO / "tools" / "track_video.py"), "--weights",
                "nanotrack_v3", "--input", str(video), "--init-box", box, "--save-boxes",
                str(tmp / f"boxes_{label}_{k}.txt"), "--no-progress", "--device", "cpu",
            ]  # fmt: skip

        opencv_command = [
            sys.executable, str(driver), str(args.threads),
            *(str(NANO_ONNX / name) for name in OPENCV_NANO_FILES), str(video), box,
        ]  # fmt: skip
        names = ("siamtrack v3, first run", "siamtrack v3, second run", "cv2.TrackerNano script")
        seconds = {name: [] for name in names}
        idle = []
        for k in range(-1, args.rounds):  # round -1: warm-up (bytecode, disk caches), untimed
            cache = tmp / f"cache_{k}"  # empty: the first run exports, the second reads
            run_env = dict(env, SIAMTRACK_CACHE_DIR=str(cache))
            idle_now = cpu_idle_fraction(1.0)
            times = [
                timed(siamtrack_command(k, "first"), run_env),
                timed(siamtrack_command(k, "second"), run_env),
                timed(opencv_command, env),
            ]
            first, second = (tmp / f"boxes_{label}_{k}.txt" for label in ("first", "second"))
            if first.read_bytes() != second.read_bytes():
                raise RuntimeError(f"the two runs wrote different boxes: {first}, {second}")
            if k < 0:
                continue
            idle.append(idle_now)
            for name, value in zip(names, times):
                seconds[name].append(value)
            print(f"  round {k}: " + ", ".join(f"{n} {v:.2f} s" for n, v in zip(names, times))
                  + f" (CPU idle before: {100 * idle_now:.0f} %)", file=sys.stderr)  # fmt: skip
        medians = {name: statistics.median(values) for name, values in seconds.items()}
        print(
            f"\nNanoTrack, cold process to the first tracked frame ({args.rounds} rounds; CPU idle "
            f"before the rounds: median {100 * statistics.median(idle):.0f} %, "
            f"min {100 * min(idle):.0f} %)"
        )
        print(f"{'process':<30} {'median s':>9}   runs")
        for name, values in seconds.items():
            print(f"{name:<30} {medians[name]:9.2f}   {' '.join(f'{v:.2f}' for v in values)}")
        gap = medians[names[1]] - medians[names[2]]
        print(f"second run - OpenCV script: {gap:+.2f} s (target: at most +1 s); the runtime "
              f"record saves {medians[names[0]] - medians[names[1]]:.2f} s")  # fmt: skip
        if args.breakdown:
            breakdown = tmp / "breakdown.py"
            breakdown.write_text(BREAKDOWN_DRIVER)
            run_env = dict(env, SIAMTRACK_CACHE_DIR=str(tmp / "cache_0"))
            command = [sys.executable, str(breakdown), str(video), box]
            result = subprocess.run(command, env=run_env, capture_output=True, text=True)
            print("\nphases of the second siamtrack run (one process, as the tool does it):")
            print(result.stdout if result.returncode == 0 else result.stderr[-3000:])


def pysot_comparison(args, env) -> None:
    """R-50 l234 on the first ``--frames`` frames: track_video.py next to pysot's demo loop."""
    pysot_root = Path(args.pysot_root).resolve()
    if not (pysot_root / "pysot" / "models" / "model_builder.py").is_file():
        raise SystemExit(f"--pysot-root {pysot_root} is not a pysot checkout (no pysot/models/)")
    sequence = load_sequence(args.sequence)
    frames = [str(p) for p in sequence.frame_paths[: args.frames]]
    box = ",".join(f"{v:g}" for v in sequence.boxes_xywh[0])
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
        print(
            f"\n{sequence.name}: {len(frames)} frames, R-50 l234 pysot layout, {args.rounds} rounds"
        )
        seconds = {name: [] for name in commands}
        for k in range(args.rounds):
            for name, command in commands.items():
                run_env = pysot_env if name.startswith("pysot") else env
                seconds[name].append(timed(command(k), run_env))
                print(f"  round {k}: {name} {seconds[name][-1]:.2f} s", file=sys.stderr)
    medians = {name: statistics.median(values) for name, values in seconds.items()}
    print(f"{'process':<28} {'median s':>9} {'runs':>30}")
    for name, values in seconds.items():
        print(f"{name:<28} {medians[name]:9.2f} {' '.join(f'{v:.2f}' for v in values):>30}")
    ratio = medians["pysot demo loop"] / medians["siamtrack track_video.py"]
    print(f"\npysot / siamtrack whole process: {ratio:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="runs of each process (median)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--breakdown", action="store_true", help="time the cached run's phases")
    parser.add_argument("--wait-quiet", type=float, default=120, help="max s to wait for idle CPU")
    parser.add_argument("--pysot-root", help="a pysot checkout (STVIR/pysot): also R-50 vs pysot")
    parser.add_argument("--sequence", default=str(REPO / DEFAULT_SEQUENCE), help="(pysot part)")
    parser.add_argument("--frames", type=int, default=40, help="(pysot part) frames to track")
    args = parser.parse_args()
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads))
    # the tools import siamtrack from this checkout, installed or not
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    idle = wait_quiet(args.wait_quiet) if args.wait_quiet else float("nan")
    print(f"{machine_description()}; {args.threads} threads; torch {torch.__version__}, "
          f"onnxruntime {onnxruntime.__version__}, OpenCV {cv2.__version__}; CPU idle before "
          f"start {100 * idle:.0f} %")  # fmt: skip
    first_frame_startup(args, env)
    if args.pysot_root:
        pysot_comparison(args, env)
    print(f"CPU idle after the runs: {100 * cpu_idle_fraction(3.0):.0f} %")


if __name__ == "__main__":
    main()
