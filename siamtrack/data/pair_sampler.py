"""Mixing several pair sources into one reproducible stream of pair records.

The record for a global sample index is a pure function of ``(seed, index)``, so any worker,
process or resumed run that asks for index ``i`` gets the same pair. Mixing follows pysot's
NUM_USE / VIDEOS_PER_EPOCH scheme (``docs/siamrpnpp.md#training-recipe``): an epoch of ``samples_per_epoch`` slots is split
between the sources by their weights; inside a source the items (images or sequences) are
taken from concatenated random permutations, so every item is used about equally often before
any repeats; the slots are then shuffled.

A record (the input of ``PairCropDatasetMapper``):
``{"template": frame, "search": frame, "distractor": frame or None, "dataset_name": str,
"seed": int}`` with frames as in ``pair_sources.py``. The distractor is a random object of a
source drawn by weight, different from the template's object; the mapper decides whether the
pair is negative (``INPUT.NEGATIVE_PAIR_PROB``) and then centres the search crop on it.
"""

import logging
from typing import Dict, List, Optional, Sequence, Union

import numpy as np

from ..errors import BadInputError
from .catalog import get_dataset_dicts, is_sequence_dataset
from .pair_sources import ImagePairSource, SequencePairSource

logger = logging.getLogger(__name__)

__all__ = ["PairSampler", "build_pair_source", "build_pair_sources"]

PairSource = Union[ImagePairSource, SequencePairSource]
DEFAULT_FRAME_RANGE = 100


def build_pair_source(
    name: str,
    frame_range: int = DEFAULT_FRAME_RANGE,
    min_box_size: float = 0.0,
    skip_crowd: bool = True,
) -> PairSource:
    """Load a registered dataset and index it as a pair source (sequence or still images)."""
    dicts = get_dataset_dicts(name)
    if is_sequence_dataset(name) or "frame_paths" in dicts[0]:
        return SequencePairSource(name, dicts, frame_range, min_box_size)
    return ImagePairSource(name, dicts, min_box_size, skip_crowd)


def _per_source(values: Sequence, count: int, key: str, default) -> List:
    values = list(values)
    if not values:
        return [default] * count
    if len(values) == 1:
        return values * count
    if len(values) != count:
        raise BadInputError(
            f"{key} has {len(values)} values for {count} DATASETS.TRAIN sources: give one value "
            "per source (same order), a single value for all, or none"
        )
    return values


def build_pair_sources(cfg) -> List[PairSource]:
    """The pair sources of ``cfg.DATASETS.TRAIN`` with the config's filters and frame ranges."""
    names = list(cfg.DATASETS.TRAIN)
    if not names:
        raise BadInputError("DATASETS.TRAIN is empty: name at least one registered dataset")
    ranges = _per_source(
        cfg.DATASETS.TRAIN_FRAME_RANGE,
        len(names),
        "DATASETS.TRAIN_FRAME_RANGE",
        DEFAULT_FRAME_RANGE,
    )
    return [
        build_pair_source(n, int(r), cfg.DATASETS.MIN_BOX_SIZE, cfg.DATASETS.SKIP_CROWD)
        for n, r in zip(names, ranges)
    ]


class PairSampler:
    """Reproducible mixture of pair sources.

    Args:
        sources: pair sources (``build_pair_sources``).
        weights: sampling weight per source; None/empty = proportional to ``num_items``.
        samples_per_epoch: slots per epoch (``DATASETS.SAMPLES_PER_EPOCH``).
        seed: base seed; records depend only on ``(seed, index)``.
        max_distractor_draws: tries to find a distractor that is not the template's object.
    """

    def __init__(
        self,
        sources: Sequence[PairSource],
        weights: Optional[Sequence[float]] = None,
        samples_per_epoch: int = 600000,
        seed: int = 0,
        max_distractor_draws: int = 10,
    ):
        if not sources:
            raise BadInputError("PairSampler needs at least one source")
        self.sources = list(sources)
        if weights is None or len(weights) == 0:
            weights = [s.num_items for s in self.sources]
        weights = np.asarray(_per_source(weights, len(self.sources), "weights", 1.0), dtype=float)
        if np.any(weights < 0) or not np.isfinite(weights).all() or weights.sum() <= 0:
            raise BadInputError(f"source weights must be >= 0 with a positive sum, got {weights}")
        self.weights = weights / weights.sum()
        if samples_per_epoch <= 0:
            raise BadInputError(f"samples per epoch must be positive, got {samples_per_epoch}")
        self.samples_per_epoch = int(samples_per_epoch)
        self.seed = int(seed)
        self.max_distractor_draws = int(max_distractor_draws)
        self._epoch = -1
        self._table = None
        total_objects = sum(getattr(s, "num_objects", s.num_items) for s in self.sources)
        if total_objects < 2:
            logger.warning("only one object in the training data: every pair will be positive")

    @classmethod
    def from_config(cls, cfg, sources: Optional[Sequence[PairSource]] = None) -> "PairSampler":
        sources = build_pair_sources(cfg) if sources is None else sources
        seed = cfg.SEED if cfg.SEED >= 0 else int(np.random.SeedSequence().entropy % (2**31))
        return cls(sources, list(cfg.DATASETS.TRAIN_WEIGHTS), cfg.DATASETS.SAMPLES_PER_EPOCH, seed)

    def _epoch_table(self, epoch: int) -> np.ndarray:
        """(samples_per_epoch, 2) int array of (source, item) per slot of an epoch."""
        if epoch != self._epoch:
            rng = np.random.default_rng([self.seed, epoch, 0x5A17])
            counts = np.floor(self.weights * self.samples_per_epoch).astype(np.int64)
            remainder = self.samples_per_epoch - counts.sum()
            order = np.argsort(-(self.weights * self.samples_per_epoch - counts), kind="stable")
            counts[order[:remainder]] += 1
            columns = []
            for source_index, (source, count) in enumerate(zip(self.sources, counts)):
                if count == 0:
                    continue
                repeats = -(-count // source.num_items)
                items = np.concatenate([rng.permutation(source.num_items) for _ in range(repeats)])
                columns.append(np.stack([np.full(count, source_index), items[:count]], axis=1))
            table = np.concatenate(columns)
            self._table = table[rng.permutation(len(table))]
            self._epoch = epoch
        return self._table

    def _draw_distractor(self, template: Dict, rng: np.random.Generator) -> Optional[Dict]:
        for _ in range(self.max_distractor_draws):
            source = self.sources[int(rng.choice(len(self.sources), p=self.weights))]
            frame = source.sample_target(int(rng.integers(source.num_items)), rng)
            if frame["object_id"] != template["object_id"]:
                return frame
        return None

    def record(self, index: int, attempt: int = 0) -> Dict:
        """The pair record of global sample ``index`` (``attempt`` > 0: a replacement draw)."""
        epoch, slot = divmod(int(index), self.samples_per_epoch)
        source_index, item = self._epoch_table(epoch)[slot]
        rng = np.random.default_rng([self.seed, int(index), int(attempt)])
        if attempt > 0:  # the original item could not be used: draw another one of the source
            item = int(rng.integers(self.sources[source_index].num_items))
        source = self.sources[int(source_index)]
        template, search = source.sample_positive(int(item), rng)
        return {
            "template": template,
            "search": search,
            "distractor": self._draw_distractor(template, rng),
            "dataset_name": source.name,
            "seed": int(rng.integers(2**62)),
        }
