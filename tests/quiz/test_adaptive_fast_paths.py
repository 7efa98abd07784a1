"""The adaptive strategy's speed-ups compute what the straightforward expressions compute.

Each fast path (per-face gathers, reused scratch arrays, one partition instead of a quantile,
an anchor-by-sample table) is checked against the plain numpy it replaced, on a small pool, so
a later change of either side that alters results fails here."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from idealtype.blobstore import LocalBlobStore
from idealtype.evaluation.facelike_gallery import make_facelike_index
from idealtype.index_format import load_index, normalize_rows, publish_index
from idealtype.quiz.pool import Pool
from idealtype.quiz.strategies import RoundRecord, get_strategy, round_rng
from idealtype.quiz.strategies.adaptive_display import (
    appeal,
    hypothesis_thresholds,
    informative_round,
    particle_vectors,
    pick_information,
    pick_probabilities,
)
from idealtype.quiz.strategies.adaptive_model import adaptive_model, prepare_index
from idealtype.quiz.strategies.adaptive_rank import (
    person_probability,
    rank_basis,
    recommend_from,
    top_particles,
)
from idealtype.quiz.strategies.base import picked_rounds, shown_celebs
from idealtype.quiz.strategies.blend_gibbs import pick_differences
from idealtype.quiz.strategies.liked_set import upper_quantile
from idealtype.quiz.strategies.posterior import (
    CACHE,
    anchor_cosines,
    blend_cosines,
    choice_log_likelihood,
    gather_particles,
    multiply_round_likelihoods,
    particle_groups,
    posterior,
    round_arrays,
    round_rows,
)


@pytest.fixture(scope="module")
def facelike_pool(tmp_path_factory) -> Pool:
    store = LocalBlobStore(tmp_path_factory.mktemp("facelike-fast"))
    make_facelike_index(store, 900, seed=5)
    return Pool(load_index(store))


def played(pool: Pool, choices: int, rounds: int, seed: int) -> list[RoundRecord]:
    """A quiz of a simulated person who picks the face nearest a blend of two people."""
    index = pool.index
    ideal = normalize_rows(index.centroids[[seed, seed + 300]].sum(0, keepdims=True))[0]
    strategy = get_strategy("adaptive")
    history: list[RoundRecord] = []
    for r in range(rounds):
        shown = strategy.next_round(pool, history, choices, round_rng(seed, r))
        history.append(RoundRecord(tuple(shown), shown[int(np.argmax(index.embeddings[shown] @ ideal))]))
    return history


def plain_choice_log_likelihood(sims, picked, betas, lapse):
    """The per-round expressions without scratch arrays (what choice_log_likelihood replaced)."""
    product = np.ones((len(betas), sims.shape[2]), dtype=np.float64)
    floor = np.float32(lapse / sims.shape[1])
    for r in range(sims.shape[0]):
        z = np.exp(betas[0] * (sims[r] - sims[r].max(0)))
        for b in range(len(betas)):
            if b:
                z *= z
            product[b] *= (1 - lapse) * z[picked[r]] / z.sum(0) + floor
    return np.log(product).astype(np.float32)


def plain_mutual_information(sims, beta, lapse):
    """sims (..., N, R) -> information (nats) between the pick and the particle, from the
    definition (what pick_information replaced): softmax per set, entropies."""
    z = np.exp(beta * (sims - sims.max(-2, keepdims=True)))
    p = (1 - lapse) * z / z.sum(-2, keepdims=True) + lapse / sims.shape[-2]

    def entropy(q, axis):
        return -(q * np.log(q)).sum(axis)

    return entropy(p.mean(-1), -1) - entropy(p, -2).mean(-1)


@pytest.mark.parametrize("beta", [8.0, 23.5, 64.0])
@pytest.mark.parametrize("size", [2, 4, 8])
def test_pick_information_is_the_mutual_information_of_the_set(beta, size):
    rng = np.random.default_rng(size)
    sims = rng.uniform(-0.3, 0.9, size=(60, 1)) + rng.normal(0, 0.2, size=(60, 256))
    sims = sims.astype(np.float32)
    sets = np.array([rng.choice(60, size, replace=False) for _ in range(40)])
    expected = plain_mutual_information(sims.astype(np.float64)[sets], beta, 0.05)
    assert expected.max() - expected.min() > 0.1  # sets differ: a wrong formula cannot pass
    # Sets that share their first faces (the greedy steps), appeal relative to those faces...
    z = appeal(sims, sims[sets[0, :-1]].max(0), beta)
    shared = pick_information(*pick_probabilities(z[sets[0, :-1]][None], z[sets[:, -1]], 0.05))
    first = np.concatenate([sets[:1, :-1].repeat(40, 0), sets[:, -1:]], axis=1)
    np.testing.assert_allclose(
        shared, plain_mutual_information(sims.astype(np.float64)[first], beta, 0.05), atol=2e-5)
    # ...and sets that do not (the pairs), appeal relative to each set's best face.
    z = appeal(sims[sets], sims[sets].max(1, keepdims=True), beta)
    np.testing.assert_allclose(pick_information(*pick_probabilities(z[:, :-1], z[:, -1], 0.05)), expected,
                               atol=2e-5)


@pytest.mark.parametrize("n", [1, 2, 7, 100, 1024])
@pytest.mark.parametrize("q", [0.3, 0.5, 0.9, 0.99, 0.999])
def test_upper_quantile_is_numpys_quantile_bit_for_bit(n, q):
    values = np.random.default_rng(n).standard_normal((40, n)).astype(np.float32)
    np.testing.assert_array_equal(upper_quantile(values, q), np.quantile(values, q, axis=1))


def test_gathered_particles_are_the_blends_cosines(facelike_pool):
    pool = facelike_pool
    model = adaptive_model(pool, get_strategy("adaptive").cfg)
    faces = np.random.default_rng(0).choice(pool.index.n_images, 24, replace=False)
    sims = anchor_cosines(model, faces, pool.index.embeddings)
    fast = np.empty((len(faces), len(model.log_prior)), dtype=np.float32)
    gather_particles(model, sims, fast)
    # Bit for bit what the 2-D gather computes...
    np.testing.assert_array_equal(fast, blend_cosines(sims, model.components, model.coefs))
    # ...and what the particles' unit vectors give directly.
    vectors = np.einsum("pj,pjd->pd", model.coefs, model.anchor_vectors[model.components])
    np.testing.assert_allclose(fast, pool.index.embeddings[faces] @ vectors.T, atol=2e-6)


@pytest.mark.parametrize("shape", [(1, 2), (9, 4), (19, 8)])
def test_choice_log_likelihood_matches_the_plain_expressions(shape):
    rounds, n = shape
    rng = np.random.default_rng(rounds)
    sims = rng.uniform(-0.4, 0.9, size=(rounds, n, 500)).astype(np.float32)
    picked = rng.integers(n, size=rounds)
    betas = np.array([8, 16, 32, 64], dtype=np.float32)
    np.testing.assert_array_equal(
        choice_log_likelihood(sims, picked, betas, 0.05),
        plain_choice_log_likelihood(sims, picked, betas, 0.05),
    )


def differences_to_the_pick(anchor_sims: np.ndarray, picked: np.ndarray) -> np.ndarray:
    """(R·(N−1), A) rows of the faces not picked minus the picked one, round by round."""
    rounds = anchor_sims.reshape(len(picked), -1, anchor_sims.shape[1])
    return np.concatenate([np.delete(s, p, axis=0) - s[p] for s, p in zip(rounds, picked)])


@pytest.mark.parametrize("spread", [1.0, 3.0])
def test_round_likelihoods_are_the_choice_log_likelihood_of_the_particles(facelike_pool, spread):
    """The differences-to-the-pick form equals the softmax over the particles' cosines; with
    spread 3 many differences overflow exp(64·d), which must give the lapse floor."""
    model = adaptive_model(facelike_pool, get_strategy("adaptive").cfg)
    rounds, n = 7, 4
    rng = np.random.default_rng(int(spread))
    anchor_sims = rng.uniform(-spread / 2, spread / 2, size=(rounds * n, len(model.anchors)))
    anchor_sims = anchor_sims.astype(np.float32)
    picked = rng.integers(n, size=rounds)
    betas = np.array([8, 16, 32, 64], dtype=np.float32)
    differences = differences_to_the_pick(anchor_sims, picked)
    whole = np.ones((len(betas), len(model.log_prior)))
    multiply_round_likelihoods(model, differences, n, betas, 0.05, whole)
    sims = np.empty((rounds * n, len(model.log_prior)), dtype=np.float32)
    gather_particles(model, anchor_sims, sims)
    expected = choice_log_likelihood(sims.reshape(rounds, n, -1), picked, betas, 0.05)
    np.testing.assert_allclose(np.log(whole), expected, rtol=1e-5, atol=1e-5)
    if spread > 2:  # some exp(64·d) did overflow float32 (e^88.7)
        shaped = sims.reshape(rounds, n, -1)
        assert (shaped.max(1) - shaped[np.arange(rounds), picked]).max() * 64 > 89
    # One round at a time (a warm process) multiplies the same factors: equal bit for bit.
    stepwise = np.ones_like(whole)
    for r in range(rounds):
        multiply_round_likelihoods(model, differences[r * (n - 1):(r + 1) * (n - 1)], n, betas,
                                   0.05, stepwise)
    np.testing.assert_array_equal(stepwise, whole)
    # Any subset of the particles (a live set) gets its columns of the whole, bit for bit.
    for ids in (np.arange(0, len(model.log_prior), 7), np.arange(len(model.anchors), 3000),
                np.sort(rng.choice(len(model.log_prior), 500, replace=False))):
        part = np.ones((len(betas), len(ids)))
        multiply_round_likelihoods(model, differences, n, betas, 0.05, part,
                                   particle_groups(model, ids))
        np.testing.assert_array_equal(part, whole[:, ids])


def test_round_rows_are_the_differences_of_the_anchor_cosines(facelike_pool):
    pool = facelike_pool
    model = adaptive_model(pool, get_strategy("adaptive").cfg)
    history = played(pool, 6, 5, 4)
    faces, picked = round_arrays(history)
    expected = differences_to_the_pick(anchor_cosines(model, faces, pool.index.embeddings), picked)
    rows, starts = round_rows(history, model, pool.index.embeddings)
    np.testing.assert_allclose(rows, expected, atol=2e-6)
    np.testing.assert_array_equal(starts, np.arange(0, 5 * 5 + 1, 5))  # 5 rounds of N−1 = 5


def test_particle_thresholds_are_the_quantiles_of_the_particles_products_with_the_sample(facelike_pool):
    pool = facelike_pool
    cfg = get_strategy("adaptive").cfg
    model = adaptive_model(pool, cfg)
    CACHE.clear()
    post = posterior(model, played(pool, 4, 6, 7), pool.index.embeddings, cfg)
    top, _ = top_particles(post, cfg)
    assert post.single[top].any() and not post.single[top].all()  # singles and blends
    basis = rank_basis(model, post, pool.celeb_rows, cfg)
    np.testing.assert_array_equal(basis.vectors, particle_vectors(model, post, top))
    expected = np.quantile(basis.vectors @ model.table.sample.T, 1 - cfg.liked_share, axis=1)
    anchored = basis.anchored

    def thresholds(ids):
        return hypothesis_thresholds(model, ids, anchored, basis.components[anchored],
                                     basis.coefs[anchored], basis.vectors, cfg)

    precomputed = thresholds(basis.ids)  # the model's, by particle
    np.testing.assert_allclose(precomputed, expected, atol=2e-6)
    # Blends that are not the model's own take the same arithmetic per particle.
    np.testing.assert_array_equal(thresholds(None), precomputed)


def plain_recommend(model, post, pool_rows, k, cfg):
    """The membership rule over the whole pool, straight from its definition: expected
    membership in each particle's liked set (+ bonus × P(person)), thresholds by np.quantile."""
    top, pi = top_particles(post, cfg)
    vectors = particle_vectors(model, post, top)
    mean = (pi @ vectors).astype(np.float32)
    mean /= np.linalg.norm(mean)
    centroids = np.asarray(model.table.rows(np.arange(len(pool_rows))))
    thresholds = np.quantile(model.table.sample @ vectors.T, 1 - cfg.liked_share, axis=0)
    membership = 1.0 / (1.0 + np.exp(-(centroids @ vectors.T - thresholds) / cfg.softness))
    score = membership @ pi + cfg.person_bonus * person_probability(model, post, pool_rows)
    order = np.lexsort((-(centroids @ mean), -np.round(score, 6)))[:k]
    return pool_rows[order], score[order]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_recommendations_equal_the_straightforward_computation(facelike_pool, seed):
    pool = facelike_pool
    strategy = get_strategy("adaptive")
    history = played(pool, 4, 10, seed)
    CACHE.clear()
    model = adaptive_model(pool, strategy.cfg)
    post = posterior(model, history, pool.index.embeddings, strategy.cfg)
    basis = rank_basis(model, post, pool.celeb_rows, strategy.cfg)
    rows, _ = recommend_from(model, basis, pool.celeb_rows, 7, strategy.cfg)
    expected, scores = plain_recommend(model, post, pool.celeb_rows, 7, strategy.cfg)
    # The fast path scores candidates only (near the mean, the particles' people, likely
    # singles); a person outside them could only differ if it scored in the top 7.
    assert rows.tolist() == expected.tolist(), scores


def test_blend_coefficients_make_unit_vectors(facelike_pool):
    model = adaptive_model(facelike_pool, get_strategy("adaptive").cfg)
    vectors = np.einsum("pj,pjd->pd", model.coefs, model.anchor_vectors[model.components])
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_prepare_index_builds_the_served_model_once_for_every_whole_index_pool(tmp_path):
    store = LocalBlobStore(tmp_path)
    make_facelike_index(store, 300, seed=9)
    index = load_index(store)
    prepare_index(index)
    cfg = get_strategy("adaptive").cfg
    (built,) = index._adaptive_models.values()
    # Pools are made per request path (the API's cache, the evaluation): all share the model.
    assert adaptive_model(Pool(index), cfg) is built
    assert adaptive_model(Pool(index), cfg) is built
    female = Pool(index, {"gender": "female"})
    assert adaptive_model(female, cfg) is not built
    assert len(adaptive_model(female, cfg).anchors) == len(female)


def test_the_api_index_load_builds_the_adaptive_model(tmp_path):
    from idealtype.api.index_cache import load_from

    store = LocalBlobStore(tmp_path)
    make_facelike_index(store, 200, seed=2)
    index = load_from(store)
    assert len(index._adaptive_models) == 1


def low_rank_index(tmp_path, n_celebs: int = 600, rank: int = 40):
    """People and photos inside a `rank`-dimensional subspace plus a little noise in all 512
    directions: the geometry of FaceNet embeddings (LFW: 96 directions hold 99.99%)."""
    rng = np.random.default_rng(4)
    basis = np.linalg.qr(rng.standard_normal((512, rank)))[0].T.astype(np.float32)
    people = rng.standard_normal((n_celebs, rank)).astype(np.float32) @ basis
    photos = np.repeat(people, 2, axis=0) + 0.3 * rng.standard_normal(
        (2 * n_celebs, rank)).astype(np.float32) @ basis
    photos = normalize_rows(photos + 0.003 * rng.standard_normal(photos.shape).astype(np.float32))
    images = [{"image_id": f"i{row:08d}", "celeb_id": f"p{row // 2:05d}", "source": f"{row}.jpg",
               "box": [0, 0, 8, 8], "prob": 1.0, "crop": f"faces/i{row:08d}.jpg"}
              for row in range(len(photos))]
    store = LocalBlobStore(tmp_path)
    publish_index(store, photos, images, model_id="low-rank-test", weights_sha256="0" * 64)
    return load_index(store)


def subspace_residual(vectors: np.ndarray, basis: np.ndarray) -> np.ndarray:
    """Norm of each row's part outside the subspace spanned by `basis`'s orthonormal columns."""
    return np.linalg.norm(vectors - (vectors @ basis) @ basis.T, axis=1)


def test_low_rank_anchor_cosines_stay_within_their_residual_bound(tmp_path):
    index = low_rank_index(tmp_path)
    model = adaptive_model(Pool(index), get_strategy("adaptive").cfg)
    projection = model.anchor_projection
    assert projection is not None and projection.dims < 128
    faces = np.arange(0, index.n_images, 3)
    x = np.asarray(index.embeddings[faces], dtype=np.float32)
    exact = x @ model.anchor_vectors.T
    bound = subspace_residual(x, projection.basis)[:, None] * projection.residual_norms[None, :] + 1e-5
    error = np.abs(anchor_cosines(model, faces, index.embeddings) - exact)
    assert np.all(error <= bound)
    assert error.max() > 0  # the subspace path was taken (not the exact product)


def test_displays_scored_in_the_anchors_subspace_show_the_faces_the_exact_scores_show(tmp_path):
    index = low_rank_index(tmp_path)
    pool = Pool(index)
    cfg = get_strategy("adaptive").cfg
    model = adaptive_model(pool, cfg)
    exact = replace(model, anchor_projection=None)  # the display's 512-d path
    # The hypotheses' cosines with faces are within |x_res|·|v_res| of the exact ones.
    post = posterior(model, [], index.embeddings, cfg, refined=False)
    particles = np.arange(0, len(post.weights), 97)
    vectors = particle_vectors(model, post, particles, projected=True)
    assert vectors.shape[1] == model.anchor_projection.dims < 128
    full = particle_vectors(model, post, particles)
    x = np.asarray(index.embeddings[::5], dtype=np.float32)
    basis = model.anchor_projection.basis
    error = np.abs((x @ basis) @ vectors.T - x @ full.T)
    bound = subspace_residual(x, basis)[:, None] * subspace_residual(full, basis)[None, :] + 1e-5
    assert np.all(error <= bound)
    # And the rounds show the same faces. (In the order they were chosen in, two faces can
    # swap where their information ties to ~1e-6, which the BLAS's thread count decides;
    # a round shows its faces in a random order anyway.)
    history: list[RoundRecord] = []
    rng = np.random.default_rng(6)
    for r in range(8):  # from round 5 on past the information bound: blend samples join
        post = posterior(model, history, index.embeddings, cfg, refined=False)
        rounds = picked_rounds(history)
        diffs = pick_differences(rounds, index.embeddings) if r >= 5 else None
        shown = [informative_round(m, post, index.embeddings, pool.celeb_rows,
                                   shown_celebs(pool, history), 4, round_rng(9, r), cfg,
                                   diffs=diffs) for m in (model, exact)]
        assert sorted(shown[0]) == sorted(shown[1])
        history.append(RoundRecord(tuple(shown[0]), shown[0][int(rng.integers(4))]))


@pytest.mark.parametrize("seed", [1, 2])
def test_results_ranked_in_the_anchors_subspace_are_the_exact_ones(tmp_path, seed):
    index = low_rank_index(tmp_path)
    pool = Pool(index)
    cfg = get_strategy("adaptive").cfg
    model = adaptive_model(pool, cfg)
    table = model.table
    assert table.projected is not None and table.projected.shape[1] < 128
    exact = replace(model, table=replace(table, basis=None, projected=None))
    # Blends of pool people are within |c_res|·|v_res| of their exact products.
    people = np.arange(0, len(pool.celeb_rows), 7)
    vectors = normalize_rows(table.rows(people[:30]) + table.rows(people[30:60]))
    error = np.abs(table.products(people, vectors) - exact.table.products(people, vectors))
    bound = (subspace_residual(table.rows(people), table.basis)[:, None]
             * subspace_residual(vectors, table.basis)[None, :] + 1e-5)
    assert 0 < error.max() and np.all(error <= bound)
    history = played(pool, 4, 10, seed)
    post = posterior(model, history, index.embeddings, cfg)
    rank = rank_basis(model, post, pool.celeb_rows, cfg)
    diffs = pick_differences(picked_rounds(history), index.embeddings)
    for picks in (None, diffs):  # liked sets from the particles, then from blend samples
        got = [recommend_from(m, rank, pool.celeb_rows, 7, cfg, picks, seed)[0].tolist()
               for m in (model, exact)]
        assert got[0] == got[1]
    mean = normalize_rows(rank.pi @ rank.vectors[None])[0].astype(np.float32)
    assert (set(table.nearest(mean, 50, 10**6).tolist())
            == set(exact.table.nearest(mean, 50, 10**6).tolist()))


def test_isotropic_galleries_take_the_exact_anchor_cosines(index):
    model = adaptive_model(Pool(index), get_strategy("adaptive").cfg)
    assert model.anchor_projection is None
    faces = np.arange(20)
    np.testing.assert_array_equal(anchor_cosines(model, faces, index.embeddings),
                                  index.embeddings[faces] @ model.anchor_vectors.T)
