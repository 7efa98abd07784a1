"""argparse types shared by the `idealtype` subcommands: numbers a command cannot run with
are refused on the command line (exit 2, a one-line reason) instead of failing deep inside
it or, worse, meaning something else (a negative --limit sliced "all but the last")."""

from __future__ import annotations

import argparse


def at_least(low: int):
    """Type: an integer >= low."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, not {value}")
        return value

    return parse


def port_number(text: str) -> int:
    """Type: a TCP port (uvicorn given one out of range waits forever without a word)."""
    try:
        port = int(text)
    except ValueError:
        port = 0
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"a TCP port is 1-65535, not {text!r}")
    return port
