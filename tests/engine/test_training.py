"""Short CPU training runs through SiamTrainer (detectron2 DefaultTrainer + SiamRPN++ recipe)."""

import os
import signal
import subprocess
import sys

import numpy as np
import pytest
import torch
from detectron2.engine import HookBase

from siamtrack import load_config
from siamtrack.data import build_pair_train_loader, register_coco_pairs
from siamtrack.engine import SiamTrainer, check_no_previous_run
from siamtrack.engine.launch import _free_local_port

from ..conftest import CONFIGS_DIR, REPO_ROOT
from .helpers import total_losses, train

TINY_CONFIG = str(
    CONFIGS_DIR / "siamrpn" / "quick_schedules" / "siamrpn_tiny_standard_instant_test.yaml"
)


def _cfg(tmp_path, *opts):
    cfg = load_config(
        TINY_CONFIG,
        [
            "DATASETS.TRAIN",
            "('siamtrack_sample_train',)",
            "DATASETS.TEST",
            "()",
            "SOLVER.IMS_PER_BATCH",
            "8",
            "SOLVER.BASE_LR",
            "0.02",
            "SOLVER.WARMUP_ITERS",
            "5",
            "SOLVER.BACKBONE_UNFREEZE_ITER",
            "0",
            "MODEL.BACKBONE.TRAIN_STAGES",
            "['stem', 'res2', 'res3', 'res4', 'res5']",
            # crops are half the usual size: so are the anchors and the augmentation shifts
            "MODEL.SIAM_RPN.ANCHOR_SCALES",
            "[4.0]",
            "INPUT.TEMPLATE_AUG.SHIFT",
            "2",
            "INPUT.SEARCH_AUG.SHIFT",
            "32",
            "SEED",
            "7",
            "OUTPUT_DIR",
            str(tmp_path),
            *opts,
        ],
    )
    return cfg


def test_thirty_iterations_on_bundled_sample_lower_the_loss(tmp_path):
    trainer = train(_cfg(tmp_path, "SOLVER.MAX_ITER", "30"))
    losses = total_losses(trainer)
    assert len(losses) == 30 and np.isfinite(losses).all()
    assert losses[-5:].mean() < 0.8 * losses[:5].mean()
    assert os.path.isfile(tmp_path / "model_final.pth")


def test_training_on_real_coco_sample_lowers_the_loss(tmp_path, shared_data):
    coco = shared_data / "coco_sample"
    name = "test_engine_coco_sample"
    if name not in __import__("detectron2").data.DatasetCatalog.list():
        register_coco_pairs(name, coco / "annotations" / "instances.json", coco / "images")
    cfg = _cfg(tmp_path, "DATASETS.TRAIN", f"('{name}',)", "SOLVER.MAX_ITER", "30")
    losses = total_losses(train(cfg))
    assert losses[-5:].mean() < 0.9 * losses[:5].mean()


class _Interrupt(HookBase):
    def __init__(self, at_iter):
        self.at_iter = at_iter

    def after_step(self):
        if self.trainer.iter == self.at_iter:
            raise KeyboardInterrupt("simulated interruption")


def test_resume_continues_from_last_checkpoint(tmp_path):
    opts = ["SOLVER.MAX_ITER", "8", "SOLVER.CHECKPOINT_PERIOD", "3"]
    cfg = _cfg(tmp_path, *opts)
    with pytest.raises(KeyboardInterrupt):
        train(cfg, extra_hooks=[_Interrupt(at_iter=4)])
    assert (tmp_path / "last_checkpoint").read_text().strip() == "model_0000002.pth"
    # a fresh run must not silently replace the interrupted run's checkpoints
    with pytest.raises(FileExistsError, match="--resume"):
        check_no_previous_run(str(tmp_path), resume=False)
    trainer = SiamTrainer(cfg)
    trainer.resume_or_load(resume=True)
    assert trainer.start_iter == 3
    # the pair stream continues with batch 3, as if the run had never stopped
    resumed_batch = next(iter(trainer.data_loader))
    fresh_stream = iter(build_pair_train_loader(cfg))
    expected_batch = [next(fresh_stream) for _ in range(4)][3]
    for got, expected in zip(resumed_batch, expected_batch):
        assert torch.equal(got["search"], expected["search"])
    trainer.train()
    assert trainer.iter == 8  # detectron2 leaves iter at max_iter after the loop
    iterations = [it for _, it in trainer.storage.history("total_loss").values()]
    assert iterations == list(range(3, 8))
    assert (tmp_path / "model_final.pth").is_file()


def test_backbone_frozen_until_unfreeze_iter(tmp_path):
    cfg = _cfg(
        tmp_path,
        "SOLVER.MAX_ITER",
        "4",
        "SOLVER.BACKBONE_UNFREEZE_ITER",
        "2",
        "MODEL.BACKBONE.TRAIN_STAGES",
        "['res5']",
    )
    trainer = SiamTrainer(cfg)
    res5 = [p.detach().clone() for p in trainer.model.backbone.res5.parameters()]
    res4 = [p.detach().clone() for p in trainer.model.backbone.res4.parameters()]
    snapshots = {}

    class Snapshot(HookBase):
        def after_step(self):
            snapshots[self.trainer.iter] = [
                p.detach().clone() for p in self.trainer.model.backbone.res5.parameters()
            ]

    trainer.register_hooks([Snapshot()])
    trainer.train()
    assert all(torch.equal(a, b) for a, b in zip(res5, snapshots[1]))  # frozen at 0, 1
    assert any(not torch.equal(a, b) for a, b in zip(res5, snapshots[3]))  # trained from 2
    assert all(
        torch.equal(a, b) for a, b in zip(res4, trainer.model.backbone.res4.parameters())
    )  # not in TRAIN_STAGES: never trained


def test_train_stages_frozen_by_freeze_at_are_refused(tmp_path):
    cfg = _cfg(tmp_path, "MODEL.BACKBONE.FREEZE_AT", "2")  # stem + res2 frozen for good
    with pytest.raises(ValueError, match=r"\['stem', 'res2'\].*FREEZE_AT 2"):
        SiamTrainer.build_model(cfg)


@pytest.mark.parametrize("launcher", ["num-gpus", "torchrun"])
def test_two_process_gloo_run_finishes(tmp_path, launcher):
    train_net = str(REPO_ROOT / "tools" / "train_net.py")
    if launcher == "torchrun":  # environment-variable rendezvous (RANK, WORLD_SIZE, ...)
        start = [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nproc_per_node",
            "2",
            "--master_port",
            str(_free_local_port()),
            train_net,
        ]
    else:  # detectron2-style --num-gpus, which spawns gloo processes when there is no CUDA
        start = [sys.executable, train_net, "--num-gpus", "2", "--dist-url", "auto"]
    command = start + [
        "--config-file",
        TINY_CONFIG,
        "DATASETS.TRAIN",
        "('siamtrack_sample_train',)",
        "SOLVER.IMS_PER_BATCH",
        "4",
        "SOLVER.MAX_ITER",
        "3",
        "MODEL.BACKBONE.TRAIN_STAGES",
        "['res5']",
        "SOLVER.BACKBONE_UNFREEZE_ITER",
        "1",
        "OUTPUT_DIR",
        str(tmp_path),
    ]
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="", OMP_NUM_THREADS="1")
    # own session, so that a hang kills the launcher's worker processes too
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
        pytest.fail(f"2-process run hung; log tail: {stderr[-3000:]}")
    assert process.returncode == 0, stderr[-3000:]
    assert "World size: 2" in stdout + stderr
    assert (tmp_path / "model_final.pth").is_file()


@pytest.mark.parametrize(
    "config_file",
    [p for p in sorted(CONFIGS_DIR.rglob("*.yaml")) if not p.name.startswith("Base-")],
    ids=lambda p: p.name,
)
def test_every_config_builds_a_trainable_model(config_file):
    """Stage names, FREEZE_AT and TRAIN_STAGES of each shipped config agree."""
    cfg = load_config(str(config_file))
    model = SiamTrainer.build_model(cfg)
    assert any(p.requires_grad for p in model.parameters())
