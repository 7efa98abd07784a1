""""None of these" as an answer: the adaptive strategy's user model with an outside option
(adaptive_none.py), the rounds the service keeps for it, and the baselines' fallback."""

from __future__ import annotations

import numpy as np
import pytest

from idealtype.api.index_cache import IndexCache
from idealtype.quiz.errors import QuizError
from idealtype.quiz.pool import Pool
from idealtype.quiz.service import QuizService
from idealtype.quiz.strategies import NONE_OF_THESE, RoundRecord, get_strategy, round_rng
from idealtype.quiz.strategies.adaptive_display import (
    blend_vectors,
    greedy_informative_set,
    informative_round,
)
from idealtype.quiz.strategies.adaptive_live import DECLINABLE_EXTRA_FACES, prune
from idealtype.quiz.strategies.adaptive_model import adaptive_model
from idealtype.quiz.strategies.base import shown_celebs
from idealtype.quiz.strategies.blend_gibbs import pick_differences
from idealtype.quiz.strategies.posterior import (
    CACHE,
    anchor_cosines,
    blend_cosines,
    history_likelihood,
    posterior,
)
from idealtype.sessions.sqlite import SQLiteSessionStore

ADAPTIVE = get_strategy("adaptive")


@pytest.fixture
def pool(facelike_pool) -> Pool:
    return facelike_pool


def quiz(pool: Pool, ideal: np.ndarray, rounds: int, seed: int, declinable: bool = True,
         bar: float | None = None) -> list[RoundRecord]:
    """A noiseless person's adaptive quiz: "none of these" when no face reaches `bar`."""
    emb = pool.index.embeddings
    history: list[RoundRecord] = []
    for r in range(rounds):
        shown = ADAPTIVE.next_round(pool, history, 4, round_rng(seed, r))
        sims = emb[shown] @ ideal
        answer = NONE_OF_THESE if bar is not None and sims.max() < bar else shown[int(np.argmax(sims))]
        history.append(RoundRecord(tuple(shown), answer, declinable))
    return history


def plain_log_likelihood(model, history, embeddings, cfg, rows) -> np.ndarray:
    """(len(betas), len(rows)): log of the mean over bar levels of P(answers | particle, β,
    bar level) by Luce over the faces, plus the bar as one more option in rounds that offered
    "none of these" (level 0: no bar, the person never declines), with the lapse spread over
    all options; the particles' cosines from the anchors' (as the model's)."""
    lapse, betas = cfg.lapse, np.asarray(cfg.betas)
    levels = 1 + len(cfg.none_bar_shares) if any(r.declinable for r in history) else 1
    out = np.zeros((levels, len(betas), len(rows)))
    for r in history:
        sims = blend_cosines(anchor_cosines(model, np.array(r.shown), embeddings),
                             model.components[rows], model.coefs[rows]).astype(np.float64)
        n = len(r.shown)
        options = n + 1 if r.declinable else n
        for level in range(levels):
            util = sims
            if r.declinable:
                bar = np.full(len(rows), -np.inf) if level == 0 else model.none_bars[level - 1, rows]
                util = np.vstack([sims, bar])
            chosen = n if r.picked == NONE_OF_THESE else r.shown.index(r.picked)
            for b, beta in enumerate(betas):
                z = np.exp(beta * (util - util.max(0)))
                out[level, b] += np.log((1 - lapse) * z[chosen] / z.sum(0) + lapse / options)
    # The levels are equally likely a priori: summed out, as history_likelihood returns.
    return np.log(np.exp(out).mean(0))


def test_particle_bars_are_each_particles_order_statistics_of_the_sample(pool):
    model = adaptive_model(pool, ADAPTIVE.cfg)
    rows = np.random.default_rng(0).choice(len(model.log_prior), 300, replace=False)
    vectors = blend_vectors(model, model.components[rows], model.coefs[rows])
    sims = -np.sort(-(vectors @ model.table.sample.T), axis=1)  # descending
    for level, share in enumerate(ADAPTIVE.cfg.none_bar_shares):
        k = int(np.ceil(share * sims.shape[1]))
        np.testing.assert_allclose(model.none_bars[level, rows], sims[:, k - 1], atol=1e-5)


@pytest.mark.parametrize("seed", [1, 2])
def test_the_likelihood_is_luce_with_the_bar_as_an_option(pool, seed):
    """Picks and "none of these" answers, in rounds that offered it and in forced ones."""
    index, cfg = pool.index, ADAPTIVE.cfg
    model = adaptive_model(pool, cfg)
    ideal = index.centroids[pool.celeb_rows[seed * 50]]
    history = quiz(pool, ideal, 6, seed, bar=float(np.quantile(index.centroids @ ideal, 0.97)))
    history[1] = history[1]._replace(declinable=False, picked=history[1].shown[0])
    assert {r.picked == NONE_OF_THESE for r in history} == {True, False}
    CACHE.clear()
    live, likelihood, _ = history_likelihood(model, history, index.embeddings, cfg)
    rows = np.arange(len(model.log_prior)) if live is None else live
    expected = plain_log_likelihood(model, history, index.embeddings, cfg, rows)
    np.testing.assert_allclose(np.log(likelihood), expected, rtol=1e-4, atol=1e-3)


def test_none_of_these_moves_the_posterior_away_from_the_faces_shown(pool):
    index, cfg = pool.index, ADAPTIVE.cfg
    model = adaptive_model(pool, cfg)
    people = pool.celeb_rows[:4]
    shown = tuple(int(model.face_of[c]) for c in people)

    def single_mass(history, who) -> float:
        """Posterior mass of the one-person hypotheses of the celebrity rows `who`."""
        CACHE.clear()
        post = posterior(model, history, index.embeddings, cfg)
        weights = post.weights[: len(post.components)]
        mine = post.single & np.isin(model.anchors[post.components[:, 0]], who)
        return float(weights[mine].sum())

    prior = single_mass([], people)
    assert single_mass([RoundRecord(shown, NONE_OF_THESE, True)], people) < prior / 5
    picked = [RoundRecord(shown, shown[0], True)]
    assert single_mass(picked, people[:1]) > 5 * single_mass([], people[:1])
    assert single_mass(picked, people[1:]) < single_mass([], people[1:]) / 5


def test_warm_and_cold_requests_agree_on_a_quiz_with_none_answers(pool):
    """The service's pick runs warm (each round multiplied into the cached product) or cold
    (the whole history at once): the same posterior either way."""
    index, cfg = pool.index, ADAPTIVE.cfg
    model = adaptive_model(pool, cfg)
    ideal = index.centroids[pool.celeb_rows[123]]
    history = quiz(pool, ideal, 7, 5, bar=float(np.quantile(index.centroids @ ideal, 0.97)))
    assert any(r.picked == NONE_OF_THESE for r in history)
    # A forced first round: warm, its product has one bar level until the next round's.
    history[0] = RoundRecord(history[0].shown, history[0].shown[0], False)
    CACHE.clear()
    for r in range(1, len(history) + 1):
        warm = history_likelihood(model, history[:r], index.embeddings, cfg)
    CACHE.clear()
    cold = history_likelihood(model, history, index.embeddings, cfg)
    np.testing.assert_array_equal(warm[0], cold[0])  # the same live set
    # The same likelihoods up to the BLAS's rounding: it may round a product of one round's
    # rows differently from the whole history's (posterior.multiply_round_likelihoods; seen
    # with OpenBLAS on an AVX2-only core: log-likelihoods relative 1.6e-6 apart).
    np.testing.assert_allclose(np.log(warm[1]), np.log(cold[1]), rtol=1e-5, atol=0)
    np.testing.assert_allclose(warm[2], cold[2], rtol=1e-5, atol=0)  # the bar levels' posterior
    rows = np.arange(len(model.log_prior)) if cold[0] is None else cold[0]
    np.testing.assert_allclose(np.log(cold[1]), plain_log_likelihood(
        model, history, index.embeddings, cfg, rows), rtol=1e-4, atol=1e-3)


@pytest.fixture
def service(facelike_store, tmp_path) -> QuizService:
    return QuizService(IndexCache(facelike_store), SQLiteSessionStore(tmp_path / "s.db"), 3600)


@pytest.mark.parametrize("strategy", ["adaptive", "random"])
def test_a_quiz_answered_none_of_these_keeps_the_rounds_and_gets_a_result(service, strategy):
    quiz_ = service.create(choices=4, rounds=5, strategy=strategy, seed=3)
    sid = quiz_.session.session_id
    answers = []
    while not quiz_.session.done:
        n = quiz_.session.open_round
        answer = None if n % 2 == 0 else quiz_.session.shown[n][1]
        answers.append(answer)
        quiz_ = service.pick(sid, n, answer)
    stored = service.store.get(sid)
    assert stored.offers_none and stored.picks == answers and None in answers
    history = service._history(stored, service.indexes.current())
    assert [r.picked == NONE_OF_THESE for r in history] == [a is None for a in answers]
    assert all(r.declinable for r in history)
    result = service.result(sid, 7)
    assert len(result.celeb_rows) == 7
    picked_people = {int(result.index.image_celeb[result.index.image_row[a]])
                     for a in answers if a is not None}
    assert result.picked_celebs == picked_people


@pytest.mark.parametrize("strategy", ["adaptive", "random", "cluster"])
def test_a_quiz_answered_none_in_every_round_still_recommends(service, strategy):
    quiz_ = service.create(choices=4, rounds=3, strategy=strategy, seed=4)
    sid = quiz_.session.session_id
    for n in range(3):
        quiz_ = service.pick(sid, n, None)
    assert quiz_.session.done and quiz_.session.picks == [None] * 3
    result = service.result(sid, 7)
    assert len(set(result.celeb_rows.tolist())) == 7 and not result.picked_celebs
    assert np.all(np.abs(result.cosines) <= 1)


def test_a_quiz_that_does_not_offer_it_refuses_none_of_these(service):
    quiz_ = service.create(choices=4, rounds=3, strategy="adaptive", seed=5, offers_none=False)
    with pytest.raises(QuizError) as err:
        service.pick(quiz_.session.session_id, 0, None)
    assert err.value.status == 422 and err.value.code == "none_not_offered"
    assert service.store.get(quiz_.session.session_id).picks == []


def level_mass(pool, history) -> np.ndarray:
    """The posterior over bar levels (0: no bar, then cfg.none_bar_shares)."""
    cfg = ADAPTIVE.cfg
    CACHE.clear()
    weights = posterior(adaptive_model(pool, cfg), history, pool.index.embeddings, cfg).bar_weights
    assert weights is not None and len(weights) == 1 + len(cfg.none_bar_shares)
    return weights


def test_how_choosy_a_person_is_is_learned(pool):
    """Someone who never answers "none of these" ends up read as having no bar (their picks
    are forced choices); someone who answers it unless a face is in their top 3% as choosy."""
    index = pool.index
    shares = ADAPTIVE.cfg.none_bar_shares
    for seed in (3, 4):
        ideal = index.centroids[pool.celeb_rows[seed * 40]]
        never = level_mass(pool, quiz(pool, ideal, 8, seed))
        assert np.argmax(never) == 0, never
        choosy_bar = float(np.quantile(index.centroids @ ideal, 0.97))
        choosy = level_mass(pool, quiz(pool, ideal, 8, seed, bar=choosy_bar))
        assert np.argmax(choosy) == 1 + shares.index(0.03), choosy


def test_rounds_that_offered_none_count_as_costlier_in_the_pruning_budget():
    """A cold request's work is bounded by the live set: a round that offered "none of these"
    costs as much as a forced one with DECLINABLE_EXTRA_FACES more faces, against its own
    budget (forced rounds have a smaller one, adaptive_config.forced_likelihood_budget)."""
    cfg = ADAPTIVE.cfg
    score = np.linspace(1.0, 0.5, 20_000)  # nothing hopeless; within both budgets at first
    for declinable, budget, per_round in ((False, cfg.forced_likelihood_budget, 3),
                                          (True, cfg.likelihood_budget, 3 + DECLINABLE_EXTRA_FACES)):
        assert len(prune(score, 1, 4, cfg, declinable)) == len(score)  # not capped yet
        kept = prune(score, 5, 4, cfg, declinable)
        cap = budget // (6 * per_round)
        assert len(kept) == max(cfg.support, cap * 7 // 8) < len(score)
        np.testing.assert_array_equal(kept, np.arange(len(kept)))  # the heaviest


def test_displays_count_none_as_an_answer_only_where_a_bar_can_be_met():
    """With "none of these" on offer the display's information counts it as one more answer:
    a bar nobody has (-inf everywhere) changes nothing, a bar above every face for half the
    hypotheses changes which faces are informative."""
    cfg = ADAPTIVE.cfg
    rng = np.random.default_rng(0)
    sims = rng.uniform(-0.2, 0.6, size=(40, 64)).astype(np.float32)
    forced = greedy_informative_set(sims, 4, 16.0, cfg)
    never = np.full(64, -np.inf, dtype=np.float32)
    assert greedy_informative_set(sims, 4, 16.0, cfg, never) == forced
    choosy = np.where(np.arange(64) < 32, 0.5, -np.inf).astype(np.float32)
    assert greedy_informative_set(sims, 4, 16.0, cfg, choosy) != forced


def test_displays_count_none_only_once_the_person_has_answered_it(pool):
    """Until a person first answers "none of these", their rounds are chosen as in a forced
    quiz (counting it as an answer cost people who never use it type precision in the LFW
    eval); from then on the displays count it."""
    cfg, emb = ADAPTIVE.cfg, pool.index.embeddings
    model = adaptive_model(pool, cfg)
    ideal = pool.index.centroids[pool.celeb_rows[120]]
    never = quiz(pool, ideal, 4, seed=5)
    choosy = quiz(pool, ideal, 4, seed=5, bar=float(np.quantile(pool.index.centroids @ ideal, 0.97)))
    assert all(r.picked != NONE_OF_THESE for r in never)
    assert any(r.picked == NONE_OF_THESE for r in choosy)
    for history, counts_none in ((never, False), (choosy, True)):
        post = posterior(model, history, emb, cfg, refined=False)
        shown = shown_celebs(pool, history)
        # 4 answered rounds reach the information bound: a forced round also uses blend samples.
        diffs = pick_differences(history, emb)
        faces = {flag: informative_round(model, post, emb, pool.celeb_rows, shown, 4,
                                         round_rng(7, 4), cfg, declinable=flag, diffs=diffs)
                 for flag in (False, True)}
        assert faces[False] != faces[True]  # (else this history could not tell them apart)
        assert ADAPTIVE.next_round(pool, history, 4, round_rng(7, 4)) == faces[counts_none]
