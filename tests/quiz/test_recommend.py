from __future__ import annotations

import numpy as np
import pytest

from idealtype.quiz.estimators import MeanOfPicks
from idealtype.quiz.pool import Pool
from idealtype.quiz.recommend import nearest_celebs, representative_image, similarity_percent
from idealtype.quiz.strategies import RoundRecord, get_strategy


def test_nearest_celebs_matches_a_full_sort(index):
    ideal = MeanOfPicks().ideal_vector(index, [0, 10, 20])
    rows, cosines = nearest_celebs(index, ideal, 7)
    full = index.centroids @ ideal
    expected = np.argsort(-full)[:7]
    assert rows.tolist() == expected.tolist()
    np.testing.assert_allclose(cosines, full[expected], rtol=1e-6)
    assert np.all(np.diff(cosines) <= 0)


def test_ranking_equals_the_original_euclidean_method(index):
    picked = [5, 50, 500, 700]
    mean = np.asarray(index.embeddings[picked], dtype=np.float32).mean(0)  # not normalized
    euclid = np.linalg.norm(index.centroids - mean, axis=1)
    rows, _ = nearest_celebs(index, MeanOfPicks().ideal_vector(index, picked), 10)
    assert rows.tolist() == np.argsort(euclid)[:10].tolist()


def test_mask_restricts_candidates(index):
    pool = Pool(index, {"gender": "male"})
    ideal = MeanOfPicks().ideal_vector(index, [0])  # row 0 is a female celebrity (c00000)
    rows, _ = nearest_celebs(index, ideal, 7, pool.mask)
    assert len(rows) == 7
    assert all(index.celebs[r]["tags"]["gender"] == "male" for r in rows)
    assert 0 not in rows.tolist()


def test_k_larger_than_pool(index):
    mask = np.zeros(index.n_celebs, dtype=bool)
    mask[[3, 4]] = True
    rows, _ = nearest_celebs(index, index.centroids[4], 7, mask)
    assert rows.tolist() == [4, 3]


def test_picking_one_persons_photos_recommends_that_person_first(index):
    celeb = 42
    picks = index.celebs[celeb]["rows"]
    history = [RoundRecord((row,), row) for row in picks]
    rows, cosines = get_strategy("random").rank(Pool(index), history, 7)
    assert rows[0] == celeb
    assert cosines[0] > 0.9


@pytest.mark.parametrize("cosine,percent", [(-1, 0), (0, 50), (1, 100), (0.5, 75), (2, 100)])
def test_similarity_percent(cosine, percent):
    assert similarity_percent(cosine) == percent


def test_representative_image_is_closest_to_centroid(index):
    for celeb in (0, 17, 399):
        rows = index.celebs[celeb]["rows"]
        sims = index.embeddings[rows] @ index.centroids[celeb]
        assert representative_image(index, celeb) == rows[int(np.argmax(sims))]


def test_estimator_without_picks_is_the_average_face(index):
    """Every round answered "none of these": the mean of all centroids, normalized."""
    mean = np.asarray(index.centroids, dtype=np.float64).mean(0)
    ideal = MeanOfPicks().ideal_vector(index, [])
    np.testing.assert_allclose(ideal, mean / np.linalg.norm(mean), atol=1e-6)
