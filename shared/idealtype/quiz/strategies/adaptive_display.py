"""Choosing an informative round: the N faces whose pick tells the most about the person.

Score of a set S of faces = mutual information between the pick and the hypothesis,
I = H(E_p[P(·|p)]) − E_p[H(P(·|p))], over particles drawn from the posterior, with the
posterior's own decisiveness β. A noiseless person's 1-of-4 pick can carry at most 2 bits;
sets whose faces each "win" for a quarter of the plausible hypotheses get close to that.
Sets are built greedily (best pair, then the face that adds most), from candidate faces of
people the posterior finds plausible plus a few random people for exploration. From the
information bound on, half the hypotheses of a forced round are blend samples drawn given the
picks, which explain them better than the fixed particles do (`with_blends`).
"""

from __future__ import annotations

import numpy as np

from .adaptive_config import AdaptiveConfig
from .adaptive_model import AdaptiveModel
from .anchor_blends import blend_rows
from .base import distinct, without
from .blend_gibbs import blend_samples
from .liked_set import liked_membership, liked_thresholds
from .posterior import Posterior, anchor_products


def particle_vectors(model: AdaptiveModel, post: Posterior, particles: np.ndarray,
                     projected: bool = False) -> np.ndarray:
    """(len(particles), d) unit vectors of the given particles of the posterior (anchor
    particles are stored as blends, continuous samples as vectors); `projected`: anchor
    particles only, in the coordinates of the anchors' subspace (model.anchor_projection)."""
    if projected:
        return blend_vectors(model, post.components[particles], post.coefs[particles], True)
    n_anchor = len(post.components)
    out = np.empty((len(particles), model.anchor_vectors.shape[1]), dtype=np.float32)
    blend = particles < n_anchor
    out[blend] = blend_vectors(model, post.components[particles[blend]], post.coefs[particles[blend]])
    if post.free is not None:
        out[~blend] = post.free[particles[~blend] - n_anchor]
    return out


def blend_vectors(model: AdaptiveModel, components: np.ndarray, coefs: np.ndarray,
                  projected: bool = False) -> np.ndarray:
    """(len(components), d) unit vectors of blends of anchors; `projected`: in the coordinates
    of the anchors' subspace (model.anchor_projection)."""
    anchors = model.anchor_projection.projected if projected else model.anchor_vectors
    return np.einsum("pj,pjd->pd", coefs, anchors[components])


def anchor_people(model: AdaptiveModel, post: Posterior, particles: np.ndarray) -> np.ndarray:
    """Celebrity rows of the people that the given (anchor) particles blend."""
    particles = particles[particles < len(post.components)]
    return model.anchors[post.components[particles].ravel()]


def appeal(sims: np.ndarray, reference: np.ndarray, beta: float) -> np.ndarray:
    """exp(β·(s − reference)): unnormalized Luce weights of faces under each particle (last
    axis), relative to a reference near the best face of the set they are scored in. Exponents
    are clipped to ±40: a face e^40 below another one in its set has a pick probability below
    float32's resolution next to the lapse floor either way, and the clip keeps every product
    of pick_information a normal float32 (no overflow, no slow subnormals)."""
    z = sims - reference
    z *= np.float32(beta)
    np.clip(z, -40.0, 40.0, out=z)
    return np.exp(z, out=z)


def pick_probabilities(fixed: np.ndarray, added: np.ndarray,
                       lapse: float) -> tuple[np.ndarray, np.ndarray]:
    """P(i | r) = (1−ε)·z_ir / Σ_set z_r + ε/n for each set `fixed` ∪ {added}: (K, m, R) for
    the shared faces, (K, R) for each set's last.

    fixed: (K or 1, m, R) appeal of the faces every set shares (1: the same for all K sets),
    added: (K, R) appeal of each set's last face. The greedy search adds one face to the same
    set for every candidate, so the appeal is computed once per step (the plain softmax per
    trial set took 3x the time)."""
    floor = np.float32(lapse / (fixed.shape[1] + 1))
    scale = np.float32(1 - lapse) / (fixed.sum(1) + added)  # (K, R)
    p_fixed = fixed * scale[:, None, :]
    p_fixed += floor
    p_added = added * scale
    p_added += floor
    return p_fixed, p_added


def pick_information(p_fixed: np.ndarray, p_added: np.ndarray) -> np.ndarray:
    """Mutual information (nats) between the pick and the hypothesis, for each set (its pick
    probabilities, pick_probabilities): I = H(E_r P(·|r)) − E_r H(P(·|r)) over equally
    weighted particles r."""
    # E_r H(P(·|r)) = −E_r Σ_i p log p; every p >= ε/n > 0.
    neg_entropy = (p_fixed * np.log(p_fixed)).sum(1)
    neg_entropy += p_added * np.log(p_added)
    mean_fixed, mean_added = p_fixed.mean(2), p_added.mean(1)
    mean_entropy = -(mean_fixed * np.log(mean_fixed)).sum(1) - mean_added * np.log(mean_added)
    return mean_entropy + neg_entropy.mean(1)


def liked_information(p_fixed: np.ndarray, p_added: np.ndarray, liked: np.ndarray) -> np.ndarray:
    """For each set (its pick probabilities, pick_probabilities), the mean over the rows of
    `liked` ((C, R): each person's membership in each particle's liked set, in [0, 1]) of the
    mutual information (nats) between the pick and whether that person is liked: what the
    pick tells about the recommendations rather than about the hypothesis ("expected
    predictive information gain"). I(pick; m_c) = H(pick) + H(m_c) − H(pick, m_c), the joint
    from P(i, m_c = 1) = E_r P(i | r)·liked[c, r]."""
    p = np.concatenate([p_fixed, p_added[:, None, :]], axis=1)  # (K, n, R)
    k, n, r = p.shape
    liked_joint = (p.reshape(k * n, r) @ liked.T).reshape(k, n, -1) / np.float32(r)
    pick = p.mean(2)  # (K, n)
    other_joint = pick[:, :, None] - liked_joint
    share = liked.mean(1)  # (C,) P(m_c = 1)
    return (neg_entropy(liked_joint, 1) + neg_entropy(other_joint, 1)
            - neg_entropy(pick, 1)[:, None]
            - neg_entropy(share, None) - neg_entropy(1 - share, None)).mean(1)


def neg_entropy(q: np.ndarray, axis: int | None) -> np.ndarray:
    """Σ q log q over `axis` (None: elementwise), 0 log 0 = 0; probabilities a rounding error
    below 0 count as 0."""
    q = np.maximum(q, np.float32(1e-12))
    out = q * np.log(q)
    return out if axis is None else out.sum(axis)


def greedy_informative_set(
    sims: np.ndarray, size: int, beta: float, cfg: AdaptiveConfig,
    outside: np.ndarray | None = None, liked: np.ndarray | None = None,
) -> list[int]:
    """Indices of `size` rows of `sims` (candidates × particles) chosen greedily by information:
    the best pair among the candidates whose appeal varies most across hypotheses, then one
    face at a time from all candidates. `outside` (particles,): the utility of "none of these"
    under each particle when the round offers it (its bar; -inf: never), an answer too.
    `liked` (people × particles memberships): the score adds cfg.display_liked_weight × the
    information about them (liked_information)."""

    def score(fixed: np.ndarray, added: np.ndarray) -> np.ndarray:
        p_fixed, p_added = pick_probabilities(fixed, added, cfg.lapse)
        info = pick_information(p_fixed, p_added)
        if liked is not None:
            info += cfg.display_liked_weight * liked_information(p_fixed, p_added, liked)
        return info

    spread = np.argsort(-sims.std(1))[: cfg.pair_pool]
    i, j = np.triu_indices(len(spread), 1)
    first, second = sims[spread[i]], sims[spread[j]]
    reference = np.maximum(first, second)
    fixed = appeal(first, reference, beta)[:, None]
    if outside is not None:
        fixed = np.concatenate([fixed, appeal(outside[None], reference, beta)[:, None]], axis=1)
    best = int(np.argmax(score(fixed, appeal(second, reference, beta))))
    chosen = [int(spread[i[best]]), int(spread[j[best]])]
    rest = np.delete(np.arange(len(sims)), chosen)  # (np.setdiff1d: ~0.2 ms, numpy 2)
    info = np.zeros(len(rest))  # each remaining candidate's value at the last step
    while len(chosen) < size:
        if len(chosen) >= cfg.shortlist_after and len(rest) > cfg.late_candidates:
            # Large rounds: later faces are chosen among the candidates that added most
            # to the set at the previous step (a face's value to the set changes slowly from
            # one step to the next; its cost grows with the set).
            rest = rest[np.sort(np.argpartition(-info, cfg.late_candidates - 1)[: cfg.late_candidates])]
        # One exp per chosen or remaining candidate and particle per step, relative to the
        # chosen faces' best.
        reference = sims[chosen].max(0)
        z = appeal(sims[np.r_[chosen, rest]], reference, beta)
        fixed = z[: len(chosen)]
        if outside is not None:
            fixed = np.concatenate([fixed, appeal(outside[None], reference, beta)])
        info = score(fixed[None], z[len(chosen):])
        best = int(np.argmax(info))
        chosen.append(int(rest[best]))
        rest, info = np.delete(rest, best), np.delete(info, best)
    return chosen


def candidate_people(
    model: AdaptiveModel,
    post: Posterior,
    sampled: np.ndarray,
    vectors: np.ndarray,
    mean_products: np.ndarray,
    pool_rows: np.ndarray,
    avoid: set[int],
    rng: np.random.Generator,
    cfg: AdaptiveConfig,
) -> np.ndarray:
    """Celebrity rows worth showing: components of sampled hypotheses (`vectors`: their unit
    vectors), the people nearest the posterior mean (`mean_products`: the anchors' products
    with it), and a few random people (exploration); never anyone shown before."""
    from_particles = anchor_people(model, post, sampled)
    if post.free is not None:
        # Continuous samples name no people: take the anchor nearest to a few of them.
        free = vectors[sampled >= len(post.components)][: cfg.free_probes]
        from_particles = np.r_[from_particles, model.anchors[np.argmax(free @ model.anchor_vectors.T, axis=1)]]
    # Near the mean among the anchors only: a scan of a 100k pool would cost a request's budget
    # (and in the anchors' subspace when they have one: 1/5 of the 12 MB read, posterior.py).
    near = nearest_anchors(model, mean_products, cfg.near_mean_people, avoid)
    n_explore = min(len(pool_rows), cfg.exploration_people + len(avoid))
    explore = rng.choice(pool_rows, size=n_explore, replace=False)
    people = without(distinct(np.concatenate([from_particles, near, explore])), avoid)
    if len(people) > cfg.max_candidates:
        people = rng.choice(people, size=cfg.max_candidates, replace=False)
    return people


def nearest_anchors(model: AdaptiveModel, products: np.ndarray, count: int,
                    avoid: set[int]) -> np.ndarray:
    """Celebrity rows of the (about) `count` anchors with the largest `products` (their
    products with a direction) that are not in `avoid` (people already shown)."""
    top = min(count + len(avoid), len(model.anchors) - 1)
    near = model.anchors[np.argpartition(-products, top)[:top]]
    return without(near, avoid)


def informative_round(
    model: AdaptiveModel,
    post: Posterior,
    embeddings: np.ndarray,
    pool_rows: np.ndarray,
    avoid: set[int],
    choices: int,
    rng: np.random.Generator,
    cfg: AdaptiveConfig,
    declinable: bool = False,
    diffs: np.ndarray | None = None,
) -> list[int]:
    """Image rows of `choices` different, not yet shown people forming an informative round
    (`declinable`: it offers "none of these", an answer whose information counts too).
    `diffs`: the picks (blend_gibbs.pick_differences) once the quiz has reached the
    information bound; a forced round is then scored under blend samples too (with_blends)."""
    sampled = rng.choice(len(post.weights), size=cfg.sampled_particles, p=post.weights)
    # The hypotheses are blends of anchors: where the anchors span a subspace, they and the
    # faces are scored in it (posterior.anchor_products: cosines off by ~1e-5, at most ~1e-4
    # on lfw-mix), a fifth of the 512-d arithmetic. Research variants (continuous samples,
    # liked-set displays) need the vectors themselves.
    basis = None
    if model.anchor_projection is not None and post.free is None and not cfg.display_liked_weight:
        basis = model.anchor_projection.basis
    vectors = particle_vectors(model, post, sampled, basis is not None)
    # Liked-set boundaries of the hypotheses, for displays that ask about the liked set.
    cutoffs = None
    if cfg.display_liked_weight:
        anchored = sampled < len(post.components)
        own = post.ids[sampled] if post.ids is not None and anchored.all() else None
        cutoffs = hypothesis_thresholds(model, own, anchored, post.components[sampled[anchored]],
                                        post.coefs[sampled[anchored]], vectors, cfg)
    mean = vectors.mean(0)[None]
    mean_products = (mean @ model.anchor_projection.projected.T if basis is not None
                     else anchor_products(model, mean))[0]
    people = candidate_people(model, post, sampled, vectors, mean_products, pool_rows, avoid,
                              rng, cfg)
    beta = float(post.beta_weights @ np.asarray(cfg.betas))
    outside = None
    if declinable and post.bar_weights is not None and post.ids is not None:
        # Each sampled hypothesis with a bar level drawn from the posterior over levels.
        level = rng.choice(len(post.bar_weights), size=len(sampled), p=post.bar_weights)
        bars = model.none_bars[np.maximum(level - 1, 0), post.ids[sampled]]
        outside = np.where(level > 0, bars, -np.inf).astype(np.float32)
    elif diffs is not None and len(diffs):
        vectors, people, cutoffs = with_blends(model, vectors, mean_products, people, diffs, beta,
                                               avoid, rng, cfg, cutoffs, basis)
    faces = model.face_of[people]
    shown = np.asarray(embeddings[faces], dtype=np.float32)
    sims = (shown if basis is None else shown @ basis) @ vectors.T
    liked = None
    if cfg.display_liked_weight and outside is None:
        liked = likely_liked(model, vectors, cutoffs, np.searchsorted(pool_rows, people), cfg)
    chosen = greedy_informative_set(sims, choices, beta, cfg, outside, liked)
    return [int(faces[i]) for i in rng.permutation(chosen)]


def hypothesis_thresholds(model: AdaptiveModel, ids: np.ndarray | None, anchored: np.ndarray,
                          components: np.ndarray, coefs: np.ndarray, vectors: np.ndarray,
                          cfg: AdaptiveConfig) -> np.ndarray:
    """(H,) liked-set thresholds of H hypotheses (unit `vectors`). The model's own particles
    (`ids`: their model rows, when all are) have theirs precomputed (model.liked_thresholds).
    Otherwise the `anchored` ones, blends of anchors (`components`, `coefs`: theirs, in
    order), take the same blend of the anchors' rows of model.anchor_sample (a gather of 3
    rows instead of a 512-d product with the sample); continuous samples take the product."""
    if ids is not None:
        return model.liked_thresholds[ids]
    sims = np.empty((len(vectors), model.anchor_sample.shape[1]), dtype=np.float32)
    sims[anchored] = blend_rows(model.anchor_sample, components, coefs)
    if not anchored.all():
        sims[~anchored] = vectors[~anchored] @ model.table.sample.T
    return liked_thresholds(sims, cfg)


def likely_liked(model: AdaptiveModel, vectors: np.ndarray, thresholds: np.ndarray,
                 positions: np.ndarray, cfg: AdaptiveConfig) -> np.ndarray:
    """(C, R) soft membership of the `cfg.display_liked_people` candidates (pool `positions`)
    most likely liked in each hypothesis' liked set (its top `liked_share` of the pool, as
    the result estimates it; `thresholds`: each hypothesis' boundary): the people whose place
    on the list the next pick should settle."""
    membership = liked_membership(model.table.rows(positions) @ vectors.T, thresholds, cfg)
    top = np.argsort(-membership.mean(1), kind="stable")[: cfg.display_liked_people]
    return np.ascontiguousarray(membership[top])


def with_blends(
    model: AdaptiveModel,
    vectors: np.ndarray,
    mean_products: np.ndarray,
    people: np.ndarray,
    diffs: np.ndarray,
    beta: float,
    avoid: set[int],
    rng: np.random.Generator,
    cfg: AdaptiveConfig,
    thresholds: np.ndarray | None = None,
    basis: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The hypotheses and candidates of a round past the information bound: `vectors` (drawn
    particles) with `cfg.display_blend_draws` of them swapped for draws of Gibbs blend samples
    given the picks (blend_gibbs.py; candidates: the anchors nearest the posterior mean), and
    `people` plus the `cfg.display_blend_people` anchors nearest the samples' mean, never
    anyone shown; and the hypotheses' liked-set `thresholds` (if given, for `vectors`).
    `basis`: the vectors are in the anchors' subspace (informative_round), the samples join
    them there.

    Why: by then no fixed particle explains every pick (blend_gibbs.py), so the displays split
    the least wrong particles instead of the looks the picks point to. LFW, 1,000 simulated
    people, N=4 M=10, paired: type precision@7 0.422 -> 0.49-0.50 (β=∞), 0.341 -> 0.37-0.38
    (β=20); with the samples alone (no particles) or without the added people about half of
    that."""
    blends = blend_samples(model.anchor_vectors, mean_products, diffs, beta, cfg,
                           cfg.display_gibbs, rng)
    added = nearest_anchors(model, anchor_products(model, blends.mean(0)[None])[0],
                            cfg.display_blend_people, avoid)
    # The particles are independent draws: dropping some keeps the others' mixture.
    drawn = rng.integers(len(blends), size=min(cfg.display_blend_draws, len(vectors)))
    if thresholds is not None:  # each sample's once (the draws repeat them)
        blend_cutoffs = liked_thresholds(blends @ model.table.sample.T, cfg)
        thresholds = np.concatenate([thresholds[len(drawn):], blend_cutoffs[drawn]])
    drawn_blends = blends[drawn] if basis is None else blends[drawn] @ basis
    return (np.concatenate([vectors[len(drawn):], drawn_blends]),
            distinct(np.concatenate([people, added])),
            thresholds)
