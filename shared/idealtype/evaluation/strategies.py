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
    # `adaptive` without the early finish: always the quiz's every round.
    "adaptive-full": {"finish_concentration": 0.0},
    # Same posterior as `adaptive`, recommend by closeness to the posterior mean.
    "adaptive-mean": {"rank_rule": "closeness"},
    # Continuous Gaussian-prior posterior (EP proposal + importance samples) instead of blends.
    "adaptive-gauss": {"blend_particles": 0, "single_prior_mass": 0.3, "gauss_prior_mass": 0.7,
                       "gauss_samples": 256},
    # Blend posterior sharpened for the result by resample-move (MCMC over the blended people).
    "adaptive-move": {"move_particles": 2000, "move_steps": 8},
    # Blend posterior with importance-weighted blends drawn near it for the result.
    "adaptive-refine": {"refine_particles": 16000},
    # Displays that also ask about the liked set of the people most likely recommended.
    "adaptive-liked": {"display_liked_weight": 8.0},
    # Every blend of 1-3 of the people the picks point to, enumerated per request.
    "adaptive-enum": {"enum_candidates": 48},
    # The same, seeded from the fixed posterior's heaviest particles (one enumeration, not two).
    "adaptive-enum-fast": {"enum_candidates": 48, "enum_first_pass": False},
}


def resolve(name: str) -> Strategy:
    served = available()
    if name in served:
        return served[name]
    if name in VARIANTS:
        from dataclasses import replace

        return AdaptiveStrategy(replace(DEFAULT, **VARIANTS[name]))
    if name == "reference-triples":  # a cheating ceiling (knows the simulator's prior)
        from .cheating_reference import ReferenceTriplesStrategy

        return ReferenceTriplesStrategy()
    raise KeyError(f"unknown strategy {name!r}; served: {', '.join(served)}; "
                   f"variants: {', '.join(VARIANTS)}, reference-triples")
