"""The posterior over particles (see adaptive_model.py) given a quiz history.

User model: P(pick i | w, β) = (1-ε)·softmax_i(β·cos(x_i, w)) + ε/N. β (how decisive the person
is) is unknown and marginalized over a small grid; ε covers picks that have nothing to do with
the faces (a slip, a mood), so one odd pick cannot wipe out the right hypothesis.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from .adaptive_config import AdaptiveConfig
from .adaptive_live import live_rule, prune
from .adaptive_model import AdaptiveModel, blend_weights
from .adaptive_none import multiply_declinable_pick, multiply_declined
from .base import NONE_OF_THESE, RoundRecord, picked_rounds
from .posterior_gauss import sample_ideals


@dataclass(frozen=True)
class Posterior:
    """Weighted particles: the support of the posterior (particles with non-negligible weight)."""

    components: np.ndarray  # (S, 3) anchor positions
    coefs: np.ndarray  # (S, 3) float32
    single: np.ndarray  # (S,) bool: a one-person hypothesis (components[:, 0] is the person)
    weights: np.ndarray  # (S + E,) float64, sums to 1: the S anchor particles, then `free`
    beta_weights: np.ndarray  # (len(cfg.betas),) posterior over the decisiveness grid
    free: np.ndarray | None = None  # (E, d) explicit unit vectors (continuous-model samples)
    # (S,) each anchor particle's row in the model, when they are all the model's own (the
    # plain posterior; variants that add particles leave it None)
    ids: np.ndarray | None = None
    # The model's particles still considered after these rounds (sorted rows; None = all):
    # what the quiz item keeps for the next request (adaptive_live.py)
    live: np.ndarray | None = None
    # Posterior over the person's bar levels (adaptive_none: "no bar", then each share) when
    # rounds offered "none of these"; None otherwise.
    bar_weights: np.ndarray | None = None


def anchor_cosines(model: AdaptiveModel, faces: np.ndarray, embeddings: np.ndarray) -> np.ndarray:
    """(len(faces), A) cosine of each face (image rows) with each anchor's centroid."""
    return anchor_products(model, np.asarray(embeddings[faces], dtype=np.float32))


def anchor_products(model: AdaptiveModel, vectors: np.ndarray) -> np.ndarray:
    """(len(vectors), A) dot products of float32 vectors with each anchor's centroid.

    In FaceNet-like geometry the anchors span ~96 of 512 dimensions (99.99% of their energy):
    the products are then taken in that subspace, off by x_res·a_res <= |x_res||a_res| (on LFW
    at most ~6e-4 for a face, typically ~1e-5; β·error <= 0.04 in the choice model's logits)
    for a fifth of the arithmetic and of the 12 MB of anchors read per request. Isotropic
    galleries have no such subspace and take the exact product."""
    projection = model.anchor_projection
    if projection is None:
        return vectors @ model.anchor_vectors.T
    return (vectors @ projection.basis) @ projection.projected.T


def round_rows(rounds: Sequence[RoundRecord], model: AdaptiveModel,
               embeddings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(T, A) rows in the anchors' terms (a row v gives v·c for every anchor c) that each
    round's likelihood is gathered from, and (R + 1,) where each round's rows start:
    - a pick: each face that was not picked minus the picked one, in display order (N−1
      rows), and when "none of these" was on offer, then minus the picked face (the bar is
      added per particle: adaptive_none);
    - "none of these": the N faces.
    Built first in 512-d, then one product: differences first save (N−1)/N of the faces'
    own anchor cosines (the costliest step of a cold request on isotropic galleries), and a
    round's rows come out of the same product warm or cold."""
    n = len(rounds[0].shown)
    x = np.asarray(embeddings[[row for r in rounds for row in r.shown]], dtype=np.float32)
    x = x.reshape(len(rounds), n, -1)
    blocks = []
    for i, r in enumerate(rounds):
        if r.picked == NONE_OF_THESE:
            blocks.append(x[i])
            continue
        picked = r.shown.index(r.picked)
        diff = np.delete(x[i], picked, axis=0)
        diff -= x[i, picked]
        blocks.append(np.concatenate([diff, -x[i, picked][None]]) if r.declinable else diff)
    starts = np.cumsum([0, *(len(b) for b in blocks)])
    return anchor_products(model, np.concatenate(blocks)), starts


def blend_cosines(anchor_sims: np.ndarray, components: np.ndarray, coefs: np.ndarray) -> np.ndarray:
    """(F, len(components)) cosines of faces with blends, from the faces' anchor cosines."""
    acc = anchor_sims[:, components[:, 0]] * coefs[:, 0]
    for j in range(1, components.shape[1]):
        if coefs[:, j].any():
            acc += anchor_sims[:, components[:, j]] * coefs[:, j]
    return acc


def particle_groups(model: AdaptiveModel, ids: np.ndarray | None = None) -> ParticleGroups:
    """The layout of a set of the model's particles (sorted rows; None = all of them) for
    gather_particles: singles, then pairs, then triples, as in the model."""
    a = len(model.anchors)
    if ids is None:
        singles = None
        blend_rows = [(start, stop, slots, slice(start, stop))
                      for start, stop, slots in model.blend_groups]
    else:
        n_singles = int(np.searchsorted(ids, a))
        singles = np.ascontiguousarray(model.components[ids[:n_singles], 0], dtype=np.intp)
        blend_rows = []
        for start, stop, slots in model.blend_groups:
            lo, hi = np.searchsorted(ids, [start, stop])
            if hi > lo:
                blend_rows.append((int(lo), int(hi), slots, ids[lo:hi]))
    n_singles = a if singles is None else len(singles)
    groups = []
    for lo, hi, slots, rows in blend_rows:
        # Contiguous intp columns spare np.take a conversion per face.
        comps = tuple(np.ascontiguousarray(model.components[rows, j], dtype=np.intp)
                      for j in range(slots))
        coefs = tuple(np.ascontiguousarray(model.coefs[rows, j]) for j in range(slots))
        groups.append((lo, hi, comps, coefs))
    size = len(model.log_prior) if ids is None else len(ids)
    return ParticleGroups(n_singles, singles, tuple(groups), size)


@dataclass(frozen=True)
class ParticleGroups:
    """Columns of a set of particles: `n_singles` one-person particles first (their anchor
    positions `singles`, or None for all anchors in order), then blends (start, stop,
    component columns, coefficient columns), in the set's column order."""

    n_singles: int
    singles: np.ndarray | None
    blends: tuple[tuple[int, int, tuple[np.ndarray, ...], tuple[np.ndarray, ...]], ...]
    size: int


def gather_particles(model: AdaptiveModel, anchor_rows: np.ndarray, out: np.ndarray,
                     groups: ParticleGroups | None = None) -> None:
    """out[f, p] = Σ_j coef_pj·anchor_rows[f, component_pj]: any quantity linear in the anchors
    (a face's cosines with them, or differences of such rows), taken for every particle of
    `groups` (default: all the model's). Each column's arithmetic is the same whatever the
    set, so a particle gets the same value bit for bit in any set."""
    if groups is None:
        groups = particle_groups(model)
    # Singles come first and are the anchors themselves: no gather needed for all of them.
    if groups.singles is None:
        out[:, : groups.n_singles] = anchor_rows
    elif groups.n_singles:
        np.take(anchor_rows, groups.singles, axis=1, out=out[:, : groups.n_singles], mode="clip")
    for start, stop, comps, coefs in groups.blends:  # pairs, then triples
        # Same products and sums as blend_cosines, for all rows at once: one np.take per
        # component (a per-row loop made ~100 small numpy calls per round, most of the time
        # once pruning has made the sets small).
        acc = np.take(anchor_rows, comps[0], axis=1, mode="clip")
        acc *= coefs[0]
        term = np.empty_like(acc)
        for j in range(1, len(comps)):
            # mode="clip" skips np.take's buffered bounds check; components are valid anchors.
            np.take(anchor_rows, comps[j], axis=1, out=term, mode="clip")
            term *= coefs[j]
            acc += term
        out[:, start:stop] = acc


def choice_log_likelihood(
    sims: np.ndarray, picked: np.ndarray, betas: np.ndarray, lapse: float
) -> np.ndarray:
    """(len(betas), P) log-likelihood of the picks. `sims` is (R, N, P): per round the cosines of
    the N shown faces with every particle; `picked[r]` the position picked in round r.

    `betas` doubles from one level to the next, so one exp per (face, particle) serves every
    level: exp(2β·s) = exp(β·s)² (the exp is most of a request's cost)."""
    # Product of the per-round probabilities, one log at the end: each factor is >= lapse/N, so
    # 20 rounds stay far above float64's smallest number. Scratch arrays are reused across
    # rounds and levels (same arithmetic, element by element, as the plain expressions).
    n, p = sims.shape[1], sims.shape[2]
    product = np.ones((len(betas), p), dtype=np.float64)
    floor = np.float32(lapse / n)
    z = np.empty((n, p), dtype=np.float32)
    total = np.empty(p, dtype=np.float32)
    factor = np.empty(p, dtype=np.float32)
    for r in range(sims.shape[0]):
        np.subtract(sims[r], sims[r].max(0), out=z)  # <= 0 so the powers cannot overflow
        z *= betas[0]
        np.exp(z, out=z)
        for b in range(len(betas)):
            if b:
                z *= z
            z.sum(0, out=total)
            np.multiply(z[picked[r]], 1 - lapse, out=factor)
            factor /= total
            factor += floor
            product[b] *= factor
    return np.log(product).astype(np.float32)


def multiply_round_likelihoods(
    model: AdaptiveModel, differences: np.ndarray, choices: int, betas: np.ndarray,
    lapse: float, product: np.ndarray, groups: ParticleGroups | None = None,
) -> None:
    """Multiplies into `product` ((len(betas), P) float64, or (levels, len(betas), P): the
    same factor for every bar level) each round's probability of its pick under every
    particle of `groups` (default: all the model's), round after round. `differences` is
    (R·(N−1), A): round_rows of forced rounds. Same values as choice_log_likelihood over the
    particle cosines (up to float32 rounding, ~1e-6) in about half the time.

    P(pick | w) = 1 / Σ_i exp(β·(s_i − s_picked)), so per round only the N−1 differences to
    the picked face are gathered (a blend's difference is the same blend of the anchors'
    differences; β scales the A anchor values, not the P particles), and no max is
    subtracted: a difference large enough to overflow the exp means the picked face has no
    chance under that particle, and the ∞ it gives makes the factor exactly the lapse floor.
    Each round's factors depend on that round's rows of `differences` alone, and each
    particle's on its own column: given the same rows, a product built one request at a time
    (warm) equals one built from the whole history (cold), for any set of particles, bit for
    bit. (The BLAS may round a row differently in a product of 3 rows than in one of 30, so
    warm and cold can still differ in the last bit.)"""
    if groups is None:
        groups = particle_groups(model)
    floor = np.float32(lapse / choices)
    keep = np.float32(1 - lapse)
    terms = np.empty((choices - 1, groups.size), dtype=np.float32)
    totals = np.empty((len(betas), groups.size), dtype=np.float32)
    with np.errstate(over="ignore"):
        for others in differences.reshape(-1, choices - 1, differences.shape[1]):
            gather_particles(model, others * betas[0], terms, groups)
            np.exp(terms, out=terms)
            for b in range(len(betas)):
                if b:  # betas double: exp(2β·d) = exp(β·d)²
                    terms *= terms
                terms.sum(0, out=totals[b])
            # All levels at once: the same arithmetic per element as level by level.
            totals += 1
            np.divide(keep, totals, out=totals)
            totals += floor
            product *= totals


class LikelihoodCache:
    """Recently computed likelihoods by (model, user model, history): the live set after those
    rounds and its particles' products over the rounds (float64). A quiz's next request
    usually lands on the same warm process, so round r only multiplies its own round into
    round r-1's product; a miss starts from the live set the quiz item kept
    (adaptive_live.py) or from every particle, and recomputes round by round in the same
    order (the same result up to the BLAS's last-bit rounding of the anchor cosines, see
    multiply_round_likelihoods). Also, per thread, the last posterior a strategy assembled
    from them (`last_posterior.entry` = (key, Posterior)): a pick asks for the same one twice
    (adaptive's is_done, then next_round_state). `clear` drops both (a cold process)."""

    def __init__(self, entries: int = 32):
        self.entries = entries
        self._data: OrderedDict[tuple, tuple[np.ndarray | None, np.ndarray]] = OrderedDict()
        self._lock = threading.Lock()
        self.last_posterior = threading.local()

    def longest_prefix(self, keys: list[tuple]) -> tuple[int, tuple[np.ndarray | None, np.ndarray] | None]:
        with self._lock:
            for cut in range(len(keys), 0, -1):
                hit = self._data.get(keys[cut - 1])
                if hit is not None:
                    self._data.move_to_end(keys[cut - 1])
                    return cut, hit
        return 0, None

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self.last_posterior = threading.local()

    def put(self, key: tuple, value: tuple[np.ndarray | None, np.ndarray]) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.entries:
                self._data.popitem(last=False)


CACHE = LikelihoodCache()


def history_likelihood(
    model: AdaptiveModel,
    rounds: Sequence[RoundRecord],
    embeddings: np.ndarray,
    cfg: AdaptiveConfig,
    kept: tuple[int, np.ndarray] | None = None,
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray | None]:
    """(live set after all `rounds`: sorted particle rows, None = every particle;
    (len(cfg.betas), its size) float64 likelihood of the rounds (marginal_likelihood; do not
    modify it, it may be the cache's), the person's bar summed out when "none of these" was
    on offer: the product over rounds is kept per bar level, 1 +
    len(cfg.none_bar_shares) of them, level-major (adaptive_none); the posterior over those
    levels, None when no round offered it). Starts from the cache's
    longest prefix, or from `kept` = (k, live set after the first k rounds) from the quiz
    item when that is further along, or from every particle; after each later round the
    hopeless particles are pruned (adaptive_live.prune)."""
    # Everything the live set and its likelihoods depend on besides the history: configurations
    # that prune differently (research variants, benches in one process) must not share them.
    keys, prefix = [], (model.key, live_rule(cfg))
    for r in rounds:  # the cache's key after each prefix of the rounds
        prefix = prefix + (r,)
        keys.append(prefix)
    levels = 1 + len(cfg.none_bar_shares) if any(r.declinable for r in rounds) else 1
    b = len(cfg.betas)
    done, cached = CACHE.longest_prefix(keys)
    live, product = cached if cached is not None else (None, None)
    batched = 0  # rounds to compute without pruning: those the kept live set already saw
    if kept is not None and kept[0] > done:
        batched, live = kept
        done, product = 0, None
    if product is None:
        size = len(model.log_prior) if live is None else len(live)
        product = np.ones((levels * b, size), dtype=np.float64)
    todo = rounds[done:]
    if len(product) < levels * b:
        # Forced rounds so far, the first that offered "none of these" now: forced rounds
        # say the same under every bar level.
        product = np.tile(product, (levels, 1))
    elif cached is not None and product is cached[1] and todo:
        product = product.copy()
    prior = model.prior if live is None else model.prior[live]
    if not todo:
        return live, marginal_likelihood(product, cfg), level_weights(product, prior, cfg)
    betas = np.asarray(cfg.betas, dtype=np.float32)
    n = len(todo[0].shown)
    rows, starts = round_rows(todo, model, embeddings)
    groups = particle_groups(model, live)
    bars = None  # the live particles' bars (adaptive_none), once a round offered "none"
    for r, record in enumerate(todo):
        mine = rows[starts[r]:starts[r + 1]]
        by_level = product.reshape(levels, b, -1)  # a view: same memory
        if record.declinable:
            gathered = np.empty((n, groups.size), dtype=np.float32)
            gather_particles(model, mine, gathered, groups)
            if bars is None:
                # np.take along axis 1 gives a C-ordered copy; fancy indexing gives an
                # F-ordered one, which every later row-wise operation then strides through.
                bars = model.none_bars if live is None else np.take(model.none_bars, live, axis=1)
            if record.picked == NONE_OF_THESE:
                multiply_declined(gathered, bars, betas, cfg.lapse, by_level)
            else:
                multiply_declinable_pick(gathered, bars, betas, cfg.lapse, by_level)
        else:
            multiply_round_likelihoods(model, mine, n, betas, cfg.lapse, by_level, groups)
        if r < batched:  # the kept live set already saw this round: nothing more to drop
            continue
        score = product.max(0) * prior
        keep = prune(score, done + r + 1, n, cfg, record.declinable)
        if len(keep) < product.shape[1]:
            live = keep if live is None else live[keep]
            # (np.take: ~10x less than a fancy-indexed copy made C-contiguous, bars above)
            product = np.take(product, keep, axis=1)
            prior = prior[keep]
            groups = particle_groups(model, live)
            bars = None
    CACHE.put(keys[-1], (live, product))
    return live, marginal_likelihood(product, cfg), level_weights(product, prior, cfg)


def level_weights(product: np.ndarray, prior: np.ndarray,
                  cfg: AdaptiveConfig) -> np.ndarray | None:
    """Posterior over the bar levels from a (levels·len(betas), P) product and the P
    particles' prior; None for a single level (no round offered "none of these")."""
    if len(product) == len(cfg.betas):
        return None
    mass = product @ prior  # (levels·betas,)
    mass = mass.reshape(-1, len(cfg.betas)).sum(1)  # (the levels are equally likely a priori)
    return mass / mass.sum()


def marginal_likelihood(product: np.ndarray, cfg: AdaptiveConfig) -> np.ndarray:
    """(len(betas), P) float64 likelihood from a (levels·len(betas), P) product: the bar
    levels (equally likely a priori) summed out, so the posterior sees one row per β (the
    product itself when there is one level). Each factor is >= lapse/(N+1), so 20 rounds stay
    far above float64's smallest number: the posterior multiplies it by the prior as it is,
    with no logs (a float64 log of every particle's likelihood took ~1 ms a request on an
    AVX2 core). (A prior favouring "no bar", 0.5, helped no one in the LFW eval: the display
    then lost more for choosy people than it won for those who never answer none.)"""
    n_betas = len(cfg.betas)
    levels = len(product) // n_betas
    if levels > 1:
        return product.reshape(levels, n_betas, -1).sum(0) / levels
    return product


def anchor_usage(post: Posterior, n_anchors: int) -> np.ndarray:
    """(A,) posterior mass of the particles each anchor takes part in."""
    usage = np.zeros(n_anchors)
    weights = post.weights[: len(post.components)]
    for j in range(3):
        used = post.coefs[:, j] > 0
        usage += np.bincount(post.components[used, j], weights[used], minlength=n_anchors)
    return usage


def support(weights: np.ndarray, most: int) -> np.ndarray:
    """Indices of the particles that carry the posterior: at most `most` of the heaviest, and
    none below 1e-9 of the best (they cannot change a display or a recommendation)."""
    if len(weights) > most:
        keep = np.argpartition(-weights, most - 1)[:most]
    else:
        keep = np.arange(len(weights))
    return np.sort(keep[weights[keep] > weights.max() * 1e-9])


def round_arrays(rounds: Sequence[RoundRecord]) -> tuple[np.ndarray, np.ndarray]:
    """(faces shown, flat in round order; position picked in each round). Rounds with a face
    picked only."""
    faces = np.array([row for r in rounds for row in r.shown])
    return faces, np.array([r.shown.index(r.picked) for r in rounds])


def posterior(
    model: AdaptiveModel,
    history: Sequence[RoundRecord],
    embeddings: np.ndarray,
    cfg: AdaptiveConfig,
    refined: bool = True,
    kept: tuple[int, np.ndarray] | None = None,
) -> Posterior:
    """The posterior after `history`; `refined` adds cfg.refine_particles blends near it.
    `kept`: the live set the quiz item kept for a prefix of the history (adaptive_live)."""
    rounds = picked_rounds(history)
    single = np.arange(len(model.log_prior)) < len(model.anchors)
    if not rounds:
        return Posterior(model.components, model.coefs, single, model.prior / model.prior.sum(),
                         np.full(len(cfg.betas), 1 / len(cfg.betas)),
                         ids=np.arange(len(model.log_prior)))
    live, likelihood, bar_weights = history_likelihood(model, rounds, embeddings, cfg, kept)
    rows = np.arange(len(model.log_prior)) if live is None else live
    mass = likelihood * (model.prior if live is None else model.prior[live])  # (B, P) joint
    free = None
    # The research variants below model forced choices only: in quizzes that offer "none of
    # these" the plain posterior serves (it is exact for the particles it has).
    forced = not any(r.declinable for r in rounds)
    if forced and cfg.gauss_samples and cfg.gauss_prior_mass > 0:
        free, free_joint = continuous_samples(model, rounds, embeddings, cfg, mass)
        # The samples' joint is a log: both on one scale, the larger part's maximum at 1.
        shift = max(np.log(mass.max()), float(free_joint.max()))
        mass = np.concatenate([mass * np.exp(-shift),
                               np.exp(free_joint.astype(np.float64) - shift)], axis=1)
    weights = mass.sum(0)
    beta_weights = mass.sum(1)
    n_anchor = len(rows)
    held = support(weights[:n_anchor], cfg.support)
    keep = rows[held]
    kept_w = np.r_[weights[held], weights[n_anchor:]]
    post = Posterior(model.components[keep], model.coefs[keep], single[keep],
                     kept_w / kept_w.sum(), beta_weights / beta_weights.sum(), free, keep, live)
    if forced and cfg.enum_candidates:
        from .posterior_enum import enumerated_posterior  # (it builds on this module)

        post = enumerated_posterior(model, post, rounds, embeddings, cfg)
    if forced and refined and cfg.refine_particles:
        post = refine(model, post, rounds, embeddings, cfg)
    if forced and refined and cfg.move_particles:
        from .posterior_mcmc import resample_move  # (it builds on this module)

        post = resample_move(model, post, rounds, embeddings, cfg)
    return replace(post, live=live, bar_weights=bar_weights)  # (variants build new posteriors)


def continuous_samples(
    model: AdaptiveModel,
    rounds: Sequence[RoundRecord],
    embeddings: np.ndarray,
    cfg: AdaptiveConfig,
    anchor_joint: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Importance samples of the continuous model (posterior_gauss.py): (vectors, (B, E) log
    joint weights, on the log scale of `anchor_joint`, the anchor particles' (B, P) joint
    likelihood × prior). Seeded by the history."""
    faces, picked = round_arrays(rounds)
    n = len(rounds[0].shown)
    x = np.asarray(embeddings[faces], dtype=np.float64).reshape(len(rounds), n, -1)
    differences = np.concatenate(
        [x[r, picked[r]] - np.delete(x[r], picked[r], axis=0) for r in range(len(rounds))]
    )
    # Build the proposal with the decisiveness the anchor particles already point to.
    beta_post = anchor_joint.sum(1)
    beta = float(np.exp(beta_post @ np.log(cfg.betas) / beta_post.sum()))
    rng = np.random.default_rng([len(faces), *faces.tolist(), *picked.tolist()])
    vectors, log_ratio = sample_ideals(model.gauss, differences, beta, cfg.gauss_samples, rng, cfg)
    sims = (x.astype(np.float32) @ vectors.T)  # (R, N, E)
    loglik = choice_log_likelihood(sims, picked, np.asarray(cfg.betas, np.float32), cfg.lapse)
    log_w = loglik + (log_ratio + math.log(cfg.gauss_prior_mass / cfg.gauss_samples))[None, :]
    return vectors, log_w.astype(np.float32)


def refine(
    model: AdaptiveModel,
    post: Posterior,
    rounds: Sequence[RoundRecord],
    embeddings: np.ndarray,
    cfg: AdaptiveConfig,
) -> Posterior:
    """Adds blends drawn where the posterior is, weighted so the result is still the posterior.

    New pairs/triples take their components from q = ½ uniform + ½ "people the current posterior
    uses", with the prior's Dirichlet weights. All blends (the model's, drawn from the prior, and
    these) are then one sample from the mixture m = α·prior + (1-α)·q, so each gets the
    importance weight likelihood × prior/m (balance heuristic) — no bias from where they came
    from, only more resolution where it matters. Seeded by the history: same picks, same result.
    """
    a = len(model.anchors)
    faces, picked = round_arrays(rounds)
    rng = np.random.default_rng([len(faces), *faces.tolist(), *picked.tolist()])
    usage = anchor_usage(post, a)
    # Components come from the people the posterior uses most (R), so the Gram matrix of R
    # gives every new blend's norm without touching 512-d vectors per blend.
    r_size = min(a, cfg.refine_people)
    people = np.argpartition(-usage, r_size - 1)[:r_size]
    q = np.zeros(a)
    q[people] = 0.5 / r_size + 0.5 * usage[people] / max(usage[people].sum(), 1e-300)
    count = cfg.refine_particles
    slot = rng.choice(r_size, size=(count, 3), p=q[people] / q[people].sum())
    weights = blend_weights(count, cfg.blend_alpha, rng)
    pairs = weights[:, 2] == 0
    slot[pairs, 2] = slot[pairs, 0]
    comps = people[slot]
    gram = model.anchor_vectors[people] @ model.anchor_vectors[people].T
    norm2 = np.einsum("pj,pk,pjk->p", weights, weights, gram[slot[:, :, None], slot[:, None, :]])
    coefs = (weights / np.sqrt(np.maximum(norm2, 1e-12))[:, None]).astype(np.float32)
    # Likelihood of the new blends.
    anchor_sims = anchor_cosines(model, faces, embeddings)
    n = len(rounds[0].shown)
    sims = blend_cosines(anchor_sims, comps, coefs).reshape(len(rounds), n, -1)
    betas = np.asarray(cfg.betas, dtype=np.float32)
    new_loglik = choice_log_likelihood(sims, picked, betas, cfg.lapse)  # (B, count)
    # The support's blends need their likelihood per beta too: recompute them (few).
    old_blend = ~post.single
    old_sims = blend_cosines(anchor_sims, post.components[old_blend], post.coefs[old_blend])
    old_loglik = choice_log_likelihood(old_sims.reshape(len(rounds), n, -1), picked, betas, cfg.lapse)
    singles = post.single
    single_sims = anchor_sims[:, post.components[singles, 0]].reshape(len(rounds), n, -1)
    single_loglik = choice_log_likelihood(single_sims, picked, betas, cfg.lapse)
    # Importance ratios prior/m for blends (per ordered component tuple; weights cancel).
    n_base = cfg.blend_particles
    alpha = n_base / (n_base + count)

    def log_ratio(c: np.ndarray, is_pair: np.ndarray) -> np.ndarray:
        k = np.where(is_pair, 2, 3)
        log_prior = -k * np.log(a)
        with np.errstate(divide="ignore"):  # q is 0 outside R: those blends came from the prior
            log_q = (np.log(q[c[:, 0]]) + np.log(q[c[:, 1]])
                     + np.where(is_pair, 0.0, np.log(q[c[:, 2]])))
        return log_prior - np.logaddexp(np.log(alpha) + log_prior, np.log1p(-alpha) + log_q)

    old_pairs = post.coefs[old_blend, 2] == 0
    blend_mass = np.log1p(-cfg.single_prior_mass) - np.log(n_base + count)
    log_w = np.concatenate([
        single_loglik + np.log(cfg.single_prior_mass / a),
        old_loglik + blend_mass + log_ratio(post.components[old_blend], old_pairs),
        new_loglik + blend_mass + log_ratio(comps, pairs),
    ], axis=1)  # (B, S')
    mass = np.exp(log_w - log_w.max())
    w = mass.sum(0, dtype=np.float64)
    keep = support(w, cfg.support)
    # The continuous samples keep their share of the mass; the anchor particles share the rest.
    n_anchor = len(post.components)
    free_mass = post.weights[n_anchor:]
    anchor_share = 1.0 - free_mass.sum()
    all_comps = np.concatenate([post.components[singles], post.components[old_blend], comps])
    all_coefs = np.concatenate([post.coefs[singles], post.coefs[old_blend], coefs])
    all_single = np.r_[np.ones(singles.sum(), bool), np.zeros(old_blend.sum() + count, bool)]
    bw = mass.sum(1, dtype=np.float64)
    return Posterior(all_comps[keep], all_coefs[keep], all_single[keep],
                     np.r_[anchor_share * w[keep] / w[keep].sum(), free_mass], bw / bw.sum(),
                     post.free)
