"""Command line of the model zoo.

  python -m siamtrack.model_zoo list                     # name, config, where the file is, source
  python -m siamtrack.model_zoo download nanotrack_v3    # prints the path of the verified file

``--weights-dir`` / ``--cache-dir`` override ``$SIAMTRACK_WEIGHTS_DIR`` / ``$SIAMTRACK_CACHE_DIR``.
Errors print one line on stderr and exit with code 2.
"""

import argparse
import sys
from typing import List, Optional

from .entries import get_model, list_models
from .resolve import find_weights, resolve_weights

EXIT_ERROR = 2


def build_parser() -> argparse.ArgumentParser:
    """Arguments of ``python -m siamtrack.model_zoo``."""
    parser = argparse.ArgumentParser(
        prog="python -m siamtrack.model_zoo", description="siamtrack's named pretrained weights"
    )
    folders = argparse.ArgumentParser(add_help=False)
    folders.add_argument("--weights-dir", help="local weights folder ($SIAMTRACK_WEIGHTS_DIR)")
    folders.add_argument("--cache-dir", help="download cache ($SIAMTRACK_CACHE_DIR)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", parents=[folders], help="list the models and where they are")
    download = commands.add_parser(
        "download", parents=[folders], help="fetch and verify models, print their paths"
    )
    download.add_argument("names", nargs="+", metavar="NAME", help="model-zoo name(s)")
    download.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def _list(weights_dir: Optional[str], cache_dir: Optional[str]) -> None:
    rows = [("name", "config", "weights", "source")]
    for name in list_models():
        entry = get_model(name)
        found = find_weights(name, weights_dir=weights_dir, cache_dir=cache_dir)
        status = f"{found[1]}: {found[0]}" if found else "not downloaded"
        source = entry.url if entry.downloadable else f"by hand: {entry.source_page}"
        rows.append((name, entry.config_file, status, source))
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[3])


def main(argv: Optional[List[str]] = None) -> int:
    """Run the command line; returns the exit code (0, or 2 after an error)."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "list":
            _list(args.weights_dir, args.cache_dir)
        else:
            for name in args.names:
                path = resolve_weights(
                    name,
                    weights_dir=args.weights_dir,
                    cache_dir=args.cache_dir,
                    progress=not args.no_progress,
                )
                print(path, flush=True)
    except (OSError, ValueError, KeyError) as exc:  # the zoo's errors name the fix
        message = " ".join(str(exc).split())
        print(f"error: {message}", file=sys.stderr)
        return EXIT_ERROR
    return 0


if __name__ == "__main__":
    sys.exit(main())
