"""Rounds past the information bound (adaptive_display.with_blends): a forced round is scored
under Gibbs blend samples given the picks as well as the posterior's particles, and may show
the people nearest those samples."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from idealtype.quiz.strategies import NONE_OF_THESE, RoundRecord, blend_gibbs, round_rng
from idealtype.quiz.strategies.adaptive import AdaptiveStrategy
from idealtype.quiz.strategies.adaptive_config import DEFAULT
from idealtype.quiz.strategies.adaptive_display import (
    candidate_people,
    particle_vectors,
    with_blends,
)
from idealtype.quiz.strategies.adaptive_model import adaptive_model
from idealtype.quiz.strategies.base import information_bound, shown_celebs
from idealtype.quiz.strategies.blend_gibbs import pick_differences
from idealtype.quiz.strategies.posterior import anchor_products, posterior

BLENDED = [5, 250, 400]  # the simulated person's ideal: these pool people, blended


def blend_quiz(pool, rounds: int, strategy: AdaptiveStrategy) -> list[RoundRecord]:
    """`rounds` rounds of `strategy` picked by a perfect chooser whose ideal blends BLENDED."""
    ideal = pool.index.centroids[pool.celeb_rows[BLENDED]].sum(0)
    history: list[RoundRecord] = []
    for r in range(rounds):
        shown = strategy.next_round(pool, history, 4, round_rng(3, r))
        sims = pool.index.embeddings[shown] @ ideal
        history.append(RoundRecord(tuple(shown), shown[int(np.argmax(sims))]))
    return history


def test_forced_rounds_use_blend_samples_from_the_information_bound_on(facelike_pool):
    """600 people, N=4: the bound is 4 answered rounds. Before it a round is the particles'
    alone (as with the samples off); from it on the faces differ as a set (not merely in
    order), unless the round offers "none of these" after the person has used it, or the
    sampler is off."""
    pool = facelike_pool
    assert information_bound(len(pool.celeb_rows), 4) == 4
    on = AdaptiveStrategy()
    variants = {"draws 0": AdaptiveStrategy(replace(DEFAULT, display_blend_draws=0)),
                "sampler off": AdaptiveStrategy(replace(DEFAULT, gibbs_candidates=0))}
    history = blend_quiz(pool, 6, on)
    for picks in range(1, 7):
        faces = sorted(on.next_round(pool, history[:picks], 4, round_rng(9, picks)))
        for name, off in variants.items():
            other = sorted(off.next_round(pool, history[:picks], 4, round_rng(9, picks)))
            assert (faces != other) == (picks >= 4), (name, picks)
    declined = [*history[:5], RoundRecord(history[5].shown, NONE_OF_THESE, True)]
    assert (on.next_round(pool, declined, 4, round_rng(9, 7))
            == variants["draws 0"].next_round(pool, declined, 4, round_rng(9, 7)))


def test_with_blends_swaps_particles_for_samples_that_explain_the_picks(facelike_pool):
    """The round keeps its number of hypotheses: the last `display_blend_draws` particles give
    way to draws of blend samples, which agree with the picks more often than the particles
    they replace, and the people nearest the samples join the candidates (never anyone
    shown)."""
    pool, cfg = facelike_pool, DEFAULT
    emb = pool.index.embeddings
    model = adaptive_model(pool, cfg)
    history = blend_quiz(pool, 6, AdaptiveStrategy())
    post = posterior(model, history, emb, cfg, refined=False)
    rng = np.random.default_rng(4)
    sampled = rng.choice(len(post.weights), size=cfg.sampled_particles, p=post.weights)
    vectors = particle_vectors(model, post, sampled)
    mean_products = anchor_products(model, vectors.mean(0)[None])[0]
    avoid = shown_celebs(pool, history)
    people = candidate_people(model, post, sampled, vectors, mean_products, pool.celeb_rows,
                              avoid, rng, cfg)
    beta = float(post.beta_weights @ np.asarray(cfg.betas))
    cutoffs = model.liked_thresholds[post.ids[sampled]]
    mixed, shown_people, mixed_cutoffs = with_blends(
        model, vectors, mean_products, people, pick_differences(history, emb), beta, avoid, rng,
        cfg, cutoffs)

    kept = cfg.sampled_particles - cfg.display_blend_draws
    assert mixed.shape == vectors.shape
    np.testing.assert_array_equal(mixed[:kept], vectors[cfg.display_blend_draws:])
    draws = mixed[kept:]
    np.testing.assert_allclose(np.linalg.norm(draws, axis=1), 1, atol=1e-5)

    def agreement(hypotheses: np.ndarray) -> float:
        return float(np.mean([r.shown[int(np.argmax(emb[list(r.shown)] @ h))] == r.picked
                              for h in hypotheses for r in history]))

    assert agreement(draws) > agreement(vectors[cfg.display_blend_draws:]) + 0.1
    # Each hypothesis keeps its liked-set boundary (for displays that ask about the liked set).
    np.testing.assert_allclose(
        mixed_cutoffs, np.quantile(mixed @ model.table.sample.T, 1 - cfg.liked_share, axis=1),
        atol=2e-6)

    assert set(people) <= set(shown_people) and not set(shown_people) & avoid
    nearest = model.anchors[np.argsort(-(model.anchor_vectors @ draws.mean(0)))]
    assert set(nearest[~np.isin(nearest, list(avoid))][:10]) <= set(shown_people)
    assert not set(nearest[~np.isin(nearest, list(avoid))][:10]) <= set(people)


def test_the_displays_and_the_result_run_the_sampler_each_their_own_way(facelike_pool, monkeypatch):
    """The late rounds' sampler runs `cfg.display_gibbs` (more, shorter chains: it runs every
    round), the result's `cfg.result_gibbs`; each budget sets its candidates."""
    pool = facelike_pool
    cfg = replace(DEFAULT, display_gibbs_chains=5, display_gibbs_sweeps=2, display_gibbs_keep=1,
                  display_gibbs_budget=36_000)
    strategy = AdaptiveStrategy(cfg)
    history = blend_quiz(pool, 10, strategy)  # twice the bound: the result samples too
    runs = []
    sampler = blend_gibbs.gibbs_blends

    def recorded(candidates, diffs, beta, lapse, counts, chains, sweeps, keep, rng):
        runs.append((len(candidates), chains, sweeps, keep))
        return sampler(candidates, diffs, beta, lapse, counts, chains, sweeps, keep, rng)

    monkeypatch.setattr(blend_gibbs, "gibbs_blends", recorded)
    strategy.next_round(pool, history[:6], 4, round_rng(9, 6))
    # 6 rounds × 3 difference rows × 2 sweeps × (2 + 3 people) × 5 chains = 900 exps per
    # candidate: the budget pays for 40.
    assert runs == [(40, 5, 2, 1)]
    strategy.rank(pool, history, 7)
    assert runs[-1][1:] == (cfg.gibbs_chains, cfg.gibbs_sweeps, cfg.gibbs_keep) == (8, 6, 3)
