"""PairSampler mixing and the training loader: reproducible, worker-count independent, distinct
per rank, resumable, and robust to unreadable samples without hanging."""

import logging
from collections import Counter

import numpy as np
import pytest
import torch
from detectron2.config import get_cfg
from detectron2.data import DatasetCatalog, MetadataCatalog

from siamtrack import add_siamtrack_config
from siamtrack.data import (
    PairCropDatasetMapper,
    PairSampler,
    PairStream,
    build_pair_source,
    build_pair_train_loader,
    register_sequence_dataset,
)
from siamtrack.data.pair_sources import ImagePairSource

from .helpers import make_generic


def _small_cfg(**overrides):
    cfg = add_siamtrack_config(get_cfg())
    cfg.DATASETS.TRAIN = ("siamtrack_sample_train", "siamtrack_sample_coco")
    cfg.DATASETS.TRAIN_WEIGHTS = [1.0, 1.0]
    cfg.DATASETS.SAMPLES_PER_EPOCH = 50
    cfg.MODEL.SIAMESE.TEMPLATE_SIZE, cfg.MODEL.SIAMESE.SEARCH_SIZE = 31, 63
    cfg.INPUT.TEMPLATE_AUG.SHIFT, cfg.INPUT.SEARCH_AUG.SHIFT = 1, 16
    cfg.SOLVER.IMS_PER_BATCH = 3
    cfg.DATALOADER.NUM_WORKERS = 0
    cfg.SEED = 7
    for key, value in overrides.items():
        cfg.merge_from_list([key, value])
    return cfg


def _take(loader, count):
    iterator = iter(loader)
    return [next(iterator) for _ in range(count)]


def _same_batches(a, b):
    return all(
        torch.equal(x["search"], y["search"])
        and torch.equal(x["template"], y["template"])
        and torch.equal(x["search_box_xyxy"], y["search_box_xyxy"])
        for batch_a, batch_b in zip(a, b)
        for x, y in zip(batch_a, batch_b)
    )


def _fake_source(name, num_items):
    dicts = [
        dict(file_name=f"{name}{i}.jpg", annotations=[dict(bbox=[0, 0, 10, 10])])
        for i in range(num_items)
    ]
    return ImagePairSource(name, dicts, 0.0, True)


def test_epoch_mixing_follows_weights_and_covers_items():
    sources = [_fake_source("a", 10), _fake_source("b", 4)]
    sampler = PairSampler(sources, [3.0, 1.0], samples_per_epoch=80, seed=1)
    records = [sampler.record(i) for i in range(80)]
    per_source = Counter(r["dataset_name"] for r in records)
    assert per_source == {"a": 60, "b": 20}
    files_a = Counter(r["template"]["file_name"] for r in records if r["dataset_name"] == "a")
    assert set(files_a.values()) == {6}  # each image of "a" exactly 60 / 10 times
    # proportional to size by default; distractors are never the template's object
    sampler = PairSampler(sources, None, samples_per_epoch=140, seed=1)
    records = [sampler.record(i) for i in range(140)]
    assert Counter(r["dataset_name"] for r in records) == {"a": 100, "b": 40}
    assert all(r["distractor"]["object_id"] != r["template"]["object_id"] for r in records)


def test_records_are_a_function_of_seed_and_index():
    sources = [_fake_source("a", 50)]
    a, b = PairSampler(sources, seed=3), PairSampler(sources, seed=3)
    indices = [5, 0, 123456, 7]
    assert [a.record(i)["seed"] for i in indices] == [
        b.record(i)["seed"] for i in reversed(indices)
    ][::-1]
    assert a.record(5)["seed"] != PairSampler(sources, seed=4).record(5)["seed"]
    assert a.record(5, attempt=1)["seed"] != a.record(5)["seed"]
    with pytest.raises(ValueError, match="weights"):
        PairSampler(sources, [-1.0])
    with pytest.raises(ValueError, match="2 values for 1"):
        PairSampler(sources, [1.0, 2.0])


def test_loader_batches_reproducible_for_any_worker_count():
    cfg = _small_cfg()
    batches = _take(build_pair_train_loader(cfg), 4)
    assert len(batches) == 4 and all(len(b) == 3 for b in batches)
    assert batches[0][0]["template"].shape == (3, 31, 31)
    assert _same_batches(batches, _take(build_pair_train_loader(cfg), 4))
    cfg.DATALOADER.NUM_WORKERS = 2
    assert _same_batches(batches, _take(build_pair_train_loader(cfg), 4))
    assert _same_batches(batches[2:], _take(build_pair_train_loader(cfg, start_iter=2), 2))
    cfg.DATALOADER.NUM_WORKERS = 0
    cfg.SEED = 8
    assert not _same_batches(batches, _take(build_pair_train_loader(cfg), 4))


def test_ranks_get_different_streams(monkeypatch):
    cfg = _small_cfg()
    sampler, mapper = PairSampler.from_config(cfg), PairCropDatasetMapper(cfg)
    rank0 = PairStream(sampler, mapper, batch_size=2, rank=0, world_size=2)
    rank1 = PairStream(sampler, mapper, batch_size=2, rank=1, world_size=2)
    single = PairStream(sampler, mapper, batch_size=4)
    b0, b1, one = next(iter(rank0)), next(iter(rank1)), next(iter(single))
    assert _same_batches([b0 + b1], [one])  # two ranks together = the single-process batch
    assert not torch.equal(b0[0]["search"], b1[0]["search"])
    monkeypatch.setattr("detectron2.utils.comm.get_world_size", lambda: 2)
    with pytest.raises(ValueError, match="IMS_PER_BATCH"):
        build_pair_train_loader(cfg)  # 3 pairs cannot be split over 2 processes


def test_unreadable_images_are_skipped_with_a_count(tmp_path, caplog):
    root = tmp_path / "seqs"
    for k in range(3):
        make_generic(root, f"s{k}", [[10, 10, 30, 20]] * 4, seed=k)
    for frame in (root / "s1" / "img").iterdir():
        frame.unlink()
        frame.write_bytes(b"broken")  # present but unreadable
    register_sequence_dataset("t_partly_broken", root)
    cfg = _small_cfg(**{"DATASETS.TRAIN": ("t_partly_broken",), "DATASETS.TRAIN_WEIGHTS": []})
    stream = PairStream(PairSampler.from_config(cfg), PairCropDatasetMapper(cfg), batch_size=12)
    with caplog.at_level(logging.WARNING, logger="siamtrack.data.build"):
        batch = next(iter(stream))
    assert len(batch) == 12 and stream.num_skipped > 0
    assert all("/s1/" not in pair["file_name"] for pair in batch)
    assert "skipped training sample" in caplog.text and "s1" in caplog.text

    for k in (0, 2):
        for frame in (root / f"s{k}" / "img").iterdir():
            frame.write_bytes(b"broken")
    stream = PairStream(PairSampler.from_config(cfg), PairCropDatasetMapper(cfg), 2, max_retries=5)
    with pytest.raises(RuntimeError, match="6 consecutive training samples could not be used"):
        next(iter(stream))
    DatasetCatalog.remove("t_partly_broken")
    MetadataCatalog.remove("t_partly_broken")


def test_config_errors():
    with pytest.raises(ValueError, match="DATASETS.TRAIN is empty"):
        build_pair_train_loader(_small_cfg(**{"DATASETS.TRAIN": ()}))
    with pytest.raises(ValueError, match="TRAIN_FRAME_RANGE has 3 values for 2"):
        build_pair_train_loader(_small_cfg(**{"DATASETS.TRAIN_FRAME_RANGE": [1, 2, 3]}))
    with pytest.raises(KeyError, match="not registered"):
        build_pair_source("t_no_such_dataset")


def test_sample_sources_build_with_config_filters():
    cfg = _small_cfg(**{"DATASETS.MIN_BOX_SIZE": 1000.0})
    with pytest.raises(ValueError, match="no usable"):
        PairSampler.from_config(cfg)
    source = build_pair_source("siamtrack_sample_train", frame_range=5)
    assert source.num_items == 3 and source.frame_range == 5
    assert np.isclose(sum(PairSampler([source], seed=0).weights), 1.0)
