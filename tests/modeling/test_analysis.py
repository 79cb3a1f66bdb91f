"""tools/analyze_model.py: parameters and per-branch GMAC."""

import importlib.util

import pytest

from ..conftest import CONFIGS_DIR, REPO_ROOT


def _tool():
    spec = importlib.util.spec_from_file_location(
        "analyze_model", REPO_ROOT / "tools" / "analyze_model.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_analyze_tiny_config(capsys):
    config = CONFIGS_DIR / "siamrpn" / "quick_schedules" / "siamrpn_tiny_standard_instant_test.yaml"
    tool = _tool()
    report, _ = tool.analyze(tool.parse_args(["--config-file", str(config)]))
    assert tool.main(["--config-file", str(config)]) == 0
    gmac, params = report["gmac"], report["parameters"]
    assert report["score_map"] == [5, 13, 13]
    assert params["total"] == params["backbone"] + params["neck"] + params["head"]
    assert gmac["track_step_pysot"] == pytest.approx(gmac["track_step"] + gmac["template_kernels"])
    parts = gmac["track_step/backbone"] + gmac["track_step/neck"] + gmac["track_step/head"]
    assert parts == pytest.approx(gmac["track_step"])
    assert 0 < gmac["template_branch"] < gmac["track_step"]
    assert "tracking step, cached template features" in capsys.readouterr().out


def test_pysot_r50_matches_published_numbers():
    config = CONFIGS_DIR / "siamrpn" / "siamrpn_R_50_l234_dwxcorr.yaml"
    tool = _tool()
    report, _ = tool.analyze(tool.parse_args(["--config-file", str(config), "--json"]))
    assert report["parameters"]["total"] == 53_950_624
    gmac = report["gmac"]
    assert round(gmac["track_step_pysot"], 1) == 48.9  # pysot's figure (recomputes kernels)
    assert round(gmac["track_step"], 2) == 48.79  # siamtrack's track() with cached kernels
    assert round(gmac["template_branch"], 2) == 10.67
