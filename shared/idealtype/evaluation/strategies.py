"""Strategies the evaluation can score: every registered (served) strategy by its name, plus
named research variants of `adaptive` that are not served (e.g. the issue's "posterior over
people as hypotheses"), built from the same code with another configuration."""

from __future__ import annotations

from ..quiz.strategies import Strategy, available
from ..quiz.strategies.adaptive import AdaptiveStrategy
from ..quiz.strategies.adaptive_config import DEFAULT

VARIANTS = {
    # Hypotheses = single people only, recommend the most probable people.
    "adaptive-people": {"single_prior_mass": 1.0, "blend_particles": 0, "rank_rule": "people"},
    # Same posterior as `adaptive`, recommend by closeness to the posterior mean.
    "adaptive-mean": {"rank_rule": "closeness"},
}


def resolve(name: str) -> Strategy:
    served = available()
    if name in served:
        return served[name]
    if name in VARIANTS:
        from dataclasses import replace

        return AdaptiveStrategy(replace(DEFAULT, **VARIANTS[name]))
    raise KeyError(f"unknown strategy {name!r}; served: {', '.join(served)}; "
                   f"variants: {', '.join(VARIANTS)}")
