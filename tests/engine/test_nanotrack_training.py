"""NanoTrack training through SiamTrainer: point labels, losses, the recipe's
schedule, fine-tuning from the released weights, checkpoints back into the tracker and --resume."""

import numpy as np
import pytest
import torch
from detectron2.engine import HookBase

from siamtrack import load_config
from siamtrack.checkpoint import SiamCheckpointer
from siamtrack.data import build_pair_sources, get_sequences
from siamtrack.engine import SiamTrainer
from siamtrack.families.nanotrack.losses import label_points
from siamtrack.families.nanotrack.points import point_grid_xy
from siamtrack.tracking import SiamTracker
from siamtrack.utils.boxes import iou_xywh

from ..conftest import CONFIGS_DIR
from .helpers import total_losses, train_on_one_batch

NANOTRACK_CONFIGS = CONFIGS_DIR / "nanotrack"
FINETUNE_CONFIG = NANOTRACK_CONFIGS / "quick_schedules" / "nanotrack_v3_finetune_sample_cpu.yaml"
FULL_CONFIG = NANOTRACK_CONFIGS / "nanotrack_v3_50e_bs64_got10k_vid_ytb_coco_det_lasot.yaml"
SEARCH_SIZE, STRIDE = 255, 16


def _centred_box(width, height):
    centre = SEARCH_SIZE / 2  # the crop centre, on the point grid (point S // 2)
    return torch.tensor([-width / 2, -height / 2, width / 2, height / 2]) + centre


def _counts(labels):
    return [int((labels == value).sum()) for value in (1, 0, -1)]


# ------------------------------------------------------------------------- point targets
@pytest.mark.parametrize("score_size", [15, 16], ids=["v3", "v1-v2"])
# 64x64 and 128x96: the examples of docs/nanotrack.md "Training recipe"; 200x200 has 29 points
# in its (w/4, h/4) ellipse: capped at 16
@pytest.mark.parametrize("width, height, positives", [(64, 64, 1), (128, 96, 9), (200, 200, 16)])
def test_positive_pair_labels(score_size, width, height, positives):
    points = point_grid_xy(score_size, STRIDE, SEARCH_SIZE)
    box = _centred_box(width, height)
    torch.manual_seed(0)
    labels, targets = label_points(points, box, False)
    assert _counts(labels) == [positives, 48, score_size**2 - positives - 48]
    centre = score_size // 2
    assert labels[centre, centre] == 1
    # (l, t, r, b) of the centre point = half the box sides; everywhere p - x1 + x2 - p = w
    assert torch.allclose(targets[centre, centre], torch.tensor([width, height] * 2) / 2.0)
    assert torch.allclose(targets[..., 0] + targets[..., 2], torch.tensor(float(width)))
    # positives inside the (w/4, h/4) ellipse, negatives outside the (w/2, h/2) one
    offsets = points - SEARCH_SIZE / 2
    ellipse = (offsets[..., 0] / width) ** 2 + (offsets[..., 1] / height) ** 2
    assert bool((ellipse[labels == 1] < 1 / 16).all())
    assert bool((ellipse[labels == 0] > 1 / 4).all())


@pytest.mark.parametrize("width, height, negatives", [(64, 64, 1), (128, 96, 9), (200, 200, 16)])
def test_negative_pair_labels(width, height, negatives):
    """A negative pair: at most 16 negatives inside the distractor's ellipse, the rest ignored."""
    points = point_grid_xy(15, STRIDE, SEARCH_SIZE)
    torch.manual_seed(0)
    labels, _ = label_points(points, _centred_box(width, height), True)
    assert _counts(labels) == [0, negatives, 225 - negatives]
    offsets = points - SEARCH_SIZE / 2
    ellipse = (offsets[..., 0] / width) ** 2 + (offsets[..., 1] / height) ** 2
    assert bool((ellipse[labels == 0] < 1 / 16).all())  # inside the (w/4, h/4) ellipse


def test_model_labels_follow_config_counts():
    cfg = load_config(
        str(FINETUNE_CONFIG),
        ["MODEL.NANOTRACK.POSITIVE_NUM", "4", "MODEL.NANOTRACK.NEGATIVE_NUM", "10",
         "MODEL.NANOTRACK.NEGATIVE_PAIR_NUM", "3", "MODEL.WEIGHTS", ""],
    )  # fmt: skip
    model = SiamTrainer.build_model(cfg)
    boxes = torch.stack([_centred_box(200, 200), _centred_box(200, 200)])
    labels, _ = model.label_points(boxes, torch.tensor([False, True]))
    assert labels.shape == (2, model.score_size, model.score_size)
    assert _counts(labels[0])[:2] == [4, 10] and _counts(labels[1])[:2] == [0, 3]


# ------------------------------------------------------------------------- recipe / configs
@pytest.mark.parametrize("config_file", [FINETUNE_CONFIG, FULL_CONFIG], ids=lambda p: p.name)
def test_configs_follow_the_recipe(config_file):
    cfg = load_config(str(config_file), ["MODEL.WEIGHTS", ""])
    solver = cfg.SOLVER
    assert solver.BACKBONE_UNFREEZE_ITER == round(0.2 * solver.MAX_ITER)  # epoch 10 of 50
    assert solver.WARMUP_ITERS == round(0.1 * solver.MAX_ITER)  # 5 of 50 epochs
    assert (solver.MOMENTUM, solver.WEIGHT_DECAY, solver.BACKBONE_LR_FACTOR) == (0.9, 1e-4, 0.1)
    assert solver.CLIP_GRADIENTS.ENABLED and solver.CLIP_GRADIENTS.CLIP_VALUE == 10.0
    assert solver.CLIP_GRADIENTS.CLIP_TYPE == "full_model"
    ban = cfg.MODEL.NANOTRACK
    assert (ban.POSITIVE_NUM, ban.NEGATIVE_NUM, ban.NEGATIVE_PAIR_NUM) == (16, 48, 16)
    assert cfg.INPUT.NEGATIVE_PAIR_PROB == 0.2
    model = SiamTrainer.build_model(cfg)
    optimizer = SiamTrainer.build_optimizer(cfg, model)
    lr_of = {id(p): g["lr"] for g in optimizer.param_groups for p in g["params"]}
    backbone = {lr_of[id(p)] for p in model.backbone.parameters()}
    head = {lr_of[id(p)] for p in model.head.parameters()}
    assert len(backbone) == 1 and backbone.pop() == pytest.approx(0.1 * solver.BASE_LR)
    assert head == {solver.BASE_LR}
    assert not any(p.requires_grad for p in model.backbone.parameters())  # frozen at iter 0


def test_finetune_config_sources_load(shared_data, monkeypatch):
    """The quick schedule's data: the bundled sample and ``coco_2017_sample``, which lives under
    $DETECTRON2_DATASETS/coco_sample (the shared data folder here)."""
    monkeypatch.setenv("DETECTRON2_DATASETS", str(shared_data))
    cfg = load_config(str(FINETUNE_CONFIG))
    sources = build_pair_sources(cfg)
    assert [s.name for s in sources] == list(cfg.DATASETS.TRAIN)
    assert sources[-1].num_items == 97  # 100 images, 3 without usable objects


# ------------------------------------------------------------------------- training runs
def _finetune_cfg(tmp_path, weights, *opts):
    return load_config(
        str(FINETUNE_CONFIG),
        [
            "MODEL.WEIGHTS", str(weights),
            # the bundled sample only: tests do not depend on $DETECTRON2_DATASETS
            "DATASETS.TRAIN", "('siamtrack_sample_train', 'siamtrack_sample_coco')",
            "DATASETS.TRAIN_WEIGHTS", "[3.0, 1.0]",
            "DATASETS.TRAIN_FRAME_RANGE", "[30, 0]",
            "DATASETS.TEST", "()",
            "SOLVER.IMS_PER_BATCH", "4",
            "SOLVER.MAX_ITER", "4",
            "SOLVER.WARMUP_ITERS", "1",
            "SOLVER.BACKBONE_UNFREEZE_ITER", "2",
            "SOLVER.CHECKPOINT_PERIOD", "2",
            "TEST.EVAL_PERIOD", "0",
            "SEED", "7",
            "OUTPUT_DIR", str(tmp_path),
            *opts,
        ],
    )  # fmt: skip


def _released_state(cfg, weights):
    model = SiamTrainer.build_model(cfg)
    SiamCheckpointer(model).load(str(weights))
    return {k: v.clone() for k, v in model.state_dict().items()}


def test_loss_falls_from_pretrained_weights(tmp_path, nanotrack_weights):
    """20 steps on 4 fixed pairs from the released v3 at the recipe's base LR; the
    backbone joins at iteration 2, at 0.1x LR."""
    cfg = _finetune_cfg(
        tmp_path, nanotrack_weights / "nanotrackv3.pth",
        "SOLVER.MAX_ITER", "20", "SOLVER.BASE_LR", "0.005", "SOLVER.WARMUP_ITERS", "0",
        "SOLVER.CHECKPOINT_PERIOD", "100",
    )  # fmt: skip
    losses = total_losses(train_on_one_batch(cfg))
    assert len(losses) == 20 and np.isfinite(losses).all()
    assert losses[0] < 0.5  # pretrained: already low (from scratch it is ~1.8)
    assert losses[-5:].mean() < 0.8 * losses[:5].mean(), losses


class _Record(HookBase):
    """Backbone weights / BatchNorm statistics and the training mode after every step."""

    def __init__(self):
        self.after = {}

    def after_step(self):
        backbone = self.trainer.model.backbone
        self.after[self.trainer.iter] = (
            {k: v.clone() for k, v in backbone.state_dict().items()},
            backbone.stem.norm.training,
        )


class _Interrupt(HookBase):
    def after_step(self):
        if self.trainer.iter == 2:
            raise KeyboardInterrupt("simulated interruption")


def test_finetune_from_zoo_name_tracks_and_resumes(tmp_path, nanotrack_weights, monkeypatch):
    """Fine-tune from ``MODEL.WEIGHTS nanotrack_v3``: a fresh run starts at iteration 0 from the
    released weights, the backbone (BatchNorm in eval mode) stays untouched until
    BACKBONE_UNFREEZE_ITER, an interrupted run resumes where it stopped, and the checkpoints
    load into SiamTracker."""
    monkeypatch.setenv("SIAMTRACK_WEIGHTS_DIR", str(nanotrack_weights))
    cfg = _finetune_cfg(tmp_path, "nanotrack_v3")
    released = _released_state(cfg, nanotrack_weights / "nanotrackv3.pth")

    torch.manual_seed(0)
    trainer = SiamTrainer(cfg)
    record = _Record()
    trainer.register_hooks([record, _Interrupt()])
    trainer.resume_or_load(resume=True)  # --resume on an empty OUTPUT_DIR: a fresh run
    assert trainer.start_iter == 0
    loaded = trainer.model.state_dict()
    assert all(torch.equal(loaded[k], v) for k, v in released.items())
    with pytest.raises(KeyboardInterrupt):
        trainer.train()
    for iteration in (0, 1):  # frozen: weights and BN statistics as released, BN in eval mode
        state, bn_training = record.after[iteration]
        assert all(torch.equal(v, released["backbone." + k]) for k, v in state.items())
        assert not bn_training
    state, bn_training = record.after[2]  # unfrozen at 2: trained, BN in train mode
    assert bn_training and not torch.equal(state["stem.weight"], released["backbone.stem.weight"])
    assert (tmp_path / "last_checkpoint").read_text().strip() == "model_0000001.pth"

    resumed = SiamTrainer(cfg)
    resumed.resume_or_load(resume=True)
    assert resumed.start_iter == 2
    resumed.train()
    assert resumed.iter == 4
    assert [it for _, it in resumed.storage.history("total_loss").values()] == [2, 3]
    final = tmp_path / "model_final.pth"
    assert final.is_file()

    # the fine-tuned checkpoint in the tracker (the config's default onnxruntime backend)
    tracker_cfg = load_config(
        str(NANOTRACK_CONFIGS / "nanotrack_v3.yaml"), ["MODEL.WEIGHTS", str(final)]
    )
    tracker = SiamTracker(tracker_cfg)
    sequence = get_sequences("siamtrack_sample_val")[0]
    result = tracker.track(sequence.frame_paths[:6], sequence.boxes_xywh[0])
    assert result.boxes_xywh.shape == (6, 4)
    assert iou_xywh(result.boxes_xywh, sequence.boxes_xywh[:6]).min() > 0.6
    tuned = SiamTrainer.build_model(tracker_cfg)
    SiamCheckpointer(tuned).load(str(final))
    head_keys = [k for k in released if k.startswith("head.") and "weight" in k]
    assert any(not torch.equal(tuned.state_dict()[k], released[k]) for k in head_keys)
