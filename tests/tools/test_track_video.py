"""tools/track_video.py end to end with a tiny random-weights model."""

import json
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest

from siamtrack.io import read_boxes_file
from siamtrack.io.video import open_frame_source

from ..conftest import REPO_ROOT
from ..tracking.tiny_model import write_tiny_config
from .test_video_sources import write_video


@pytest.fixture(scope="module")
def tiny_config(tmp_path_factory):
    return str(write_tiny_config(tmp_path_factory.mktemp("cfg")))


def _run(tool, *args):
    return tool.main(["--no-progress"] + [str(a) for a in args])  # --opts must come last


def test_generated_video_end_to_end(track_video_tool, tiny_config, tmp_path, capsys):
    write_video(tmp_path / "in.mp4", num_frames=10)
    code = _run(track_video_tool, "--input", tmp_path / "in.mp4", "--init-box", "50,40,24,30",
                "--config-file", tiny_config, "--output", tmp_path / "out" / "tracked.mp4",
                "--save-boxes", tmp_path / "out" / "boxes.json", "--device", "cpu",
                "--opts", "TRACKER.LR", "0.3")  # fmt: skip
    printed = capsys.readouterr().out
    assert code == 0 and "tracked 10 frames" in printed and "fps" in printed
    data = json.loads((tmp_path / "out" / "boxes.json").read_text())
    assert [r["frame"] for r in data["frames"]] == list(range(10))
    assert data["frames"][0]["box_xywh"] == [50, 40, 24, 30] and data["frames"][0]["score"] == 1.0
    with open_frame_source(str(tmp_path / "out" / "tracked.mp4")) as video:
        assert len(list(video)) == 10
    assert sorted(os.listdir(tmp_path / "out")) == ["boxes.json", "tracked.mp4"]
    # refuses to overwrite, then --force replaces
    code = _run(
        track_video_tool,
        "--input",
        tmp_path / "in.mp4",
        "--init-box",
        "50,40,24,30",
        "--config-file",
        tiny_config,
        "--output",
        tmp_path / "out" / "tracked.mp4",
    )
    assert code == 2 and "already exists; pass --force" in capsys.readouterr().err
    code = _run(
        track_video_tool,
        "--input",
        tmp_path / "in.mp4",
        "--init-box",
        "50",
        "40",
        "24",
        "30",
        "--config-file",
        tiny_config,
        "--output",
        tmp_path / "out" / "tracked.mp4",
        "--force",
    )
    assert code == 0


def test_crossing_video_rows_match_frames(track_video_tool, tiny_config, shared_data, tmp_path):
    video = shared_data / "sequences" / "Crossing" / "Crossing.mp4"
    first_box = ",".join(
        open(shared_data / "sequences" / "Crossing" / "groundtruth.txt").readline().split(",")
    )
    code = _run(
        track_video_tool,
        "--input",
        video,
        "--init-box",
        first_box.strip(),
        "--config-file",
        tiny_config,
        "--output",
        tmp_path / "crossing.avi",
        "--save-boxes",
        tmp_path / "crossing.csv",
    )
    assert code == 0
    (rows,) = read_boxes_file(tmp_path / "crossing.csv").values()
    frames, boxes, scores = rows.frames, rows.boxes_xywh, rows.scores
    np.testing.assert_array_equal(frames, np.arange(120))
    np.testing.assert_array_equal(boxes[0], [204, 150, 17, 50])
    assert np.all(np.isfinite(boxes)) and np.all((scores >= 0) & (scores <= 1))
    with open_frame_source(str(tmp_path / "crossing.avi")) as out:
        assert out.num_frames == 120


@pytest.mark.parametrize(
    "args, message",
    [
        (["--init-box", "a,b,c,d"], "--init-box 'a,b,c,d' is not numeric"),
        (["--init-box", "1,2,3"], "has 3 numbers"),
        (["--init-box", "10,10,0,20"], "positive width and height"),
        (["--init-box", "500,10,20,20"], "outside the 160x120 image"),
        (
            ["--init-box", "10,10,20,20", "--input", "{tmp}/missing.mp4"],
            "missing.mp4' does not exist",
        ),
        (["--init-box", "10,10,20,20", "--input", "63"], "camera 63 could not be opened"),
        (
            ["--init-box", "10,10,20,20", "--output", "{tmp}/file.txt/out.mp4"],
            "cannot create the folder",
        ),
        (
            ["--init-box", "10,10,20,20", "--save-boxes", "{tmp}/boxes.xml"],
            "extension must be one of",
        ),
        (
            ["--init-box", "10,10,20,20", "--confidence-plot", "{tmp}/plot.jpg"],
            "confidence plot '",
        ),
        (["--init-box", "10,10,20,20", "--opts", "TRACKER.NOPE", "1"], "TRACKER.NOPE"),
        (
            ["--init-box", "10,10,20,20", "--weights", "{tmp}/none.pth"],
            "none.pth not found (MODEL.WEIGHTS)",
        ),
    ],
)
def test_bad_input_gives_a_clear_message(
    track_video_tool, tiny_config, tmp_path, capsys, args, message
):
    write_video(tmp_path / "in.mp4", num_frames=3)
    (tmp_path / "file.txt").write_text("x")
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    if "--input" not in args:
        args = ["--input", str(tmp_path / "in.mp4")] + args
    code = _run(track_video_tool, "--config-file", tiny_config, *args)
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err
    assert sorted(os.listdir(tmp_path)) == ["file.txt", "in.mp4"]  # nothing left behind


def test_headless_without_init_box_is_a_one_line_error(tiny_config, tmp_path):
    write_video(tmp_path / "in.mp4", num_frames=2)
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    process = subprocess.run(
        [sys.executable, str(REPO_ROOT / "tools" / "track_video.py"), "--input", str(tmp_path / "in.mp4"),
         "--config-file", tiny_config],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert process.returncode == 2
    error_lines = [
        line for line in process.stderr.splitlines() if line.startswith("track_video.py")
    ]
    assert error_lines == [
        "track_video.py: error: --init-box X,Y,W,H is required here (no display (DISPLAY is not "
        "set), so no box can be drawn)"
    ]
    assert "Traceback" not in process.stderr


@pytest.mark.parametrize("flavour", ["siamtrack", "pysot"])
def test_weights_are_loaded(track_video_tool, tiny_config, shared_data, tmp_path, flavour):
    """--weights (siamtrack or pysot key names) gives exactly the tracker of that model."""
    import torch

    from siamtrack.families.siamrpn import siamtrack_to_pysot_state_dict
    from siamtrack.io.sequences import load_sequence
    from siamtrack.tracking import InferenceOptions, SiamTracker

    from ..tracking.tiny_model import build_tiny_model, tiny_cfg

    model = build_tiny_model(seed=3)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    if flavour == "pysot":
        torch.save({"state_dict": siamtrack_to_pysot_state_dict(state)}, tmp_path / "model.pth")
    else:
        torch.save({"model": state}, tmp_path / "model.pth")
    sequence = load_sequence(shared_data / "sequences" / "Crossing")
    cfg = tiny_cfg()
    hyper = dict(
        penalty_k=cfg.TRACKER.PENALTY_K,
        window_influence=cfg.TRACKER.WINDOW_INFLUENCE,
        lr=cfg.TRACKER.LR,
    )
    same_settings = SiamTracker(model=model, inference=InferenceOptions(), **hyper)
    expected = same_settings.track(sequence.frame_paths[:5], sequence.boxes_xywh[0])
    code = _run(track_video_tool, "--input", str(shared_data / "sequences" / "Crossing" / "img" / "0000[1-5].jpg"),
                "--init-box", "204,150,17,50", "--config-file", tiny_config,
                "--weights", tmp_path / "model.pth", "--save-boxes", tmp_path / "b.txt")  # fmt: skip
    assert code == 0
    boxes = read_boxes_file(tmp_path / "b.txt")[None].boxes_xywh
    np.testing.assert_array_equal(boxes, expected.reported_boxes_xywh)  # .txt: nan if absent


def test_several_targets(track_video_tool, nanotrack_weights, shared_data, tmp_path, capsys):
    frames = str(shared_data / "sequences" / "Crossing" / "img" / "0000[1-8].jpg")
    common = ["--input", frames, "--init-box", "204,150,17,50", "--init-box", "100,100,30,40",
              "--weights", str(nanotrack_weights / "nanotrackv3.pth"),
              "--config-file", str(REPO_ROOT / "configs" / "nanotrack" / "nanotrack_v3.yaml")]  # fmt: skip
    outputs = ["--save-boxes", tmp_path / "b.csv", "--output", tmp_path / "v.mp4",
               "--confidence-plot", tmp_path / "c.png"]  # fmt: skip
    assert _run(track_video_tool, *common, *outputs) == 0
    printed = capsys.readouterr().out
    assert "2 targets" in printed and f"confidence plot: {tmp_path / 'c.png'}" in printed
    assert cv2.imread(str(tmp_path / "c.png")).shape[0] > 300  # two panels
    tracks = read_boxes_file(tmp_path / "b.csv")
    assert sorted(tracks) == ["0", "1"] and all(len(t.frames) == 8 for t in tracks.values())
    np.testing.assert_array_equal(tracks["1"].boxes_xywh[0], [100, 100, 30, 40])
    with open_frame_source(str(tmp_path / "v.mp4")) as video:
        assert len(list(video)) == 8
    assert _run(track_video_tool, *common, "--save-boxes", tmp_path / "b.txt") == 0
    boxes = read_boxes_file(tmp_path / "b_1.txt")[None].boxes_xywh  # one OTB file per target
    np.testing.assert_array_equal(boxes, tracks["1"].reported_boxes_xywh)  # .txt: nan if absent
    # a box outside the image among several: an error naming the target, nothing written
    bad = common[:4] + ["--init-box", "5000,10,20,20"] + common[4:]
    assert _run(track_video_tool, *bad, "--save-boxes", tmp_path / "c.csv") == 2
    assert "init box of target 1" in capsys.readouterr().err
    assert not (tmp_path / "c.csv").exists()


def test_frames_reported_absent(track_video_tool, tiny_config, tmp_path, capsys, monkeypatch):
    """The tracker's presence decisions reach the boxes file and the summary (a stub tracker
    reports the target absent in frames 2 and 3; with two targets, 1 and 3 frames)."""
    import siamtrack
    import siamtrack.tracking

    from ..tracking.presence_trackers import MultiPresenceTracker, PresenceTracker

    monkeypatch.setattr(siamtrack, "SiamTracker", PresenceTracker)
    monkeypatch.setattr(siamtrack.tracking, "MultiTargetTracker", MultiPresenceTracker)
    write_video(tmp_path / "in.mp4", num_frames=6)
    common = ["--input", tmp_path / "in.mp4", "--config-file", tiny_config]
    outputs = ["--save-boxes", tmp_path / "b.txt", "--output", tmp_path / "v.mp4"]
    assert _run(track_video_tool, *common, "--init-box", "50,40,24,30", *outputs) == 0
    printed = capsys.readouterr().out
    assert "tracked 6 frames" in printed and "reported the target absent in 2 frames" in printed
    assert (tmp_path / "b.txt").read_text().splitlines()[2] == "nan,nan,nan,nan"
    assert _run(track_video_tool, *common, "--init-box", "50,40,24,30", "--init-box",
                "10,10,20,20", "--save-boxes", tmp_path / "m.csv") == 0  # fmt: skip
    printed = capsys.readouterr().out
    assert "reported absent: target 0: 1 frames, target 1: 3 frames" in printed
    tracks = read_boxes_file(tmp_path / "m.csv")
    assert [int(t.present.sum()) for t in tracks.values()] == [5, 3]
