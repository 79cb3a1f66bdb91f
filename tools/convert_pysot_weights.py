#!/usr/bin/env python
"""Convert pysot weights (SiamRPN++ model.pth, or a torchvision-named ResNet such as pysot's
pretrained resnet50.model) to a siamtrack checkpoint.

    python tools/convert_pysot_weights.py siamrpn_r50_l234_dwxcorr/model.pth \
        output/siamrpn_r50_l234_dwxcorr.pth

By default the weights are checked against configs/siamrpn_R_50_l234_dwxcorr.yaml (every key
mapped, every shape equal, the whole model covered) before anything is written; an existing
OUT is never replaced unless --overwrite is given. (SiamCheckpointer also loads model.pth
directly; converting once makes later loads faster and the file self-describing.)
"""

import argparse
import os
import sys

from detectron2.config import get_cfg
from detectron2.modeling import build_model

import siamtrack  # noqa: F401  (registers the model)
from siamtrack import add_siamtrack_config
from siamtrack.checkpoint import InvalidCheckpointError, convert_checkpoint_file

DEFAULT_CONFIG = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "configs", "siamrpn_R_50_l234_dwxcorr.yaml"
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input", metavar="IN", help="pysot model.pth (or ResNet .pth/.model)")
    parser.add_argument("output", metavar="OUT", help="siamtrack checkpoint to write (.pth)")
    parser.add_argument(
        "--config-file",
        default=DEFAULT_CONFIG,
        help="config of the model the weights must fit ('' skips the check)",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace an existing OUT")
    parser.add_argument("--opts", nargs=argparse.REMAINDER, default=[], help="KEY VALUE ...")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    model = None
    if args.config_file:
        cfg = add_siamtrack_config(get_cfg())
        cfg.merge_from_file(args.config_file)
        cfg.merge_from_list(args.opts)
        cfg.MODEL.DEVICE = "cpu"
        cfg.MODEL.WEIGHTS = ""
        cfg.MODEL.BACKBONE.FREEZE_AT = 0  # keep every BN buffer for the check
        model = build_model(cfg)
    try:
        summary = convert_checkpoint_file(
            args.input, args.output, model=model, overwrite=args.overwrite
        )
    except (FileNotFoundError, FileExistsError, InvalidCheckpointError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(
        f"converted {summary['num_tensors']} tensors ({summary['format']} format) "
        f"-> {summary['output']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
