"""The torch-free tracker: a runtime record kept when a tracker is built from a config rebuilds
it without torch, with the same boxes (NanoTrack v3 on a real sequence, presence and
re-detection on, one and several targets); the record's key (config, overrides, weights
bytes), damaged records and an unwritable cache."""

import argparse
import glob
import json
import os
import logging
import shutil
import subprocess
import sys

import cv2
import numpy as np
import pytest

from siamtrack.config import config_from_args
from siamtrack.export.graphs import default_num_threads
from siamtrack.io.sequences import load_sequence
from siamtrack.tracking import MultiTargetTracker, SiamTracker
from siamtrack.tracking import runtime_record
from siamtrack.tracking.engine import MultiTargetEngine
from siamtrack.tracking.graph_backend import OnnxGraphBackend
from siamtrack.tracking.presence import PresenceModel
from siamtrack.tracking.runtime_record import (
    RuntimeRequest,
    load_runtime_tracker,
    runtime_key,
    save_runtime_record,
)
from siamtrack.tracking.search import (
    SEARCH_STRATEGY_REGISTRY,
    PenaltyWindowSearch,
    build_search_strategy,
    search_strategy_from_settings,
)
from siamtrack.tracking.single_target import SingleTargetTracker

from ..conftest import CONFIGS_DIR, REPO_ROOT

V3_CONFIG = CONFIGS_DIR / "nanotrack" / "nanotrack_v3.yaml"
# presence and re-detection on (the v3 config's presence model and LONG_TERM), with a high
# threshold so that targets are reported lost and the re-detection tiles run
LOST_OFTEN = ["TRACKER.PRESENCE_THRESHOLD", "0.9", "TRACKER.REDETECT_AFTER", "1"]


def request_args(weights, config_file=V3_CONFIG, opts=()):
    return argparse.Namespace(
        config_file=str(config_file),
        weights=str(weights),
        opts=list(opts),
        device="cpu",
        trust_weights=False,
    )


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty cache root of this test."""
    monkeypatch.setenv("SIAMTRACK_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture(scope="module")
def crossing(shared_data):
    sequence = load_sequence(shared_data / "sequences" / "Crossing")
    return [cv2.imread(str(p)) for p in sequence.frame_paths], sequence.boxes_xywh


def build_and_record(args, num_targets=1):
    """The config path: the tracker built from the config, its record saved."""
    cfg = config_from_args(args)
    tracker = (MultiTargetTracker if num_targets > 1 else SiamTracker)(cfg)
    path = save_runtime_record(RuntimeRequest.from_args(args), tracker, cfg)
    return tracker, path


def run(tracker, frames, init):
    """Per frame: the results and how many candidates each target had (> 1: re-detection)."""
    results, candidates = [tracker.init(frames[0], init)], []
    engine = tracker.engine if isinstance(tracker, SingleTargetTracker) else tracker
    for frame in frames[1:]:
        results.append(tracker.update(frame))
        candidates.append({i: len(c) for i, c in engine.last_candidates.items()})
    return results, candidates


def as_rows(result):
    targets = result.targets.items() if hasattr(result, "targets") else [(None, result)]
    return [
        (i, *r.box_xywh.tolist(), r.score, r.confidence, r.present, r.frame_index)
        for i, r in targets
    ]


@pytest.mark.parametrize("num_targets", [1, 3])
def test_the_torch_free_tracker_tracks_as_the_config_one(
    nanotrack_weights, crossing, cache, num_targets
):
    frames, truth = crossing
    args = request_args(nanotrack_weights / "nanotrackv3.pth", opts=LOST_OFTEN)
    built, path = build_and_record(args, num_targets)
    assert path is not None and path.is_file()
    rebuilt = load_runtime_tracker(RuntimeRequest.from_args(args), num_targets)
    assert rebuilt is not None and not isinstance(rebuilt, (SiamTracker, MultiTargetTracker))
    assert isinstance(rebuilt, SingleTargetTracker if num_targets == 1 else MultiTargetEngine)
    engine = rebuilt.engine if num_targets == 1 else rebuilt
    assert isinstance(engine.network, OnnxGraphBackend) and isinstance(
        engine.presence, PresenceModel
    )
    assert engine.long_term and engine.presence_threshold == 0.9 and engine.redetect_after == 1
    assert engine.network.description == built.network.description == "onnxruntime on cpu"
    if num_targets == 1:
        init = truth[0]
    else:  # the pedestrian and two other places of the first frame
        init = {0: truth[0], "b": [100, 100, 30, 40], 2: [20, 200, 40, 40]}
    expected, expected_candidates = run(built, frames, init)
    got, got_candidates = run(rebuilt, frames, init)
    assert [as_rows(r) for r in got] == [as_rows(r) for r in expected]
    assert got_candidates == expected_candidates
    assert any(n > 1 for frame in got_candidates for n in frame.values())  # re-detection ran
    assert repr(rebuilt).split("(", 1)[1] == repr(built).split("(", 1)[1]


@pytest.fixture
def recorded(nanotrack_weights, cache, tmp_path):
    """A config (a child of the v3 one) and a weights file of this test, with a record."""
    config = tmp_path / "child.yaml"
    config.write_text(f"_BASE_: {V3_CONFIG}\nTRACKER:\n  LR: 0.35\n")
    weights = tmp_path / "weights.pth"
    shutil.copyfile(nanotrack_weights / "nanotrackv3.pth", weights)
    args = request_args(weights, config)
    _, path = build_and_record(args)
    assert path is not None
    return args, config, weights, path


def test_a_record_is_found_only_for_the_same_config_opts_and_weights(recorded):
    args, config, weights, path = recorded
    assert isinstance(load_runtime_tracker(RuntimeRequest.from_args(args)), SingleTargetTracker)
    assert load_runtime_tracker(RuntimeRequest.from_args(args)).lr == 0.35

    def found(**changes):
        return load_runtime_tracker(
            RuntimeRequest.from_args(argparse.Namespace(**{**vars(args), **changes}))
        )

    assert found(opts=["TRACKER.LR", "0.3"]) is None
    assert found(device="auto") is None  # another request, even if it resolves alike
    assert found(trust_weights=True) is None
    original = config.read_text()
    config.write_text(original + "# a comment changes the bytes\n")
    assert found() is None
    config.write_text(original)
    data = weights.read_bytes()
    weights.write_bytes(data + b"\0")
    assert found() is None
    weights.write_bytes(data)
    assert found() is not None
    assert runtime_key(RuntimeRequest.from_args(args))[0] == path.stem


def test_a_changed_base_config_or_no_weights_gives_no_record(recorded, tmp_path):
    args, config, weights, _ = recorded
    base = tmp_path / "Base.yaml"
    base.write_text(
        V3_CONFIG.read_text().replace(
            "Base-NanoTrack.yaml", str(V3_CONFIG.parent / "Base-NanoTrack.yaml")
        )
    )
    config.write_text(f"_BASE_: {base.name}\nTRACKER:\n  LR: 0.35\n")  # relative to the file
    key = runtime_key(RuntimeRequest.from_args(args))[0]
    base.write_text(base.read_text() + "# changed\n")
    assert runtime_key(RuntimeRequest.from_args(args))[0] != key
    no_weights = argparse.Namespace(**{**vars(args), "weights": None})
    assert runtime_key(RuntimeRequest.from_args(no_weights)) is None  # random model


def edit_record(record_path, entry):
    document = json.loads(record_path.read_text())
    document["content"]["presence_threshold"] = 0.01
    record_path.write_text(json.dumps(document))


def truncate_record(record_path, entry):
    record_path.write_bytes(record_path.read_bytes()[:200])


def corrupt_track_graph(record_path, entry):
    data = bytearray((entry / "track.onnx").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (entry / "track.onnx").write_bytes(bytes(data))


def remove_graph_entry(record_path, entry):
    shutil.rmtree(entry)


@pytest.mark.parametrize(
    "damage", [edit_record, truncate_record, corrupt_track_graph, remove_graph_entry]
)
def test_a_damaged_record_is_ignored_with_a_warning_and_rebuilt(recorded, caplog, damage):
    args, _, _, path = recorded
    entry = (
        runtime_record.graph_cache_dir()
        / json.loads(path.read_text())["content"]["graphs"]["entry"]
    )
    damage(path, entry)
    request = RuntimeRequest.from_args(args)
    with caplog.at_level(logging.WARNING, logger="siamtrack.tracking.runtime_record"):
        assert load_runtime_tracker(request) is None
    warnings = [r.message for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "is unusable" in warnings[0] and str(path) in warnings[0]
    build_and_record(args)  # the config path writes it again
    assert isinstance(load_runtime_tracker(request), SingleTargetTracker)


def test_a_changed_presence_model_file_makes_the_record_stale(recorded, tmp_path, caplog):
    args, config, _, _ = recorded
    presence = tmp_path / "presence.json"
    shutil.copyfile(CONFIGS_DIR / "nanotrack" / "presence" / "nanotrack_v3.json", presence)
    args = argparse.Namespace(**{**vars(args), "opts": ["TRACKER.PRESENCE_MODEL", str(presence)]})
    build_and_record(args)
    request = RuntimeRequest.from_args(args)
    assert load_runtime_tracker(request).engine.presence.source == str(presence)
    data = json.loads(presence.read_text())
    data["bias"] += 1.0
    presence.write_text(json.dumps(data))
    with caplog.at_level(logging.WARNING, logger="siamtrack.tracking.runtime_record"):
        assert load_runtime_tracker(request) is None
    assert any("changed since the record was written" in r.message for r in caplog.records)


def test_the_torch_backend_and_strategies_without_settings_get_no_record(recorded):
    args, _, _, _ = recorded
    torch_args = argparse.Namespace(**{**vars(args), "opts": ["TRACKER.BACKEND", "torch"]})
    _, path = build_and_record(torch_args)
    assert path is None and load_runtime_tracker(RuntimeRequest.from_args(torch_args)) is None


def test_an_unwritable_cache_tracks_with_one_warning(
    track_video_tool_module, nanotrack_weights, shared_data, tmp_path, monkeypatch, caplog
):
    from siamtrack.export import graph_cache

    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where the cache folder should be")
    monkeypatch.setenv("SIAMTRACK_CACHE_DIR", str(blocker / "cache"))
    monkeypatch.setattr(graph_cache, "_unwritable_warned", set())
    monkeypatch.setattr(runtime_record, "_unwritable_warned", set())
    frames = str(shared_data / "sequences" / "Crossing" / "img" / "0000[1-5].jpg")
    common = ["--no-progress", "--input", frames, "--init-box", "204,150,17,50",
              "--weights", str(nanotrack_weights / "nanotrackv3.pth"),
              "--config-file", str(V3_CONFIG), "--device", "cpu"]  # fmt: skip
    with caplog.at_level(logging.WARNING):
        for k in range(2):
            assert (
                track_video_tool_module.main(common + ["--save-boxes", str(tmp_path / f"{k}.txt")])
                == 0
            )
    warnings = [r.message for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "cannot write the ONNX graph cache" in warnings[0], warnings
    assert (tmp_path / "0.txt").read_bytes() == (tmp_path / "1.txt").read_bytes()


@pytest.fixture
def track_video_tool_module():
    from ..tools.conftest import load_tool

    return load_tool("track_video")


# the tool in a fresh interpreter; prints whether torch / detectron2 got imported
TOOL_WRAPPER = """
import runpy, sys
sys.argv = ["track_video.py"] + sys.argv[1:]
code = 0
try:
    runpy.run_path("tools/track_video.py", run_name="__main__")
except SystemExit as exit:
    code = exit.code
heavy = sorted({m.split(".")[0] for m in sys.modules} & {"torch", "detectron2", "torchvision"})
print("HEAVY MODULES:", ",".join(heavy) or "none")
sys.exit(code)
"""


def summary_without_timings(stdout):
    """The printed summary with the speed and init time (they differ per run) left out."""
    lines = [line for line in stdout.splitlines() if not line.startswith("HEAVY MODULES")]
    return [line.split(": ", 1)[0] if " fps " in line else line for line in lines]


@pytest.mark.parametrize("targets", [1, 2])
def test_the_second_run_of_the_tool_needs_no_torch_and_writes_the_same(
    nanotrack_weights, shared_data, tmp_path, targets
):
    """Run 1 builds the tracker from the config (torch) and keeps the record; run 2 rebuilds
    it without importing torch or detectron2. Boxes files, video and summary are the same."""
    boxes = ["--init-box", "204,150,17,50"] + ["--init-box", "100,100,30,40"] * (targets - 1)
    env = dict(
        os.environ,
        SIAMTRACK_CACHE_DIR=str(tmp_path / "cache"),
        SIAMTRACK_WEIGHTS_DIR=str(nanotrack_weights),
    )
    frames = str(shared_data / "sequences" / "Crossing" / "img" / "000[0-2]*.jpg")
    outputs = []
    for k in range(2):
        out = tmp_path / f"run{k}"
        command = [sys.executable, "-c", TOOL_WRAPPER, "--weights", "nanotrack_v3",
                   "--input", frames,
                   *boxes, "--save-boxes", str(out / "boxes.txt"), "--output",
                   str(out / "video.mp4"), "--no-progress", "--device", "cpu"]  # fmt: skip
        result = subprocess.run(
            command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300
        )
        assert result.returncode == 0, result.stderr[-3000:]
        heavy = [line for line in result.stdout.splitlines() if line.startswith("HEAVY")]
        outputs.append((out, heavy[0], result.stdout.replace(str(out), "OUT")))
    (first, first_heavy, first_stdout), (second, second_heavy, second_stdout) = outputs
    assert "torch" in first_heavy and second_heavy == "HEAVY MODULES: none"
    assert summary_without_timings(first_stdout) == summary_without_timings(second_stdout)
    names = sorted(p.name for p in first.iterdir())
    assert names == sorted(p.name for p in second.iterdir()) and len(names) == targets + 1
    for name in names:
        if name.endswith(".txt"):
            assert (first / name).read_bytes() == (second / name).read_bytes(), name
    videos = [cv2.VideoCapture(str(folder / "video.mp4")) for folder in (first, second)]
    count = 0
    while True:
        (ok_a, frame_a), (ok_b, frame_b) = (video.read() for video in videos)
        assert ok_a == ok_b
        if not ok_a:
            break
        assert np.array_equal(frame_a, frame_b)
        count += 1
    assert count == len(glob.glob(frames)) > 20


def test_search_strategies_rebuild_from_their_settings():
    strategy = PenaltyWindowSearch(template_size=127, search_size=255, penalty_k=0.1, lr=0.3)
    rebuilt = search_strategy_from_settings("PenaltyWindowSearch", strategy.settings())
    assert type(rebuilt) is PenaltyWindowSearch and rebuilt.settings() == strategy.settings()
    assert SEARCH_STRATEGY_REGISTRY.get("PenaltyWindowSearch") is PenaltyWindowSearch
    with pytest.raises(ValueError, match="not a registered search strategy"):
        search_strategy_from_settings("NoSuchSearch", {})


def test_a_configurable_strategy_registers_and_builds_from_a_config():
    """A family's strategy with detectron2's ``@configurable`` (as before) still builds."""
    from detectron2.config import configurable

    from .tiny_model import tiny_cfg

    @SEARCH_STRATEGY_REGISTRY.register()
    class ProbeConfigurableSearch(PenaltyWindowSearch):
        @configurable
        def __init__(self, *, template_size, search_size, lr=0.4):
            super().__init__(template_size=template_size, search_size=search_size, lr=lr)

        @classmethod
        def from_config(cls, cfg, template_size, search_size):
            return {"template_size": template_size, "search_size": search_size, "lr": 0.25}

    cfg = tiny_cfg("TRACKER.SEARCH", "ProbeConfigurableSearch")
    strategy = build_search_strategy(cfg, 63, 127)
    assert type(strategy) is ProbeConfigurableSearch and strategy.lr == 0.25
    assert "ProbeConfigurableSearch" in SEARCH_STRATEGY_REGISTRY


def test_the_default_thread_count_is_torch_s():
    code = (
        "import sys\n"
        "from siamtrack.export.graphs import default_num_threads\n"
        "n = default_num_threads()\n"
        "assert 'torch' not in sys.modules\n"
        "import torch\n"
        "assert n == torch.get_num_threads(), (n, torch.get_num_threads())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO_ROOT
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert default_num_threads() >= 1
