"""Round strategies. Every module in this package (except `base`) is imported on first use and
registers its strategies with `@register`; see `base.py` for the interface."""

from __future__ import annotations

import importlib
import pkgutil

from .base import NONE_OF_THESE, STRATEGIES, RoundRecord, Strategy, register, round_rng

__all__ = ["NONE_OF_THESE", "STRATEGIES", "RoundRecord", "Strategy", "available", "get_strategy", "register",
           "round_rng"]

_discovered = False


def _discover() -> None:
    global _discovered
    if not _discovered:
        for module in pkgutil.iter_modules(__path__):
            if module.name != "base":
                importlib.import_module(f"{__name__}.{module.name}")
        _discovered = True


def available() -> dict[str, Strategy]:
    """name -> strategy instance, for all strategies in this package."""
    _discover()
    return dict(sorted(STRATEGIES.items()))


def get_strategy(name: str) -> Strategy:
    _discover()
    strategy = STRATEGIES.get(name)
    if strategy is None:
        raise KeyError(f"unknown strategy {name!r}; available: {', '.join(available())}")
    return strategy
