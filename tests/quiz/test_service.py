from __future__ import annotations

import pytest

from idealtype.api.index_cache import IndexCache
from idealtype.blobstore import LocalBlobStore
from idealtype.quiz.errors import QuizError
from idealtype.quiz.service import QuizService, RecentQuizzes
from idealtype.sessions.sqlite import SQLiteSessionStore
from idealtype.synthetic import make_synthetic_index


@pytest.fixture
def service(index_store, tmp_path) -> QuizService:
    return QuizService(IndexCache(index_store), SQLiteSessionStore(tmp_path / "s.db"), 3600)


def finish(service: QuizService, session_id: str) -> None:
    quiz = service.get(session_id)
    while not quiz.session.done:
        n = quiz.session.open_round
        quiz = service.pick(session_id, n, quiz.session.shown[n][1])


def error_of(call) -> tuple[int, str]:
    with pytest.raises(QuizError) as info:
        call()
    return info.value.status, info.value.code


def test_full_quiz_persists_and_recommends(service):
    quiz = service.create(choices=4, rounds=5, strategy="cluster", pool={"gender": "male"})
    sid = quiz.session.session_id
    finish(service, sid)
    stored = service.get(sid).session
    assert stored.done and len(stored.picks) == 5 and len(stored.shown) == 5
    assert all(p in shown for p, shown in zip(stored.picks, stored.shown))
    result = service.result(sid, 7)
    index = result.index
    assert len(result.celeb_rows) == 7
    assert all(index.celebs[r]["tags"]["gender"] == "male" for r in result.celeb_rows)
    picked = {int(index.image_celeb[index.image_row[p]]) for p in stored.picks}
    assert result.picked_celebs == picked


def test_seed_makes_a_quiz_reproducible(service):
    a = service.create(choices=3, rounds=4, strategy="random", seed=99)
    b = service.create(choices=3, rounds=4, strategy="random", seed=99)
    finish(service, a.session.session_id)
    finish(service, b.session.session_id)
    assert service.get(a.session.session_id).session.shown == \
        service.get(b.session.session_id).session.shown


def test_error_codes(service):
    quiz = service.create(choices=4, rounds=3, strategy="random")
    sid, first = quiz.session.session_id, quiz.session.shown[0]
    assert error_of(lambda: service.get("nope")) == (404, "session_not_found")
    assert error_of(lambda: service.get("x" * 500)) == (404, "session_not_found")
    assert error_of(lambda: service.pick(sid, 0, "not-shown")) == (422, "invalid_pick")
    assert error_of(lambda: service.pick(sid, 1, first[0])) == (409, "round_out_of_order")
    assert error_of(lambda: service.result(sid, 7)) == (409, "quiz_not_done")
    service.pick(sid, 0, first[0])
    assert error_of(lambda: service.pick(sid, 0, first[0])) == (409, "round_replayed")
    finish(service, sid)
    assert error_of(lambda: service.pick(sid, 3, first[0])) == (409, "quiz_done")
    assert error_of(lambda: service.create(choices=8, rounds=30, strategy="random",
                                           pool={"gender": "female"})) == (422, "pool_too_small")
    assert error_of(lambda: service.create(choices=4, rounds=3, strategy="random",
                                           pool={"hair": "red"})) == (422, "unknown_pool")
    assert error_of(lambda: service.create(choices=4, rounds=3, strategy="nope")) == \
        (422, "unknown_strategy")


def test_quiz_keeps_its_index_version_across_a_publish(tmp_path):
    store = LocalBlobStore(tmp_path / "idx")
    old = make_synthetic_index(store, 100, 2, seed=1)
    cache = IndexCache(store, recheck_seconds=0)
    service = QuizService(cache, SQLiteSessionStore(tmp_path / "s.db"), 3600)
    quiz = service.create(choices=4, rounds=3, strategy="random")
    sid = quiz.session.session_id
    new = make_synthetic_index(store, 120, 2, seed=2)  # different faces (ids) entirely
    assert cache.current().version == new
    picked = service.pick(sid, 0, quiz.session.shown[0][0])
    assert picked.index.version == old and picked.session.index_version == old
    finish(service, sid)
    assert service.result(sid, 7).index.version == old
    fresh = service.create(choices=4, rounds=3, strategy="random")
    assert fresh.session.index_version == new


def test_quiz_moves_to_the_new_index_only_when_its_faces_survive(tmp_path):
    store = LocalBlobStore(tmp_path / "idx")
    make_synthetic_index(store, 100, 2, seed=1)
    service = QuizService(IndexCache(store, recheck_seconds=0, keep_previous=0),
                          SQLiteSessionStore(tmp_path / "s.db"), 3600)
    kept = service.create(choices=4, rounds=3, strategy="random").session
    lost = service.create(choices=4, rounds=3, strategy="random").session
    old_version = kept.index_version
    # Same seed = same image ids in a new version; then the old version disappears.
    newer = make_synthetic_index(store, 100, 2, seed=1)
    for key in store.list(f"index/{old_version}/"):
        store.path(key).unlink()
    moved = service.pick(kept.session_id, 0, kept.shown[0][0])
    assert moved.session.index_version == newer
    # A quiz whose faces are gone from the current index cannot continue: 409, not 500.
    make_synthetic_index(store, 100, 2, seed=5)
    for key in store.list(f"index/{newer}/"):
        store.path(key).unlink()
    assert error_of(lambda: service.pick(lost.session_id, 0, lost.shown[0][0])) == \
        (409, "index_changed")


@pytest.mark.parametrize("strategy", ["random", "cluster", "adaptive"])
def test_the_recent_quiz_cache_changes_no_round(index_store, tmp_path, strategy):
    # Picks from this process's cached copy (history kept as rows) show exactly the faces a
    # pick from the store (history rebuilt from the ids) shows.
    cached = QuizService(IndexCache(index_store), SQLiteSessionStore(tmp_path / "a.db"), 3600)
    uncached = QuizService(IndexCache(index_store), SQLiteSessionStore(tmp_path / "b.db"), 3600)
    uncached.recent = RecentQuizzes(capacity=0)
    shown, ids = [], []
    for service in (cached, uncached):
        sid = service.create(choices=4, rounds=6, strategy=strategy, seed=11).session.session_id
        quiz = service.get(sid)
        while not quiz.session.done:
            n = quiz.session.open_round
            quiz = service.pick(sid, n, quiz.session.shown[n][n % 4])
        shown.append(service.get(sid).session.shown)
        ids.append(sid)
    assert len(shown[0]) == 6 and shown[0] == shown[1]
    assert cached.recent.get(ids[0]) is not None and uncached.recent.get(ids[1]) is None


def test_a_stale_cached_quiz_defers_to_the_store(index_store, tmp_path):
    # Two processes on one SQLite file: each caches what it wrote; the store decides.
    one = QuizService(IndexCache(index_store), SQLiteSessionStore(tmp_path / "s.db"), 3600)
    two = QuizService(IndexCache(index_store), SQLiteSessionStore(tmp_path / "s.db"), 3600)
    quiz = one.create(choices=4, rounds=5, strategy="random", seed=3)
    sid = quiz.session.session_id
    after_two = two.pick(sid, 0, quiz.session.shown[0][0]).session  # `one` still caches round 0
    # The next round is accepted by `one` although its copy says round 0 is open ...
    after_one = one.pick(sid, 1, after_two.shown[1][2]).session
    assert after_one.picks == [after_two.shown[0][0], after_two.shown[1][2]]
    assert after_one.revision == 2 and one.get(sid).session.shown == after_one.shown
    # ... and a replay of a round `two` saw open is refused although `two` cached it so.
    assert error_of(lambda: two.pick(sid, 1, after_two.shown[1][0])) == (409, "round_replayed")
    assert two.get(sid).session.picks == after_one.picks


def test_the_recent_quiz_cache_is_bounded():
    from idealtype.quiz.service import _Recent
    from idealtype.sessions import QuizSession

    recent = RecentQuizzes(capacity=3)
    for n in range(5):
        recent.put(_Recent(QuizSession(f"q{n}", "v", "random", 2, 3, None, 0, 0.0, 9), (), "v"))
    recent.put(_Recent(QuizSession("q2", "v", "random", 2, 3, None, 0, 0.0, 9), (), "v"))
    assert list(recent._entries) == ["q3", "q4", "q2"]
