#!/usr/bin/env python
"""Export a trained siamtrack model to ONNX, for onnxruntime or for OpenCV's cv2.TrackerNano.

    # siamtrack's layout (template.onnx + track.onnx), any family; run it with
    # TRACKER.BACKEND onnxruntime TRACKER.ONNX_DIR out/nanotrack_v2_onnx
    python tools/export_onnx.py --weights nanotrack_v2 --output out/nanotrack_v2_onnx --check
    python tools/export_onnx.py --config-file configs/siamrpn/siamrpn_R_50_l234_dwxcorr.yaml \
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

# torch-free (the model and the exporters, which load torch, are imported after parsing)
from siamtrack.cli import add_model_arguments, export_layouts, run_tool

PROG = "export_onnx.py"
# siamtrack.export.export_layouts(), read from the families' manifests before torch is loaded
LAYOUTS = tuple(export_layouts())
CHECK_TOLERANCE = 1e-4  # max difference relative to the output's range


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    parser.add_argument("--output", required=True, help="folder to write the ONNX files into")
    parser.add_argument(
        "--layout",
        choices=LAYOUTS,
        default="siamtrack",
        help="; ".join(f"{name}: {what}" for name, what in export_layouts().items()),
    )
    parser.add_argument(
        "--check", action="store_true", help="compare onnxruntime with PyTorch before writing"
    )
    parser.add_argument("--force", action="store_true", help="replace an existing export")
    add_model_arguments(parser, device=False)  # exported on the CPU
    return parser


def main(argv=None) -> int:
    args = get_parser().parse_args(argv)
    return run_tool(PROG, lambda: export(args))


def export(args) -> int:
    from siamtrack.checkpoint import build_model_with_weights
    from siamtrack.config import config_from_args
    from siamtrack.export import (
        check_export,
        check_no_previous_export,
        export_graphs,
        export_layout,
        import_onnxruntime,
        save_export,
    )

    check_no_previous_export(args.output, overwrite=args.force)  # fail before the slow part
    if args.check:
        import_onnxruntime()
    # exported on the CPU whatever the config's device
    cfg = config_from_args(argparse.Namespace(**vars(args), device="cpu"))
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
    for path in save_export(graphs, args.output, overwrite=args.force):
        print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB)")
    print(export_layout(args.layout).usage(args.output))
    return 0


if __name__ == "__main__":
    sys.exit(main())
