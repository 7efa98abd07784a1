"""Per-pool precomputation for the `adaptive` strategy (built once per pool via `Pool.memo`).

Hypotheses ("particles") about a person's ideal vector w are unit vectors that are blends of
1-3 celebrity centroids: w_p = Σ_j a_pj·c_j / ‖Σ_j a_pj·c_j‖. A real taste is neither one face
nor an arbitrary direction; blends of people span the region of embedding space where tastes
live. Storing each particle as (component rows, coefficients) instead of a 512-d vector makes
the cosine of any face x with every particle a gather over x's cosines with the anchors:
cos(x, w_p) = Σ_j coef_pj·(x·c_j), with coef_pj = a_pj / ‖Σ_j a_pj·c_j‖.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from ...index_format import GalleryIndex
from ..centroid_search import CentroidProjection, build_projection
from ..pool import Pool
from .adaptive_config import DEFAULT, AdaptiveConfig
from .adaptive_scan import CentroidTable, centroid_table
from .liked_set import particle_cutoffs
from .posterior_gauss import GaussPrior, gauss_prior

TYPICAL_CHUNK = 8192  # image rows per step when finding each person's most typical photo
BLEND_CHUNK = 2048  # blends per step when normalizing them


@dataclass(frozen=True)
class AdaptiveModel:
    anchors: np.ndarray  # (A,) celebrity rows used as particle components
    anchor_vectors: np.ndarray  # (A, d) their centroids, float32
    components: np.ndarray  # (P, 3) anchor positions of each particle's components
    coefs: np.ndarray  # (P, 3) float32, zero for unused slots
    log_prior: np.ndarray  # (P,) float32
    prior: np.ndarray  # (P,) float64, exp(log_prior)
    face_of: np.ndarray  # (n_celebs,) most typical image row of each celebrity (-1 outside pool)
    table: CentroidTable  # the pool's centroids, grouped by cluster for fast scans
    anchor_sample: np.ndarray  # (A, len(table.sample)) float32: anchor x sample cosines
    # The anchors' low-rank subspace (FaceNet-like geometry; None when there is none): faces'
    # cosines with every anchor then cost dims/512 of the work (posterior.anchor_cosines).
    anchor_projection: CentroidProjection | None
    key: str  # identifies (index version, pool, hypotheses) for caches
    blend_groups: tuple[tuple[int, int, int], ...]  # (start, stop, components) of pairs, triples
    gauss: GaussPrior | None  # prior of the continuous model (None when it is off)
    none_bars: np.ndarray  # (K, P) float32: each particle's bars for "none of these" (adaptive_none)
    liked_thresholds: np.ndarray  # (P,) float32: each particle's liked-set boundary (liked_set)


def typical_faces(pool: Pool) -> np.ndarray:
    """Image row closest to the centroid for each pool celebrity (what the quiz shows): the
    most typical photo, so a particle's predicted reaction to a face matches the person."""
    index = pool.index
    owner = index.image_celeb
    centroids = np.asarray(index.centroids, dtype=np.float32)
    # In chunks: one gather of every image's centroid would be a 400 MB temporary at 100k.
    sims = np.empty(len(owner), dtype=np.float32)
    for start in range(0, len(owner), TYPICAL_CHUNK):
        stop = start + TYPICAL_CHUNK
        emb = np.asarray(index.embeddings[start:stop], dtype=np.float32)
        sims[start:stop] = np.einsum("ij,ij->i", emb, centroids[owner[start:stop]])
    in_pool = pool.mask[owner]
    rows = np.flatnonzero(in_pool)
    # Sort by (celebrity, -similarity): the first row of each celebrity is its best photo.
    order = rows[np.lexsort((-sims[rows], owner[rows]))]
    first = np.r_[True, owner[order][1:] != owner[order][:-1]]
    face_of = np.full(index.n_celebs, -1, dtype=np.int64)
    face_of[owner[order][first]] = order[first]
    return face_of


def mixing_weights(order: np.ndarray, alpha: float, rng: np.random.Generator) -> np.ndarray:
    """(len(order), 3) weights of blends of order[i] people (zeros after them), drawn from
    Dirichlet(alpha) (alpha = inf: equal weights, "the average face of a few people")."""
    count = len(order)
    if np.isinf(alpha):
        weights = np.ones((count, 3), dtype=np.float32)
    else:
        weights = rng.dirichlet(np.full(3, alpha), size=count).astype(np.float32)
    weights[np.arange(3)[None, :] >= order[:, None]] = 0.0
    return weights / weights.sum(1, keepdims=True)


def blend_weights(count: int, alpha: float, rng: np.random.Generator) -> np.ndarray:
    """Mixing weights of `count` blends: pairs (the first half), then triples."""
    return mixing_weights(np.where(np.arange(count) < count // 2, 2, 3), alpha, rng)


def blend_particles(
    anchor_vectors: np.ndarray, count: int, alpha: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(components, coefs) of `count` random pairs (the first half) and triples (the rest)."""
    n = len(anchor_vectors)
    components = np.stack([rng.integers(n, size=count) for _ in range(3)], axis=1)
    weights = blend_weights(count, alpha, rng)
    pairs = weights[:, 2] == 0
    components[pairs, 2] = components[pairs, 0]
    # In chunks: the gathered (count, 3, d) components would be a 150 MB temporary whose
    # first touch costs more than the arithmetic (0.5 s vs 0.04 s; same results).
    norms = np.empty((count, 1), dtype=np.float32)
    for start in range(0, count, BLEND_CHUNK):
        part = slice(start, start + BLEND_CHUNK)
        vectors = np.einsum("pj,pjd->pd", weights[part], anchor_vectors[components[part]])
        norms[part] = np.linalg.norm(vectors, axis=1, keepdims=True)
    return components, (weights / np.maximum(norms, 1e-6)).astype(np.float32)


def build_model(pool: Pool, cfg: AdaptiveConfig) -> AdaptiveModel:
    rng = np.random.default_rng(cfg.seed)
    rows = pool.celeb_rows
    if len(rows) > cfg.max_anchors:
        anchors = np.sort(rng.choice(rows, cfg.max_anchors, replace=False))
    else:
        anchors = rows
    anchor_vectors = np.asarray(pool.index.centroids[anchors], dtype=np.float32)
    a = len(anchors)
    singles = np.repeat(np.arange(a)[:, None], 3, axis=1)
    single_coefs = np.zeros((a, 3), dtype=np.float32)
    single_coefs[:, 0] = 1.0
    blend_comp, blend_coefs = blend_particles(
        anchor_vectors, cfg.blend_particles, cfg.blend_alpha, rng
    )
    blend_mass = 1 - cfg.single_prior_mass - cfg.gauss_prior_mass
    with np.errstate(divide="ignore"):
        log_prior = np.r_[
            np.full(a, np.log(cfg.single_prior_mass / a)),
            np.full(len(blend_comp), np.log(blend_mass / max(1, len(blend_comp)))),
        ].astype(np.float32)
    pairs_end = a + cfg.blend_particles // 2
    groups = ((a, pairs_end, 2), (pairs_end, a + cfg.blend_particles, 3))
    projection = build_projection(anchor_vectors, seed=cfg.seed)
    table = centroid_table(pool, cfg.threshold_sample, cfg.seed,
                           None if projection is None else projection.basis)
    anchor_sample = anchor_vectors @ table.sample.T
    components = np.concatenate([singles, blend_comp]).astype(np.int32)
    coefs = np.concatenate([single_coefs, blend_coefs])
    none_bars, liked_thresholds = particle_cutoffs(anchor_sample, components, coefs,
                                                   cfg.none_bar_shares, cfg.liked_share)
    return AdaptiveModel(
        blend_groups=tuple(g for g in groups if g[1] > g[0]),
        gauss=gauss_prior(pool, cfg) if cfg.gauss_samples else None,
        anchors=anchors,
        anchor_vectors=anchor_vectors,
        components=components,
        coefs=coefs,
        log_prior=log_prior,
        prior=np.exp(log_prior.astype(np.float64)),
        face_of=typical_faces(pool),
        table=table,
        # A particle's cosines with the sample are then a blend of rows of this table (for
        # its bars and liked-set threshold, liked_set.particle_cutoffs, and those of blends
        # that are not the model's own, adaptive_rank) instead of a product with 512-d vectors.
        anchor_sample=anchor_sample,
        none_bars=none_bars,
        liked_thresholds=liked_thresholds,
        anchor_projection=projection,
        key=f"{pool.index.version}|{pool.key}|{cfg.model_key}",
    )


_whole_index_lock = threading.Lock()


def whole_index_model(pool: Pool, cfg: AdaptiveConfig) -> AdaptiveModel:
    """The model of an untagged pool, kept on the (immutable) index: every Pool object of the
    whole index shares it, so prepare_index can build it before the first request."""
    with _whole_index_lock:  # one build per index even if several requests arrive at once
        models = pool.index.__dict__.setdefault("_adaptive_models", {})
        if cfg.model_key not in models:
            models[cfg.model_key] = build_model(pool, cfg)
        return models[cfg.model_key]


def adaptive_model(pool: Pool, cfg: AdaptiveConfig) -> AdaptiveModel:
    if pool.tags:
        return pool.memo(cfg.model_key, lambda p: build_model(p, cfg))
    return pool.memo(cfg.model_key, lambda p: whole_index_model(p, cfg))


def prepare_index(index: GalleryIndex) -> None:
    """Build the served adaptive model of the whole index now (when the index is loaded, e.g.
    in a Lambda's init phase) instead of in the first quiz request that needs it (~0.2 s at
    10k celebrities, ~0.7 s at 100k). Tag-filtered pools still build theirs on first use."""
    adaptive_model(Pool(index), DEFAULT)
