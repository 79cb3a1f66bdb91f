"""PairCropDatasetMapper invariants on synthetic scenes with exactly known target pixels."""

import cv2
import numpy as np
import pytest
import torch
from detectron2.config import get_cfg

from siamtrack import add_siamtrack_config
from siamtrack.data import PairCropDatasetMapper, UnusableSampleError
from siamtrack.data.augmentation import CropAugParams
from siamtrack.utils.boxes import context_crop_side

from .helpers import square_scene

TARGET_XYWH = (150, 100, 60, 40)
DISTRACTOR_XYWH = (40, 30, 30, 50)


@pytest.fixture(scope="module")
def scene_files(tmp_path_factory):
    root = tmp_path_factory.mktemp("scene")
    target = root / "target.png"
    cv2.imwrite(str(target), square_scene(box_xywh=TARGET_XYWH))
    other = square_scene(box_xywh=DISTRACTOR_XYWH, seed=1)
    other[other[..., 2] == 255] = (0, 255, 0)  # green distractor
    distractor = root / "distractor.png"
    cv2.imwrite(str(distractor), other)
    return str(target), str(distractor)


def _record(scene_files, seed, with_distractor=True):
    target_file, distractor_file = scene_files
    frame = {"file_name": target_file, "box_xywh": np.array(TARGET_XYWH, float), "object_id": 0}
    distractor = {
        "file_name": distractor_file,
        "box_xywh": np.array(DISTRACTOR_XYWH, float),
        "object_id": 1,
    }
    return {
        "template": frame,
        "search": dict(frame),
        "seed": seed,
        "dataset_name": "scene",
        "distractor": distractor if with_distractor else None,
    }


def _mask_extent(crop_chw: torch.Tensor, channel: int):
    """Continuous xyxy extent of the pixels that are mostly the pure colour `channel`."""
    crop = crop_chw.permute(1, 2, 0).numpy().astype(int)
    others = [c for c in range(3) if c != channel]
    mask = (crop[..., channel] > 180) & (crop[..., others].max(axis=-1) < 80)
    ys, xs = np.nonzero(mask)
    return np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], float), mask


def _mapper(**overrides):
    kwargs = dict(
        template_size=127,
        search_size=255,
        context_amount=0.5,
        template_aug=CropAugParams(shift=4, scale=0.05, color=1.0),
        search_aug=CropAugParams(shift=64, scale=0.18, color=1.0, flip=0.5),
        negative_pair_prob=0.0,
        gray_prob=0.0,
    )
    kwargs.update(overrides)
    return PairCropDatasetMapper(True, **kwargs)


def test_centred_crops_without_augmentation(scene_files):
    cfg = add_siamtrack_config(get_cfg())
    mapper = PairCropDatasetMapper(cfg, is_train=False)
    out = mapper(_record(scene_files, seed=0))
    assert out["template"].shape == (3, 127, 127) and out["search"].shape == (3, 255, 255)
    assert out["template"].dtype == torch.uint8 and out["template"].is_contiguous()
    assert out["search_box_xyxy"].dtype == torch.float32 and out["is_negative"] is False
    scale = 127 / context_crop_side(60, 40, 0.5)  # box size * 127 / s_z
    w, h = 60 * scale, 40 * scale
    expected_template = [63.5 - w / 2, 63.5 - h / 2, 63.5 + w / 2, 63.5 + h / 2]
    expected_search = [127.5 - w / 2, 127.5 - h / 2, 127.5 + w / 2, 127.5 + h / 2]
    np.testing.assert_allclose(out["template_box_xyxy"], expected_template, atol=1e-4)
    np.testing.assert_allclose(out["search_box_xyxy"], expected_search, atol=1e-4)
    # the red target is centred in both crops and its pixels fill the box (+-1 px of blending)
    np.testing.assert_allclose(_mask_extent(out["template"], 2)[0], expected_template, atol=1.0)
    np.testing.assert_allclose(_mask_extent(out["search"], 2)[0], expected_search, atol=1.0)


def test_augmented_positive_pairs_keep_box_on_target(scene_files):
    mapper = _mapper()
    for seed in range(40):
        out = mapper(_record(scene_files, seed))
        box = out["search_box_xyxy"].numpy()
        center = (box[:2] + box[2:]) / 2
        assert np.all((center >= 0) & (center <= 255)) and np.all(box[2:] > box[:2])
        assert np.all(box >= 0) and np.all(box <= 255)  # a 60x40 target fits inside the crop
        extent, _ = _mask_extent(out["search"], 2)
        np.testing.assert_allclose(extent, box, atol=1.5)  # colour offset keeps red red
        t_extent, _ = _mask_extent(out["template"], 2)
        t_center = (t_extent[:2] + t_extent[2:]) / 2
        # template shift <= 4 px, scale <= 5%: the target stays centred
        assert np.all(np.abs(t_center - 63.5) <= 4 / 0.95 + 1.0)


def test_flip_mirrors_crop_and_box(scene_files):
    aug = dict(shift=64, scale=0.18, color=0.0)
    plain = _mapper(search_aug=CropAugParams(flip=0.0, **aug))(_record(scene_files, 7))
    flipped = _mapper(search_aug=CropAugParams(flip=1.0, **aug))(_record(scene_files, 7))
    assert torch.equal(flipped["search"], torch.flip(plain["search"], dims=[2]))
    x0, y0, x1, y1 = plain["search_box_xyxy"].tolist()
    np.testing.assert_allclose(flipped["search_box_xyxy"], [255 - x1, y0, 255 - x0, y1], atol=1e-4)


def test_negative_pairs_ratio_and_distractor_box(scene_files):
    mapper = _mapper(negative_pair_prob=0.3)
    outputs = [mapper(_record(scene_files, seed)) for seed in range(300)]
    negatives = [o for o in outputs if o["is_negative"]]
    assert 0.3 - 0.08 < len(negatives) / len(outputs) < 0.3 + 0.08
    for out in negatives[:20]:  # the search crop is centred on the green distractor
        extent, _ = _mask_extent(out["search"], 1)
        np.testing.assert_allclose(extent, out["search_box_xyxy"].numpy(), atol=1.5)
        assert out["file_name"].endswith("distractor.png")
    # no distractor available: always positive
    assert not any(mapper(_record(scene_files, s, False))["is_negative"] for s in range(30))


def test_deterministic_under_seed(scene_files):
    mapper = _mapper(
        negative_pair_prob=0.5,
        gray_prob=0.5,
        search_aug=CropAugParams(shift=64, scale=0.18, blur=0.5, flip=0.5, color=1),
    )
    for seed in (3, 4):
        a, b = mapper(_record(scene_files, seed)), mapper(_record(scene_files, seed))
        for key in ("template", "search", "search_box_xyxy"):
            assert torch.equal(a[key], b[key])
    c = mapper(_record(scene_files, 5))
    assert not torch.equal(a["search"], c["search"])


def test_gray_pairs_and_config_sizes(scene_files):
    cfg = add_siamtrack_config(get_cfg())
    cfg.MODEL.SIAMESE.TEMPLATE_SIZE, cfg.MODEL.SIAMESE.SEARCH_SIZE = 63, 127
    cfg.INPUT.GRAY_PROB = 1.0
    cfg.INPUT.TEMPLATE_AUG.COLOR = cfg.INPUT.SEARCH_AUG.COLOR = 0.0  # colour comes after gray
    out = PairCropDatasetMapper(cfg, is_train=True)(_record(scene_files, 1))
    assert out["template"].shape == (3, 63, 63) and out["search"].shape == (3, 127, 127)
    for crop in (out["template"], out["search"]):
        assert torch.equal(crop[0], crop[1]) and torch.equal(crop[1], crop[2])


def test_bad_samples_raise_unusable_sample_error(scene_files, tmp_path):
    mapper = _mapper()
    record = _record(scene_files, 0)
    record["template"] = dict(record["template"], file_name=str(tmp_path / "missing.jpg"))
    with pytest.raises(UnusableSampleError, match="missing.jpg"):
        mapper(record)
    corrupt = tmp_path / "corrupt.jpg"
    corrupt.write_bytes(b"\xff\xd8 not really a jpeg")
    record["template"] = dict(record["template"], file_name=str(corrupt))
    with pytest.raises(UnusableSampleError, match="corrupt.jpg"):
        mapper(record)
    for bad_box, message in (
        ((500, 10, 20, 20), "outside"),
        ((10, 10, 0, 20), "invalid"),
        ((10, 10, -5, 20), "invalid"),
        ((np.nan, 1, 2, 3), "invalid"),
    ):
        record = _record(scene_files, 0)
        record["template"] = dict(record["template"], box_xywh=np.array(bad_box, float))
        with pytest.raises(UnusableSampleError, match=message):
            mapper(record)


def test_invalid_arguments():
    with pytest.raises(ValueError, match="probabilities"):
        _mapper(negative_pair_prob=1.5)
    with pytest.raises(ValueError, match="template_size"):
        _mapper(template_size=300)
