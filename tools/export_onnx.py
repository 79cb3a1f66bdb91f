#!/usr/bin/env python
"""Export a trained siamtrack model to ONNX, for onnxruntime or for OpenCV's cv2.TrackerNano.

    # siamtrack's layout (template.onnx + track.onnx), any family; run it with
    # TRACKER.BACKEND onnxruntime TRACKER.ONNX_DIR out/nanotrack_v2_onnx
    python tools/export_onnx.py --weights nanotrack_v2 --output out/nanotrack_v2_onnx --check
    python tools/export_onnx.py --config-file configs/siamrpn_R_50_l234_dwxcorr.yaml \
        --weights model.pth --output out/siamrpn_r50_onnx
    # OpenCV's layout (nanotrack_backbone.onnx + nanotrack_head.onnx) for cv2.TrackerNano:
    # NanoTrack-family models with a 16x16 score map (v1, v2 and models fine-tuned from them)
    python tools/export_onnx.py --config-file configs/nanotrack/nanotrack_v2.yaml \
        --weights output/model_final.pth --output out/nano_cv2 --layout opencv-nano --check

--config-file may be left out when --weights is a model zoo name. An output folder that already
holds an export is refused unless --force; nothing is written when anything fails (exit 2) or
when --check finds a difference above 1e-4 of an output's range (exit 1).
"""

import argparse
import sys

PROG = "export_onnx.py"
LAYOUTS = ("siamtrack", "opencv-nano")  # siamtrack.export.LAYOUTS (not imported before --help)
CHECK_TOLERANCE = 1e-4  # max difference relative to the output's range


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    parser.add_argument("--config-file", metavar="FILE", help="config yaml of the model")
    parser.add_argument(
        "--weights",
        help="checkpoint file or model zoo name (nanotrack_v2, ...): MODEL.WEIGHTS; a zoo name "
        "alone brings its config",
    )
    parser.add_argument(
        "--trust-weights",
        action="store_true",
        help="load the weights file with full unpickling (only for files you trust)",
    )
    parser.add_argument("--output", required=True, help="folder to write the ONNX files into")
    parser.add_argument(
        "--layout",
        choices=LAYOUTS,
        default="siamtrack",
        help="siamtrack: template.onnx + track.onnx (onnxruntime backend); opencv-nano: "
        "nanotrack_backbone.onnx + nanotrack_head.onnx (cv2.TrackerNano)",
    )
    parser.add_argument(
        "--check", action="store_true", help="compare onnxruntime with PyTorch before writing"
    )
    parser.add_argument("--force", action="store_true", help="replace an existing export")
    parser.add_argument(
        "--opts",
        default=[],
        nargs=argparse.REMAINDER,
        help="config overrides as KEY VALUE pairs (must come last)",
    )
    return parser


def main(argv=None) -> int:
    args = get_parser().parse_args(argv)
    # imported after parsing: siamtrack loads torch and detectron2, --help should not wait
    from siamtrack.cli import run_tool

    return run_tool(PROG, lambda: export(args))


def export(args) -> int:
    from siamtrack.checkpoint import build_model_with_weights
    from siamtrack.cli import config_from_args
    from siamtrack.export import (
        EXPORT_FILES,
        check_export,
        check_output_dir,
        export_graphs,
        import_onnxruntime,
        save_export,
    )

    check_output_dir(args.output, force=args.force)  # fail before the slow part
    if args.check:
        import_onnxruntime()
    # exported on the CPU whatever the config's device (and without its "no CUDA" warning)
    cfg = config_from_args(
        argparse.Namespace(**{**vars(args), "opts": ["MODEL.DEVICE", "cpu", *args.opts]})
    )
    model = build_model_with_weights(cfg, "cpu", require_weights=True)
    graphs = export_graphs(model, args.layout)
    if args.check:
        differences = check_export(model, graphs, batch_sizes=(1, 2))
        for difference in differences:
            print(difference)
        worst = max(d.max_rel for d in differences)
        if worst > CHECK_TOLERANCE:
            print(
                f"{PROG}: check failed: max relative difference {worst:.3g} > {CHECK_TOLERANCE} "
                "(nothing written)",
                file=sys.stderr,
            )
            return 1
        print(f"check passed: max relative difference {worst:.3g} <= {CHECK_TOLERANCE}")
    for path in save_export(graphs, args.output, force=args.force):
        print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB)")
    if args.layout == "siamtrack":
        print(f"run it with: TRACKER.BACKEND onnxruntime TRACKER.ONNX_DIR {args.output}")
    else:
        backbone, head = (f"{args.output}/{name}" for name in EXPORT_FILES["opencv-nano"])
        print(f"run it with: cv2.TrackerNano_Params() backbone={backbone} neckhead={head}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
