"""What every command-line tool shares: bad input is one line on stderr and exit code 2."""

import subprocess
import sys

import pytest

from ..conftest import REPO_ROOT

MALFORMED = "MODEL:\n  WEIGHTS: [unclosed\n"
# tool -> arguments that reach the config file (CFG is replaced by the malformed yaml)
TOOLS = {
    "tools/track_video.py": ["--input", "IMG", "--init-box", "1,1,5,5", "--config-file", "CFG"],
    "tools/eval_tracker.py": [
        "--dataset-root",
        "SEQ",
        "--config-file",
        "CFG",
        "--output-dir",
        "OUT",
    ],
    "tools/analyze_model.py": ["--config-file", "CFG"],
    "tools/export_onnx.py": ["--config-file", "CFG", "--weights", "W.pth", "--output", "OUT"],
    "tools/train_net.py": ["--config-file", "CFG"],
    "tools/convert_pysot_weights.py": ["W.pth", "OUT/x.pth", "--config-file", "CFG"],
}
# (the VOT entry point reports config errors through the TraX protocol: tests/integrations)


@pytest.mark.parametrize("tool", sorted(TOOLS))
def test_malformed_yaml_is_a_one_line_error(tool, tmp_path, shared_data):
    config = tmp_path / "broken.yaml"
    config.write_text(MALFORMED)
    (tmp_path / "W.pth").write_bytes(b"")
    replace = {
        "CFG": str(config),
        "IMG": str(shared_data / "sequences" / "Crossing" / "img"),
        "SEQ": str(shared_data / "sequences" / "Crossing"),
        "OUT": str(tmp_path / "out"),
        "W.pth": str(tmp_path / "W.pth"),
        "OUT/x.pth": str(tmp_path / "out" / "x.pth"),
    }
    args = [replace.get(a, a) for a in TOOLS[tool]]
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / tool), *args], capture_output=True, text=True, timeout=180
    )
    errors = [line for line in result.stderr.splitlines() if ": error: " in line]
    assert result.returncode == 2, result.stderr[-2000:]
    assert len(errors) == 1 and "broken.yaml" in errors[0] and "not valid YAML" in errors[0]
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()  # nothing written


def test_weight_file_without_config_file_is_named(tmp_path):
    from argparse import Namespace

    from siamtrack.config import config_from_args

    weights = tmp_path / "model_final.pth"
    weights.write_bytes(b"")
    with pytest.raises(ValueError, match="model_final.pth is not a model zoo name.*--config-file"):
        config_from_args(Namespace(config_file=None, weights=str(weights), opts=[]))
    with pytest.raises(ValueError, match="give --config-file"):
        config_from_args(Namespace(config_file=None, weights=None, opts=[]))


def test_zoo_name_without_config_file_uses_the_entry_config():
    from argparse import Namespace

    from siamtrack.config import config_from_args

    cfg = config_from_args(Namespace(config_file=None, weights="nanotrack_v2", opts=[]))
    assert cfg.MODEL.META_ARCHITECTURE == "NanoTrack" and cfg.MODEL.WEIGHTS == "nanotrack_v2"
    assert cfg.MODEL.SIAMESE.HEAD_NAME == "NanoTrackV2Head"
