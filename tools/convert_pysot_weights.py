#!/usr/bin/env python
"""Convert pysot weights (SiamRPN++ model.pth, or a torchvision-named ResNet such as pysot's
pretrained resnet50.model) to a siamtrack checkpoint.

    python tools/convert_pysot_weights.py siamrpn_r50_l234_dwxcorr/model.pth \
        output/siamrpn_r50_l234_dwxcorr.pth

By default the weights are checked against configs/siamrpn/siamrpn_R_50_l234_dwxcorr.yaml (every key
mapped, every shape equal, the whole model covered) before anything is written; an existing
OUT is never replaced unless --force is given. (SiamCheckpointer also loads model.pth
directly; converting once makes later loads faster and the file self-describing.) Exit code 2
on bad input.
"""

import argparse
import os
import sys

# torch-free (the checkpoint code, which loads torch, is imported after parsing)
from siamtrack.cli import add_model_arguments, run_tool

PROG = "convert_pysot_weights.py"
DEFAULT_CONFIG = os.path.join(
    os.path.dirname(os.path.abspath(__file__)),
    "..",
    "configs",
    "siamrpn",
    "siamrpn_R_50_l234_dwxcorr.yaml",
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    parser.add_argument("input", metavar="IN", help="pysot model.pth (or ResNet .pth/.model)")
    parser.add_argument("output", metavar="OUT", help="siamtrack checkpoint to write (.pth)")
    parser.add_argument("--force", action="store_true", help="replace an existing OUT")
    add_model_arguments(
        parser,
        weights=False,  # the weights are IN
        device=False,  # checked on the CPU
        config_default=DEFAULT_CONFIG,
        config_help="config of the model the weights must fit ('' skips the check)",
    )
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    return run_tool(PROG, lambda: convert(args))


def convert(args) -> int:
    from detectron2.modeling import build_model

    from siamtrack.checkpoint import convert_checkpoint_file
    from siamtrack.config import load_config

    model = None
    if args.config_file:
        opts = list(args.opts) + ["MODEL.DEVICE", "cpu", "MODEL.WEIGHTS", ""]
        cfg = load_config(args.config_file, opts + ["MODEL.BACKBONE.FREEZE_AT", 0])
        model = build_model(cfg)  # every BN buffer kept (FREEZE_AT 0) for the check
    summary = convert_checkpoint_file(
        args.input,
        args.output,
        model=model,
        overwrite=args.force,
        trust=args.trust_weights,
        formats=("pysot", "resnet"),
    )
    print(
        f"converted {summary['num_tensors']} tensors ({summary['format']} format) "
        f"-> {summary['output']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
