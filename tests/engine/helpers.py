"""Training runs shared by the training tests of every family."""

import itertools

import numpy as np
import torch

from siamtrack.data import build_pair_train_loader
from siamtrack.engine import SiamTrainer


def train(cfg, resume=False, extra_hooks=(), trainer_class=SiamTrainer):
    """Train ``cfg`` from a seeded start; returns the trainer."""
    torch.manual_seed(0)
    trainer = trainer_class(cfg)
    trainer.register_hooks(list(extra_hooks))
    trainer.resume_or_load(resume=resume)
    trainer.train()
    return trainer


def train_on_one_batch(cfg):
    """Train ``cfg`` on its loader's first batch, repeated every iteration (the loss then
    shows learning, not batch-to-batch noise); returns the trainer."""
    fixed_batch = next(iter(build_pair_train_loader(cfg)))

    class FixedPairsTrainer(SiamTrainer):
        @classmethod
        def build_train_loader(cls, cfg, start_iter=0):
            return itertools.repeat(fixed_batch)

    return train(cfg, trainer_class=FixedPairsTrainer)


def total_losses(trainer) -> np.ndarray:
    """The logged ``total_loss`` of every iteration."""
    return np.array([v for v, _ in trainer.storage.history("total_loss").values()])
