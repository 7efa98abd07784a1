"""`idealtype` command line. Each subcommand lives in its own module and is imported only when
used, so `idealtype serve` never loads torch and `idealtype build` never loads FastAPI."""

from __future__ import annotations

import importlib
import sys

# subcommand -> (module exposing `add_arguments(parser)` and `run(args) -> int`, help)
COMMANDS = {
    "weights": ("idealtype.build.weights_cli", "convert/cache the FaceNet weights"),
    "build": ("idealtype.build.build_cli", "build a gallery index from photos"),
    "serve": ("idealtype.serve_cli", "serve the quiz (API + frontend) locally"),
    "demo": ("idealtype.demo_cli", "build the demo index (cached) and serve it"),
    "eval": ("idealtype.evaluation.eval_cli", "simulate users and score strategies"),
    "explore": ("idealtype.explore.explore_cli", "HTML report of what the features mean"),
}


def main(argv: list[str] | None = None) -> int:
    import argparse

    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="idealtype", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    if argv and argv[0] in COMMANDS:
        # Import only the chosen command's module (lazy: keeps torch out of other commands).
        name = argv[0]
        module = importlib.import_module(COMMANDS[name][0])
        module.add_arguments(sub.add_parser(name, help=COMMANDS[name][1]))
    else:
        for name, (_, help_text) in COMMANDS.items():
            sub.add_parser(name, help=help_text)
    args = parser.parse_args(argv)
    return int(module.run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
