#!/usr/bin/env python
"""Parameter count and compute (fvcore GMAC) of a siamtrack model, per branch.

python tools/analyze_model.py --config-file configs/siamrpn/siamrpn_R_50_l234_dwxcorr.yaml
python tools/analyze_model.py --config-file configs/nanotrack/nanotrack_v3.yaml
python tools/analyze_model.py --config-file configs/... --opts MODEL.RESNETS.DEPTH 18
"""

import argparse
import json
import logging
import sys

# torch-free (the model, which loads torch, is imported after parsing)
from siamtrack.cli import add_model_arguments, run_tool

PROG = "analyze_model.py"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object instead")
    # structure and compute only: random weights, on the CPU
    add_model_arguments(
        parser,
        weights=False,
        trust_weights=False,
        device=False,
        config_required=True,
        config_help="path to a siamtrack config yaml",
    )
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    return run_tool(PROG, lambda: print_report(args))


def analyze(args):
    """(report dict, model): parameters and GMAC of the config's model (random weights)."""
    import torch
    from detectron2.modeling import build_model

    from siamtrack.config import load_config
    from siamtrack.modeling.analysis import analyze_flops, count_parameters

    logging.getLogger("fvcore").setLevel(logging.ERROR)
    torch.manual_seed(0)
    cfg = load_config(args.config_file, list(args.opts) + ["MODEL.DEVICE", "cpu"])
    cfg.MODEL.WEIGHTS = ""  # structure and compute only: random weights
    model = build_model(cfg).eval()
    report = {
        "config": args.config_file,
        "template_size": model.template_size,
        "search_size": model.search_size,
        "score_map": [model.num_anchors, model.score_size, model.score_size],
        "parameters": count_parameters(model),
        "gmac": analyze_flops(model),
    }
    return report, model


def print_report(args) -> int:
    report, model = analyze(args)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    params, gmac = report["parameters"], report["gmac"]
    print(f"config: {args.config_file}")
    print(
        f"crops: template {model.template_size}, search {model.search_size}; "
        f"score map A x H x W = {model.num_anchors} x {model.score_size} x {model.score_size}"
    )
    parts = [name for name, _ in model.named_children()]
    print(f"parameters: {params['total']:,} (trainable now: {params['trainable']:,})")
    for part in parts:
        print(f"  {part:<10} {params.get(part, 0):>12,}")
    print("GMAC (fvcore, 1 multiply-add = 1; x2 for GFLOPs), batch 1:")
    rows = [
        ("template branch (backbone + neck), once per target", "template_branch"),
        ("template kernels (head's template side), once per target", "template_kernels"),
        ("tracking step, cached template features (track())", "track_step"),
    ]
    rows += [(f"  of which {part}", f"track_step/{part}") for part in parts]
    rows += [("tracking step with BatchNorm folded (as the tracker runs it)", "track_step_folded")]
    rows += [
        ("tracking step recomputing the template kernels (pysot)", "track_step_pysot"),
        ("training pair (template + search + head)", "training_pair"),
    ]
    for label, key in rows:
        print(f"  {label:<61} {gmac[key]:8.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
