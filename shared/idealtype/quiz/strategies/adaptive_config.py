"""Knobs of the `adaptive` strategy in one place. The served strategy uses `DEFAULT`; the
evaluation builds variants (e.g. a posterior over single people only) from the same code."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GibbsRun:
    """How one use of the blend sampler (blend_gibbs.py) runs: `chains` chains per blend size,
    `sweeps` sweeps of which the last `keep` give samples, and at most `budget` exps, which
    sets how many candidates it draws from, but never fewer than `least`."""

    chains: int
    sweeps: int
    keep: int
    budget: int
    least: int


@dataclass(frozen=True)
class AdaptiveConfig:
    # Hypotheses (adaptive_model.py)
    max_anchors: int = 6000  # larger pools use a seeded random subset of people as components
    # Pairs and triples of anchors. 12,000 instead (paired, LFW, N=4 M=10): type precision@7
    # +0.009 ±0.012 (β=20, 3,000 users) / +0.001 ±0.014 (β=∞, 2,000), ~2 ms less a late warm
    # round, but people who answer "none of these" lost (with the display chains below, against
    # neither): type −0.030 ±0.019 (β=∞, bar at the top 10%, 1,000 users; the display chains
    # alone: −0.002 ±0.005). After a "none", rounds are scored under the particles alone.
    blend_particles: int = 24000
    blend_alpha: float = 1.0  # their weights ~ Dirichlet(alpha); inf = equal weights
    single_prior_mass: float = 0.3  # prior probability that a taste is one person, not a blend
    # Continuous posterior (posterior_gauss.py): Gaussian prior over v, importance samples.
    gauss_samples: int = 0  # samples per request (0 = off)
    gauss_prior_mass: float = 0.0  # prior probability of the continuous model (blends get the rest)
    prior_scale: float = 0.5  # τ: prior covariance = τ × covariance of the pool's centroids
    proposal_inflation: float = 1.5  # EP covariance × this = the importance proposal
    refine_particles: int = 0  # extra blends drawn near the posterior per request (0 = off)
    move_particles: int = 0  # resample-move particles per request (posterior_mcmc.py; 0 = off)
    move_steps: int = 8
    move_sharpness: float = 20.0  # q ∝ exp(sharpness × how much a person resembles the picks)
    refine_people: int = 256  # components of refined blends: the people the posterior uses most
    support: int = 6000  # heaviest particles kept after each update
    # Enumerated posterior (posterior_enum.py): every blend of 1-3 of the people the picks point
    # to, built per request (0 = off: the fixed particles only).
    enum_candidates: int = 0  # people the fixed posterior uses most
    enum_seeds: int = 8  # best blends whose members are each replaced by every anchor
    enum_first_pass: bool = True  # seeds from a first enumeration (else: the fixed particles)
    enum_completions: int = 16  # anchors added by those replacements
    pair_prior_mass: float = 0.3  # prior mass of pairs (singles: single_prior_mass; triples: rest)
    # User model (posterior.py)
    beta_min: float = 8.0  # decisiveness grid beta_min·2^k, k < beta_levels, marginalized
    beta_levels: int = 4
    lapse: float = 0.05  # share of picks unrelated to the faces
    # "None of these" (adaptive_none.py): a person's bar, marginalized over "no bar" and the
    # cosine of the person at each of these top shares of the pool.
    none_bar_shares: tuple[float, ...] = (0.03, 0.1, 0.3)
    # Live set (adaptive_live.py): particles dropped after a round never come back.
    prune_gap: float = 35.0  # nats behind the best at every decisiveness level
    # Most likelihood terms a cold request computes (adaptive_live.prune): after rounds that
    # offered "none of these", and after forced ones. A forced quiz's posterior stays broad, so
    # without a cut a cold request recomputes all 30,000 particles (N=4 M=10: ~21 ms p95 at
    # 100k); 300k cuts them to ~9,700 by round 8 (17.7 ms, 13.9 at full speed), at no
    # significant cost (paired, LFW, type precision@7: N=4 M=10 β=20 −0.0006 ±0.0068, β=∞
    # −0.0039 ±0.0065 on 6,000 users; N=8 M=20 β=10 −0.006 ±0.014, β=20 +0.006 ±0.012 on
    # 2,000). 150k measured no worse on the goals' cells but leaned down at N=8 M=20 and
    # broke two guard tests under the serving thread count (README, "Forced rounds at 150k:
    # measured, not adopted").
    # Rounds that offered "none" (the site's) get 500k: N=4 quizzes are cut from the
    # first round on and are at the support by round 6 (1M: from round 3, ~8,000 by round 9).
    # At 100k, interleaved against 1M: cold next rounds 0.80x at the median, 0.87x at p95;
    # warm ones 0.92x / 0.88x. Paired, LFW, N=4 M=10, 500k − 1M: type precision@7 β=20
    # +0.0022 ±0.0077 (6,000 people who never answer none), β=∞ −0.0019 ±0.0074 (6,000),
    # target hit@7 β=20 +0.0075 ±0.0198 (2,000), type with a bar at the top 10% β=∞ +0.0024
    # ±0.0130 and β=20 +0.0031 ±0.0130 (2,000 each). 300k went to the support by round 3
    # and leaned lower (type β=20 −0.0065 ±0.0079). README, "A smaller budget for forced
    # rounds" and "A smaller budget for rounds that offer none".
    likelihood_budget: int = 500_000
    forced_likelihood_budget: int = 300_000
    # Displays (adaptive_display.py)
    sampled_particles: int = 256
    max_candidates: int = 160
    # Faces chosen from all candidates; later ones from a shortlist of the `late_candidates`
    # that added most at the step before (adaptive_display.greedy_informative_set). 3 (the 4th
    # face of an N=4 round from the shortlist) saved ~7% of a next round at 100k ("none"
    # offered, interleaved: median 0.93x, p95 0.96x) but cost type precision@7 at β=20:
    # −0.0031 ±0.0024 (paired, LFW, N=4 M=10, 6,000 users; 2,000 for the other cells: β=∞
    # −0.001 ±0.004, target hit@7 β=20 +0.005 ±0.007, "none" at the top 10% +0.000 ±0.004).
    shortlist_after: int = 4
    late_candidates: int = 48
    exploration_people: int = 24
    near_mean_people: int = 32
    free_probes: int = 32  # continuous samples whose nearest anchor joins the candidates
    # Candidates considered for the opening pair (the rest join greedily): 120 pairs. 24 (276
    # pairs) took ~1 ms more a round for nothing (paired, LFW, N=4 M=10, 16 against 24: type
    # precision@7 +0.010 ±0.014 (β=20) / +0.007 ±0.014 (β=∞), 2,000 users each; target hit@7
    # β=20 −0.004 ±0.020 (2,000); "none of these" with a bar at the top 10%, type β=∞
    # −0.006 ±0.019 (1,000)).
    pair_pool: int = 16
    # From the information bound on, this many of a forced round's `sampled_particles` are
    # draws of blend samples given the picks (blend_gibbs.py; 0, or gibbs_candidates 0: never),
    # and the round may show the `display_blend_people` anchors nearest the samples' mean
    # (adaptive_display.with_blends).
    display_blend_draws: int = 128
    display_blend_people: int = 40
    display_gibbs_budget: int = 240_000  # the sampler's exps per round (as gibbs_budget)
    # Fewest candidates, whatever the budget: in long quizzes the budget alone would leave few
    # (N=6 M=15: 14, N=8 M=20: 7), and the floor makes the sampler 2-4x the budget there
    # (~1-2 ms at 100k). 16 instead of 32 (300 LFW users, paired, type precision@7): N=6 M=15
    # β=∞ −0.023 ±0.024, the other type cells of N=6 M=10/15 and N=4 M=15 −0.003 to +0.011.
    display_gibbs_least: int = 32
    # The display sampler's chains run half as long, twice as many of them (keeping 2 sweeps
    # of 3 instead of 3 of 6): ~1 ms less a late round (the sampler's steps are many small
    # numpy calls), the same exp budget. Paired, LFW, N=4 M=10: type precision@7 +0.001
    # ±0.009 (β=20, 3,000 users) / +0.002 ±0.011 (β=∞, 2,000), target hit@7 β=20 +0.004
    # ±0.016 (2,000); "none of these" with a bar at the top 10%, type β=∞ −0.002 ±0.005.
    display_gibbs_chains: int = 16
    display_gibbs_sweeps: int = 3
    display_gibbs_keep: int = 2
    # Research (variant adaptive-liked; 0 = off): the display's score adds this weight × the
    # information the pick gives about the liked-set membership of the `display_liked_people`
    # candidates most likely liked (adaptive_display.liked_information). Rebuilt LFW index,
    # N=4 M=10, weight 8, paired: type precision@7 +0.010 ±0.014 (β=20, 2,000 users) /
    # +0.011 ±0.019 (β=∞, 1,000), target hit@7 β=20 −0.002 ±0.018 (3,000); README.
    display_liked_weight: float = 0.0
    display_liked_people: int = 32
    # Early finish (AdaptiveStrategy.is_done): the quiz ends before its last round once the
    # posterior has settled on one look: concentration |E_p w_p|² (the mean cosine between two
    # posterior draws) at least this (0 = never early), and never before the information bound.
    finish_concentration: float = 0.95
    finish_draws: int = 64  # posterior draws the concentration is estimated from
    # Recommendations (adaptive_rank.py)
    rank_rule: str = "membership"  # membership | closeness | people
    top_particles: int = 400
    posterior_cover: float = 0.999
    rank_candidates: int = 300
    scan_rows: int = 16384  # pools above twice this are scanned cluster by cluster (IVF)
    threshold_sample: int = 1024
    # membership rule: score = membership + bonus × P(c is the ideal | the ideal is one person).
    # bonus 7 = a found target is worth as much as a whole list of 7 liked people.
    person_bonus: float = 7.0
    # The bonus when the liked sets come from blend samples (quizzes at least twice the
    # information bound long). There the most probable people are also the sampler's first
    # candidates, which finds single targets more often, so part of the bonus goes back to
    # liked people. 1,000 recorded LFW quizzes per cell, N=4 M=10, against bonus 7 without
    # those candidates: target hit@7 β=20 −0.007 (7 with them: +0.011), type precision@7
    # +0.009 (β=20) / +0.005 (β=∞), target β=∞ unchanged. Particle rankings (shorter
    # quizzes) keep 7: there a smaller one loses single targets (N=2 M=10 β=∞, bonus 5:
    # hit@7 0.786 -> 0.724).
    sampled_person_bonus: float = 4.0
    likely_people: int = 16  # the most probable single people: candidates of every result
    softness: float = 0.02  # cosine scale of the soft top-1% boundary
    liked_share: float = 0.01
    # membership rule, liked sets from blend samples (blend_gibbs.py): Gibbs chains over
    # equal-weight blends of 2 and 3 of the people nearest the posterior mean (0 = from the
    # particles). Longer quizzes get fewer candidates: at most `gibbs_budget` exps per result
    # (~3 ms; N=4 M=10: 100 candidates, N=6 M=15: 40, N=8 M=20: 32). 150 candidates at N=4
    # M=10 cost 1.5x as much for no gain beyond noise (+0.008 ±0.009 β=∞, -0.003 β=20).
    gibbs_candidates: int = 100
    gibbs_counts: tuple[int, ...] = (2, 3)
    gibbs_chains: int = 8
    gibbs_sweeps: int = 6
    gibbs_keep: int = 3
    gibbs_budget: int = 720_000
    gibbs_least: int = 32  # fewest candidates, whatever the budget (N=8 M=20 reaches it)
    seed: int = 0

    @property
    def betas(self) -> tuple[float, ...]:
        return tuple(self.beta_min * 2.0**k for k in range(self.beta_levels))

    @property
    def result_gibbs(self) -> GibbsRun:
        return GibbsRun(self.gibbs_chains, self.gibbs_sweeps, self.gibbs_keep,
                        self.gibbs_budget, self.gibbs_least)

    @property
    def display_gibbs(self) -> GibbsRun:
        return GibbsRun(self.display_gibbs_chains, self.display_gibbs_sweeps,
                        self.display_gibbs_keep, self.display_gibbs_budget, self.display_gibbs_least)

    @property
    def model_key(self) -> str:
        """Pool memo key: configs that share hypotheses share the precomputed model."""
        return (
            f"adaptive_model:{self.max_anchors}:{self.blend_particles}:{self.blend_alpha}:"
            f"{self.single_prior_mass}:{self.gauss_prior_mass}:{self.threshold_sample}:{self.seed}:"
            f"{self.none_bar_shares}:{self.liked_share}"
        )


DEFAULT = AdaptiveConfig()
