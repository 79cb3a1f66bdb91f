#!/usr/bin/env python
"""One-pass evaluation (OPE) of trackers on sequence folders or registered datasets.

Examples:
    # our tracker + OpenCV's MIL on OTB-style folders; tables, JSON and plots in out/
    python tools/eval_tracker.py --dataset-root /data/OTB100 --config-file cfg.yaml \
        --weights model.pth --baselines MIL --output-dir out
    # compare result files that already exist (pysot / got10k layouts) in out/results
    python tools/eval_tracker.py --dataset siamtrack_sample_val --output-dir out --compare all

Each benchmark is scored with its own rule, picked from the folder layout (--protocol auto):
otb (OTB/generic), lasot (LaSOT), got10k (GOT-10k: AO, SR0.50, SR0.75 as the got10k toolkit)
or longterm (generic folders whose ground truth has nan,nan,nan,nan rows for absent frames:
VOT-LT tracking F-score, precision, recall from the trackers' confidences); --protocol NAME
overrides it. Results go to <results-dir>/<tracker>/ (default <output-dir>/results), boxes with
a confidence file next to them; existing result files are reused unless --force. Writes
<output-dir>/ope_results.json and the protocol's plots (success_plot.png, + precision_plot.png
for otb/lasot, + precision_recall_plot.png for longterm), replaced on every run. Exit code 2 on
bad input.
"""

import argparse
import sys

# torch-free (the trackers, which load torch and detectron2, are imported after parsing)
from siamtrack.cli import add_model_arguments, run_tool

PROG = "eval_tracker.py"


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n")[0])
    data = parser.add_mutually_exclusive_group(required=True)
    data.add_argument(
        "--dataset-root",
        help="a sequence folder or a folder of sequences "
        "(OTB/generic, GOT-10k or LaSOT layout, see datasets/README.md)",
    )
    data.add_argument("--dataset", help="a registered sequence dataset, e.g. siamtrack_sample_val")
    parser.add_argument("--tracker-name", default="siamtrack", help="name of our tracker's results")
    parser.add_argument(
        "--baselines",
        nargs="*",
        default=[],
        metavar="NAME",
        help="OpenCV trackers to run as baselines (MIL; CSRT, KCF with opencv-contrib)",
    )
    parser.add_argument(
        "--compare",
        nargs="*",
        default=[],
        metavar="NAME",
        help="also evaluate existing results of these trackers in --results-dir ('all')",
    )
    parser.add_argument("--output-dir", required=True, help="folder for tables, JSON and plots")
    parser.add_argument("--results-dir", help="tracker result files (default: OUTPUT_DIR/results)")
    parser.add_argument(
        "--protocol",
        default="auto",
        help="scoring rule: auto (by layout), otb, lasot, got10k or longterm",
    )
    parser.add_argument(
        "--format",
        choices=("otb", "got10k"),
        help="result layout (default: got10k under the got10k protocol, otherwise otb)",
    )
    skip_help = "otb/lasot: leave frame 0 out too (got10k always does)"
    parser.add_argument("--skip-first-frame", action="store_true", help=skip_help)
    parser.add_argument("--force", action="store_true", help="re-track and overwrite result files")
    parser.add_argument("--per-sequence", action="store_true", help="print per-sequence rows")
    add_model_arguments(
        parser,
        config_help="run siamtrack's tracker with this config (optional when --weights is a "
        "model zoo name)",
    )
    return parser


def main(argv=None) -> int:
    args = get_parser().parse_args(argv)
    return run_tool(PROG, lambda: evaluate(args))


def evaluate(args) -> int:
    import logging
    from pathlib import Path

    from siamtrack import SiamTracker
    from siamtrack.config import config_from_args
    from siamtrack.data import get_sequences
    from siamtrack.errors import BadInputError
    from siamtrack.evaluation import (
        evaluate_results,
        format_table,
        plot_reports,
        resolve_protocol,
        run_ope,
        save_reports_json,
    )
    from siamtrack.io import list_trackers, load_sequences
    from siamtrack.tracking import OpenCVTracker

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    output_dir = Path(args.output_dir)
    results_dir = Path(args.results_dir) if args.results_dir else output_dir / "results"
    if not (args.config_file or args.weights or args.baselines or args.compare):
        raise BadInputError("nothing to evaluate: give --config-file, --baselines and/or --compare")
    sequences = (
        load_sequences(args.dataset_root) if args.dataset_root else get_sequences(args.dataset)
    )
    protocol = resolve_protocol(args.protocol, sequences, skip_first_frame=args.skip_first_frame)
    result_format = args.format or ("got10k" if protocol.name == "got10k" else "otb")
    common = dict(
        result_dir=results_dir, result_format=result_format, overwrite=args.force, protocol=protocol
    )
    reports = []
    if args.config_file or args.weights:
        tracker = SiamTracker(config_from_args(args))  # --device is MODEL.DEVICE
        reports.append(run_ope(tracker, sequences, tracker_name=args.tracker_name, **common))
    for name in args.baselines:
        tracker = OpenCVTracker(name)
        reports.append(run_ope(tracker, sequences, tracker_name=f"OpenCV-{name}", **common))
    done = {r.tracker_name for r in reports}
    others = list_trackers(results_dir) if args.compare == ["all"] else args.compare
    for name in (n for n in others if n not in done):
        reports.append(evaluate_results(results_dir, name, sequences, protocol=protocol))
    if not reports:
        raise BadInputError(f"no tracker results found in {results_dir}")
    output_dir.mkdir(parents=True, exist_ok=True)
    json_path = save_reports_json(reports, output_dir / "ope_results.json")
    plots = plot_reports(reports, output_dir)
    print(f"{len(sequences)} sequences, {sum(len(s) for s in sequences)} frames")
    print(format_table(reports, per_sequence=args.per_sequence))
    plot_list = ", ".join(str(path) for path in plots.values())
    print(f"results: {results_dir}\nnumbers: {json_path}\nplots: {plot_list}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
