#!/usr/bin/env python
"""Throughput of the training data path (sampler + PairCropDatasetMapper) on ONE core.

Prints pairs/s per source with the full SiamRPN++ augmentation of the default config
(search blur 0.2, colour 1.0, 20% negative pairs). Everything runs in this process with
OpenCV and torch limited to one thread, i.e. what one DataLoader worker delivers.

    python benchmarks/benchmark_pair_mapper.py                      # bundled sample
    python benchmarks/benchmark_pair_mapper.py --coco-json J --coco-images DIR --sequences DIR
"""

import argparse
import time

import cv2
import torch
from detectron2.config import get_cfg

from siamtrack import add_siamtrack_config
from siamtrack.data import (
    PairCropDatasetMapper,
    PairSampler,
    build_pair_source,
    register_coco_pairs,
    register_sequence_dataset,
)


def measure(name: str, mapper: PairCropDatasetMapper, num_pairs: int, warmup: int = 10) -> float:
    sampler = PairSampler([build_pair_source(name, frame_range=100, min_box_size=4.0)], seed=0)
    for i in range(warmup):
        mapper(sampler.record(i))
    start = time.perf_counter()
    for i in range(warmup, warmup + num_pairs):
        mapper(sampler.record(i))
    return num_pairs / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--coco-json", help="COCO instances json (default: the bundled sample)")
    parser.add_argument("--coco-images", help="image root of --coco-json")
    parser.add_argument("--sequences", help="folder of tracking sequences (any layout)")
    parser.add_argument("--num-pairs", type=int, default=300)
    args = parser.parse_args()

    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    cfg = add_siamtrack_config(get_cfg())
    cfg.SEED = 0
    mapper = PairCropDatasetMapper(cfg, is_train=True)

    sources = ["siamtrack_sample_coco", "siamtrack_sample_train"]
    if args.coco_json:
        register_coco_pairs("benchmark_coco", args.coco_json, args.coco_images or ".")
        sources.append("benchmark_coco")
    if args.sequences:
        register_sequence_dataset("benchmark_sequences", args.sequences)
        sources.append("benchmark_sequences")
    print(
        f"threads: torch {torch.get_num_threads()}, cv2 {cv2.getNumThreads()}; "
        f"{args.num_pairs} pairs per source"
    )
    for name in sources:
        rate = measure(name, mapper, args.num_pairs)
        print(f"{name:28s} {rate:8.1f} pairs/s  ({1000.0 / rate:.1f} ms/pair)")


if __name__ == "__main__":
    main()
