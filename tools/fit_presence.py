#!/usr/bin/env python
"""Fit a tracker's presence model (the confidence that its box is on the target) on long-term
sequences.

    python tools/fit_presence.py --weights nanotrack_v3 \
        --sequences ../data/my_longterm_videos --output my_presence.json
    # then track with it:  --opts TRACKER.PRESENCE_MODEL my_presence.json

The sequences (folders in any layout siamtrack reads, see datasets/README.md) need ground truth
with ``nan,nan,nan,nan`` rows where the target is absent: the model learns from frames where the
tracker is on the target and frames where it is not. Use data that you will not evaluate on.
The tracker runs with re-detection off; per frame the local search and --tiles-per-frame random
re-detection tiles are scored (docs/longterm.md). Prints the reliability table (on
--holdout sequences when given) and writes the model as JSON (refused if it exists, unless
--force).
"""

import argparse
import sys

# torch-free (the tracker is imported after parsing)
from siamtrack.cli import add_model_arguments, run_tool

PROG = "fit_presence.py"


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sequences", nargs="+", required=True, metavar="DIR",
        help="sequence folders, or folders of sequences, with nan rows for absent frames",
    )  # fmt: skip
    parser.add_argument(
        "--holdout", nargs="*", default=[], metavar="DIR",
        help="sequences kept out of the fit, to print the reliability table on",
    )  # fmt: skip
    parser.add_argument("--output", required=True, help="JSON file to write the model to")
    parser.add_argument("--tiles-per-frame", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--force", action="store_true", help="replace an existing --output")
    add_model_arguments(parser)
    return parser


def main(argv=None) -> int:
    args = get_parser().parse_args(argv)
    return run_tool(PROG, lambda: fit(args))


def fit(args) -> int:
    from siamtrack.config import config_from_args
    from siamtrack.io import check_output_path
    from siamtrack.tracking.presence_fitting import fit_presence_on_sequences

    check_output_path(args.output, overwrite=args.force)  # fail before the slow part
    cfg = config_from_args(args)
    cfg.defrost()
    cfg.TRACKER.LONG_TERM = False
    cfg.TRACKER.PRESENCE_MODEL = ""
    report = fit_presence_on_sequences(
        cfg,
        args.sequences,
        holdout=args.holdout,
        tiles_per_frame=args.tiles_per_frame,
        seed=args.seed,
    )
    print(report.summary())
    path = report.model.save(args.output, overwrite=args.force)
    print(f"wrote {path}; use it with TRACKER.PRESENCE_MODEL {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
