"""SiamFC training: logistic labels within the radius and the balanced logistic loss against
hand computations, the configs (the paper's recipe, the quick schedules and their data), and
training iterations through ``SiamTrainer`` (loss falls, checkpoints load back)."""

import math

import numpy as np
import pytest
import torch
from detectron2.data import DatasetCatalog
from detectron2.modeling import build_model

from siamtrack import load_config
from siamtrack.checkpoint import SiamCheckpointer
from siamtrack.data import build_pair_sources
from siamtrack.engine import SiamTrainer
from siamtrack.families.siamfc import balanced_logistic_loss, logistic_labels
from siamtrack.tracking import SiamTracker

from ...engine.helpers import total_losses, train, train_on_one_batch
from .common import QUICK, RECIPE, TINY, tiny_cfg

CENTRE = 127.5  # of a 255 search crop, on the centre cell


def _box(cx, cy, w=40.0, h=30.0):
    return torch.tensor([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])


def _model_labels(boxes, negative):
    model = build_model(tiny_cfg())
    return model.labels(torch.stack(boxes), torch.tensor(negative))


# ------------------------------------------------------------------------- labels and loss
def test_labels_within_the_radius_of_the_target_centre():
    """R = 16 px = 2 cells: on a cell centre the 13 cells with dx^2 + dy^2 <= 4 cells^2;
    half a cell right of it (offsets x = 8j - 4 px) the cells with |dx| in {4, 12} px and
    |dy| <= 8 px: 12; a negative pair none."""
    labels = _model_labels([_box(CENTRE, CENTRE), _box(CENTRE + 4, CENTRE), _box(CENTRE, CENTRE)],
                           [False, False, True])  # fmt: skip
    assert labels.shape == (3, 1, 17, 17)
    assert [int(labels[k].sum()) for k in range(3)] == [13, 12, 0]
    rows, cols = np.nonzero(labels[0, 0].numpy())
    assert (((rows - 8) ** 2 + (cols - 8) ** 2) <= 4).all()
    rows, cols = np.nonzero(labels[1, 0].numpy())
    assert sorted(set(cols.tolist())) == [7, 8, 9, 10] and sorted(set(rows.tolist())) == [7, 8, 9]
    # the box size does not matter, only its centre; 3 cells up-left moves the disc
    moved = _model_labels([_box(CENTRE - 24, CENTRE - 24, 200.0, 10.0)], [False])[0, 0]
    assert torch.equal(moved[:-3, :-3], labels[0, 0, 3:, 3:])


def test_labels_follow_the_radius():
    centres = (63.5 + 8.0 * torch.arange(17.0)).expand(17, 17)
    cells = torch.stack([centres, centres.t()], dim=-1)
    boxes = torch.stack([_box(CENTRE, CENTRE)])
    counts = [int(logistic_labels(cells, boxes, torch.tensor([False]), r).sum()) for r in
              (0.0, 7.9, 8.0, 11.4, 11.32, 16.0, 24.0)]  # fmt: skip
    # 1 cell; +4 at 8 px; +4 diagonals at 8 sqrt(2) = 11.31 px; 13 at 16; 29 at 24
    assert counts == [1, 1, 5, 9, 9, 13, 29]


def test_balanced_logistic_loss_by_hand():
    labels = torch.zeros(2, 1, 17, 17)
    labels[0, 0, 7:10, 8] = 1.0  # 3 positives of 578 cells
    logits = torch.full((2, 1, 17, 17), -1.0)
    logits[labels > 0] = 2.0
    # every positive costs log(1 + e^-2), every negative log(1 + e^-1); each class half
    expected = 0.5 * math.log(1 + math.exp(-2.0)) + 0.5 * math.log(1 + math.exp(-1.0))
    assert balanced_logistic_loss(logits, labels).item() == pytest.approx(expected, rel=1e-6)
    # unequal per-cell losses: the mean over each class
    logits[0, 0, 7, 8] = 0.0
    positives = (math.log(2.0) + 2 * math.log(1 + math.exp(-2.0))) / 3
    expected = 0.5 * positives + 0.5 * math.log(1 + math.exp(-1.0))
    assert balanced_logistic_loss(logits, labels).item() == pytest.approx(expected, rel=1e-6)
    # a batch of negative pairs only: the negatives take all the weight
    negatives = torch.zeros(2, 1, 17, 17)
    loss = balanced_logistic_loss(torch.full((2, 1, 17, 17), 0.5), negatives)
    assert loss.item() == pytest.approx(math.log(1 + math.exp(0.5)), rel=1e-6)


def test_model_losses_on_a_batch():
    torch.manual_seed(0)
    model = build_model(tiny_cfg()).train()
    generator = torch.Generator().manual_seed(1)
    inputs = [
        {
            "template": torch.randint(
                0, 256, (3, 127, 127), generator=generator, dtype=torch.uint8
            ),
            "search": torch.randint(0, 256, (3, 255, 255), generator=generator, dtype=torch.uint8),
            "search_box_xyxy": _box(CENTRE + 8 * k, CENTRE),
            "is_negative": k == 2,
        }
        for k in range(3)
    ]
    losses = model(inputs)
    assert set(losses) == {"loss_cls"} and torch.isfinite(losses["loss_cls"])
    losses["loss_cls"].backward()
    assert model.head.adjust_bias.grad is not None and model.head.adjust_scale.grad is None
    assert model.backbone.conv1.weight.grad.abs().sum() > 0


# ------------------------------------------------------------------------- configs
def test_the_recipe_config_follows_the_paper():
    cfg = load_config(str(RECIPE), ["MODEL.DEVICE", "cpu"])
    solver = cfg.SOLVER
    assert (solver.IMS_PER_BATCH, solver.MAX_ITER) == (8, 312500)  # 50 epochs x 50k pairs
    assert solver.MAX_ITER * solver.IMS_PER_BATCH == 50 * cfg.DATASETS.SAMPLES_PER_EPOCH
    assert (solver.BASE_LR, solver.BASE_LR * solver.LOG_DECAY_END_FACTOR) == (0.01, 1e-5)
    assert (solver.MOMENTUM, solver.WEIGHT_DECAY, solver.WARMUP_ITERS) == (0.9, 5e-4, 0)
    assert cfg.MODEL.ALEXNET.WIDTH_MULT == 1.0 and cfg.MODEL.SIAMFC.POSITIVE_RADIUS == 16.0
    assert cfg.TRACKER.SEARCH == "ScalePyramidSearch" and cfg.TRACKER.PRESENCE_MODEL == ""
    pyramid = cfg.TRACKER.SCALE_PYRAMID
    assert (pyramid.NUM_SCALES, pyramid.SCALE_STEP, pyramid.SCALE_PENALTY) == (3, 1.0375, 0.9745)
    assert (cfg.TRACKER.LR, cfg.TRACKER.WINDOW_INFLUENCE, pyramid.UPSAMPLE) == (0.59, 0.176, 16)


def test_the_quick_schedule_data(shared_data, monkeypatch):
    """The CPU quick schedule: the bundled sample and the 549-image COCO 2017 sample
    (``coco_2017_sample_550``: $DETECTRON2_DATASETS/coco_sample_550/)."""
    monkeypatch.setenv("DETECTRON2_DATASETS", str(shared_data))
    cfg = load_config(str(QUICK))
    assert "coco_2017_sample_550" in cfg.DATASETS.TRAIN
    assert len(DatasetCatalog.get("coco_2017_sample_550")) == 549
    sources = build_pair_sources(cfg)
    assert [s.name for s in sources] == list(cfg.DATASETS.TRAIN)
    assert sources[-1].num_items > 500


# ------------------------------------------------------------------------- training runs
def _train_cfg(tmp_path, *opts):
    return load_config(
        str(TINY),
        [
            "DATASETS.TEST", "()", "SOLVER.IMS_PER_BATCH", "4", "SOLVER.MAX_ITER", "4",
            "SOLVER.CHECKPOINT_PERIOD", "100", "TEST.EVAL_PERIOD", "0", "SEED", "7",
            "OUTPUT_DIR", str(tmp_path), *map(str, opts),
        ],
    )  # fmt: skip


def test_loss_falls_through_siam_trainer(tmp_path):
    """30 steps of SiamFC's recipe (SGD 0.01, momentum 0.9, geometric decay) on 4 fixed pairs
    of the bundled sample, from scratch."""
    cfg = _train_cfg(tmp_path, "SOLVER.MAX_ITER", 30)
    trainer = train_on_one_batch(cfg)
    losses = total_losses(trainer)
    assert len(losses) == 30 and np.isfinite(losses).all()
    assert losses[-5:].mean() < 0.7 * losses[:5].mean(), losses
    lrs = [g["lr"] for g in trainer.optimizer.param_groups]
    assert lrs and all(lr == pytest.approx(1e-5) for lr in lrs)  # 0.01 decayed to 1e-5


def test_instant_schedule_trains_and_its_checkpoint_tracks(tmp_path):
    """The instant test config end to end on the bundled sample's pair stream; the final
    checkpoint loads back into a SiamFC tracker."""
    cfg = _train_cfg(tmp_path)
    trainer = train(cfg)
    assert len(total_losses(trainer)) == 4
    tracker = SiamTracker(tiny_cfg("MODEL.WEIGHTS", str(tmp_path / "model_final.pth")))
    frame = np.full((120, 160, 3), 90, np.uint8)
    tracker.init(frame, [60, 40, 30, 30])
    assert np.isfinite(tracker.update(frame).box_xywh).all()
    reloaded = SiamTrainer.build_model(cfg)
    SiamCheckpointer(reloaded).load(str(tmp_path / "model_final.pth"))
    trained = trainer.model.state_dict()
    assert all(torch.equal(v, trained[k]) for k, v in reloaded.state_dict().items())
