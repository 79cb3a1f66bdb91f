"""``build_pair_train_loader``: the infinite, reproducible training stream of pair batches.

Batch ``b`` of rank ``r`` (of ``world_size`` processes) holds the samples with global indices
``(b * world_size + r) * batch_size + j``, ``j < batch_size``. DataLoader worker ``w`` of ``W``
builds the batches ``b = w, w + W, ...`` and the DataLoader returns them in order, so the
stream is the same for any number of workers, every rank sees different samples, and a run
resumed at iteration ``k`` (``start_iter=k``) continues with exactly the batches it would have
seen.
"""

import logging
from typing import Callable, Dict, Iterator, List, Optional

import cv2
import torch
from detectron2.utils import comm
from torch.utils.data import DataLoader, IterableDataset

from ..errors import BadInputError
from .pair_mapper import PairCropDatasetMapper, UnusableSampleError
from .pair_sampler import PairSampler

logger = logging.getLogger(__name__)

__all__ = ["PairStream", "build_pair_train_loader"]

_LOG_FIRST_SKIPS = 10
_LOG_SKIPS_EVERY = 100


class PairStream(IterableDataset):
    """Infinite iterable of batches (lists of mapped pair dicts), see the module docstring.

    Args:
        sampler: produces pair records for global indices.
        mapper: maps a record to the training dict (``PairCropDatasetMapper``).
        batch_size: pairs per batch of this process.
        rank, world_size: this process's place among the training processes.
        start_iter: index of the first batch (resuming).
        max_retries: consecutive unusable samples (unreadable image, box outside the image)
            tolerated for one slot before the stream stops with an error; each one is logged
            with a running count and replaced by another draw.
    """

    def __init__(
        self,
        sampler: PairSampler,
        mapper: Callable[[Dict], Dict],
        batch_size: int,
        rank: int = 0,
        world_size: int = 1,
        start_iter: int = 0,
        max_retries: int = 20,
    ):
        if batch_size <= 0:
            raise BadInputError(f"batch size must be positive, got {batch_size}")
        self.sampler = sampler
        self.mapper = mapper
        self.batch_size = int(batch_size)
        self.rank = int(rank)
        self.world_size = int(world_size)
        self.start_iter = int(start_iter)
        self.max_retries = int(max_retries)
        self.num_skipped = 0

    def get_sample(self, index: int) -> Dict:
        """Mapped pair for global ``index``, replacing unusable samples (bounded retries)."""
        errors = []
        for attempt in range(self.max_retries + 1):
            try:
                return self.mapper(self.sampler.record(index, attempt))
            except UnusableSampleError as e:
                errors.append(str(e))
                self.num_skipped += 1
                if self.num_skipped <= _LOG_FIRST_SKIPS or self.num_skipped % _LOG_SKIPS_EVERY == 0:
                    logger.warning(
                        f"skipped training sample ({self.num_skipped} skipped so far in this "
                        f"worker): {e}"
                    )
        raise RuntimeError(
            f"{self.max_retries + 1} consecutive training samples could not be used "
            f"(sample index {index}); check the dataset with datasets/validate_dataset.py. "
            f"Last errors: {errors[-3:]}"
        )

    def batch(self, batch_number: int) -> List[Dict]:
        first = (batch_number * self.world_size + self.rank) * self.batch_size
        return [self.get_sample(first + j) for j in range(self.batch_size)]

    def __iter__(self) -> Iterator[List[Dict]]:
        info = torch.utils.data.get_worker_info()
        worker_id, num_workers = (info.id, info.num_workers) if info is not None else (0, 1)
        batch_number = self.start_iter + worker_id
        while True:
            yield self.batch(batch_number)
            batch_number += num_workers


def _return_batch(batch: List[Dict]) -> List[Dict]:
    return batch


def build_pair_train_loader(
    cfg,
    mapper: Optional[Callable[[Dict], Dict]] = None,
    *,
    sampler: Optional[PairSampler] = None,
    start_iter: int = 0,
) -> DataLoader:
    """Infinite loader of training batches (lists of ``PairCropDatasetMapper`` dicts).

    Sources are ``cfg.DATASETS.TRAIN`` mixed by ``DATASETS.TRAIN_WEIGHTS``;
    ``SOLVER.IMS_PER_BATCH`` is the total batch over all processes (divided by the world size,
    as detectron2 does); ``DATALOADER.NUM_WORKERS`` worker processes; ``SEED`` fixes the stream
    (a negative SEED draws one at random).

    Args:
        cfg: a siamtrack config.
        mapper: defaults to ``PairCropDatasetMapper(cfg, is_train=True)``.
        sampler: defaults to ``PairSampler.from_config(cfg)``.
        start_iter: first batch number (pass the trainer's start iteration when resuming).
    """
    world_size, rank = comm.get_world_size(), comm.get_rank()
    total_batch = cfg.SOLVER.IMS_PER_BATCH
    if total_batch <= 0 or total_batch % world_size != 0:
        raise BadInputError(
            f"SOLVER.IMS_PER_BATCH ({total_batch}) must be a positive multiple of the number of "
            f"processes ({world_size})"
        )
    if sampler is None:
        sampler = PairSampler.from_config(cfg)
        if cfg.SEED < 0 and world_size > 1:
            # ranks must agree on the seed: their index ranges are disjoint, not their seeds
            sampler.seed = comm.shared_random_seed()
    if mapper is None:
        mapper = PairCropDatasetMapper(cfg, is_train=True)
    stream = PairStream(sampler, mapper, total_batch // world_size, rank, world_size, start_iter)
    num_workers = int(cfg.DATALOADER.NUM_WORKERS)
    if num_workers > 0 and cv2.getNumThreads() > 1:
        # OpenCV's thread pool does not survive fork(): a forked worker that touches it can
        # deadlock. Stop the pool before the workers are forked (as mmdetection does); the
        # crops are small, so single-threaded OpenCV costs nothing measurable here.
        logger.info("disabling OpenCV multi-threading in the training process (fork safety)")
        cv2.setNumThreads(0)
    return DataLoader(stream, batch_size=None, num_workers=num_workers, collate_fn=_return_batch)
