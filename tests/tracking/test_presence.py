"""The presence model (features, fit, calibration, files) and the re-detection tiles."""

import json

import numpy as np
import pytest

from siamtrack.tracking.presence import (
    FEATURE_NAMES,
    fit_presence_model,
    load_presence_model,
    reliability_table,
    score_map_features,
)
from siamtrack.tracking.redetection import TILE_SPACING, next_tiles, tile_centers


def _peaked_map(size=15, peak=0.999, floor=0.001, at=(7, 7)):
    scores = np.full((1, size, size), floor)
    scores[0][at] = peak
    return scores


def test_features_of_a_sharp_and_a_flat_map():
    sharp = score_map_features(_peaked_map(), 0.999)
    rng = np.random.default_rng(0)
    flat = rng.uniform(0.5, 0.8, (1, 15, 15))
    flat[0, 3, 4] = 0.8
    flat_features = score_map_features(flat, 0.8)
    names = dict(zip(FEATURE_NAMES, range(len(FEATURE_NAMES))))
    assert sharp[names["score_logit"]] == pytest.approx(np.log(0.999 / 0.001))
    # one cell over a flat floor: sidelobe std 0 -> a very large ratio; no second peak
    assert sharp[names["log_peak_to_sidelobe"]] > 10
    assert sharp[names["second_peak_ratio"]] == pytest.approx(0.001 / 0.999)
    assert flat_features[names["second_peak_ratio"]] > 0.9
    # entropy / log(H W): the flat map is near 1, the sharp one much lower
    assert flat_features[names["entropy"]] > 0.99 > 0.4 > sharp[names["entropy"]]
    # anchors: the map is reduced over A by the max
    five = np.concatenate([_peaked_map(), np.zeros((4, 15, 15))])
    np.testing.assert_allclose(score_map_features(five, 0.999), sharp)
    with pytest.raises(ValueError, match="score map"):
        score_map_features(np.zeros(5), 0.5)


def _separable_samples(n=400, seed=0):
    """Features whose first column decides the label (plus noise columns)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, len(FEATURE_NAMES)))
    y = x[:, 0] + 0.3 * rng.normal(size=n) > 0
    return x, y


def test_fit_separates_and_is_calibrated():
    x, y = _separable_samples()
    model = fit_presence_model(x, y, score_shape=(1, 15, 15), meta_architecture="NanoTrack")
    p = 1 / (1 + np.exp(-model.logit(x)))
    assert np.mean((p > 0.5) == y) > 0.9
    assert abs(model.weights[0]) > 3 * np.abs(model.weights[1:]).max()
    # calibrated on its own data: each well-filled bin's frequency is near its confidence
    for row in reliability_table(p, y):
        if row["frames"] >= 40:
            assert abs(row["on_target"] - row["mean_confidence"]) < 0.15
    with pytest.raises(ValueError, match="both on and off"):
        fit_presence_model(x, np.ones(len(x), bool), score_shape=(1, 15, 15))


def test_reliability_table_by_hand():
    rows = reliability_table([0.05, 0.15, 0.12, 0.95], [False, True, False, True], bins=10)
    assert [(r["low"], r["frames"], r["on_target"]) for r in rows] == [
        (0.0, 1, 0.0),
        (0.1, 2, 0.5),
        (0.9, 1, 1.0),
    ]
    assert rows[1]["mean_confidence"] == pytest.approx(0.135)


def test_model_file_round_trip_and_confidence(tmp_path):
    x, y = _separable_samples()
    model = fit_presence_model(x, y, score_shape=(1, 15, 15), meta_architecture="NanoTrack",
                               fit_info={"data": "made up"})  # fmt: skip
    path = model.save(tmp_path / "presence.json")
    loaded = load_presence_model(path)
    np.testing.assert_allclose(loaded.weights, model.weights)
    assert loaded.score_shape == (1, 15, 15) and loaded.fit_info == {"data": "made up"}
    confidence = loaded.confidence(_peaked_map(), 0.999)
    assert 0.0 <= confidence <= 1.0
    assert confidence == pytest.approx(model.confidence(_peaked_map(), 0.999))
    with pytest.raises(FileExistsError):
        model.save(path)


def test_a_model_for_another_network_is_refused(tmp_path):
    x, y = _separable_samples()
    model = fit_presence_model(x, y, score_shape=(1, 16, 16), meta_architecture="NanoTrack")
    loaded = load_presence_model(model.save(tmp_path / "v2.json"))
    loaded.check_score_shape((1, 16, 16))
    with pytest.raises(
        ValueError, match=r"v2\.json was fit for score maps \(1, 16, 16\).*\(1, 15, 15\)"
    ):
        loaded.check_score_shape((1, 15, 15))


@pytest.mark.parametrize(
    "content, message",
    [
        ("not json", "not readable JSON"),
        ('{"format": "other"}', "not a siamtrack presence model"),
        (None, "uses features"),
        ("weights", "weights must hold 4 finite numbers"),
    ],
)
def test_bad_presence_files_name_the_file(tmp_path, content, message):
    x, y = _separable_samples()
    data = fit_presence_model(x, y, score_shape=(1, 15, 15)).to_dict()
    path = tmp_path / "bad.json"
    if content is None:
        data["features"] = ["score_logit"]
        content = json.dumps(data)
    elif content == "weights":
        data["weights"] = [1.0, float("nan"), 0.0, 0.0]
        content = json.dumps(data).replace("NaN", "NaN")
    path.write_text(content)
    with pytest.raises(ValueError, match=message) as error:
        load_presence_model(path)
    assert "bad.json" in str(error.value)
    with pytest.raises(FileNotFoundError, match="missing.json"):
        load_presence_model(tmp_path / "missing.json")


def test_tiles_cover_the_frame():
    centers = tile_centers((360, 640), 200.0)
    xs, ys = sorted(set(centers[:, 0])), sorted(set(centers[:, 1]))
    assert len(centers) == len(xs) * len(ys)
    assert xs[0] == 100 and xs[-1] == 540 and ys[0] == 100 and ys[-1] == 260
    assert max(np.diff(xs)) <= TILE_SPACING * 200 and max(np.diff(ys)) <= TILE_SPACING * 200
    # a frame smaller than a crop: one crop in the middle
    np.testing.assert_array_equal(tile_centers((100, 120), 300.0), [[60.0, 50.0]])
    with pytest.raises(ValueError, match="positive"):
        tile_centers((100, 100), 0.0)


def test_next_tiles_cycles_without_repeats():
    centers = np.arange(10.0).reshape(5, 2)
    seen, cursor = [], 0
    for _ in range(5):
        tiles, cursor = next_tiles(centers, cursor, 2)
        assert len({tuple(t) for t in tiles}) == len(tiles)
        seen.extend(tuple(t) for t in tiles)
    assert set(seen) == {tuple(c) for c in centers} and cursor == 0
    tiles, _ = next_tiles(centers[:1], 0, 3)
    assert len(tiles) == 1
