from __future__ import annotations

import pytest

from idealtype.blobstore import LocalBlobStore
from idealtype.synthetic import make_synthetic_index

SESSION_FIELDS = {"session_id", "choices", "rounds", "strategy", "round"}


def play_to_end(client, created: dict, choose=0) -> list[str]:
    sid, rnd, picks = created["session_id"], created["round"], []
    while True:
        image_id = rnd["faces"][choose]["image_id"]
        response = client.post(f"/api/sessions/{sid}/picks",
                               json={"round": rnd["index"], "image_id": image_id})
        assert response.status_code == 200, response.text
        picks.append(image_id)
        body = response.json()
        if body["done"]:
            return picks
        assert body["round"]["index"] == rnd["index"] + 1
        rnd = body["round"]


def test_health_and_config(client, index_dir):
    health = client.get("/api/health").json()
    version = LocalBlobStore(index_dir).get_text("index/LATEST").strip()
    assert health == {"status": "ok", "index_version": version, "celebrities": 200,
                      "images": 400, "index_reload_error": None}
    config = client.get("/api/config").json()
    assert config["pools"] == {"gender": ["female", "male"]}
    assert config["pool_sizes"] == {"gender": {"female": 100, "male": 100}}
    assert config["choices"] == {"min": 2, "max": 8, "default": 4}
    assert config["rounds"] == {"min": 3, "max": 20, "default": 10}
    assert config["k"] == {"min": 1, "max": 20, "default": 7}
    assert {s["name"] for s in config["strategies"]} >= {"random", "cluster"}


@pytest.mark.parametrize("strategy", ["random", "cluster"])
def test_a_whole_quiz_over_http(client, strategy):
    response = client.post("/api/sessions", json={"choices": 5, "rounds": 4,
                                                  "strategy": strategy, "pool": None})
    assert response.status_code == 201
    created = response.json()
    assert SESSION_FIELDS <= set(created)
    assert (created["choices"], created["rounds"], created["strategy"]) == (5, 4, strategy)
    faces = created["round"]["faces"]
    assert created["round"]["index"] == 0 and len(faces) == 5
    assert all(set(f) == {"image_id", "url"} for f in faces), "no names during the quiz"
    sid = created["session_id"]
    assert client.get(f"/api/sessions/{sid}/result").status_code == 409

    picks = play_to_end(client, created, choose=2)
    state = client.get(f"/api/sessions/{sid}").json()
    assert state["done"] is True and state["round"] is None
    assert [p["image_id"] for p in state["picks"]] == picks

    result = client.get(f"/api/sessions/{sid}/result", params={"k": 5}).json()
    recs = result["recommendations"]
    assert len(recs) == 5
    for rec in recs:
        assert {"celeb_id", "name", "url", "similarity", "picked"} <= set(rec)
        assert 0 <= rec["similarity"] <= 100
        assert rec["url"].startswith("http://testserver/faces/")
    assert [r["similarity"] for r in recs] == sorted((r["similarity"] for r in recs),
                                                     reverse=True)
    assert [p["image_id"] for p in result["picks"]] == picks
    assert [p["round"] for p in result["picks"]] == list(range(4))
    picked_people = {p["celeb_id"] for p in result["picks"]}
    assert all(r["picked"] == (r["celeb_id"] in picked_people) for r in recs)


def test_empty_body_uses_defaults_and_pool_filters(client):
    created = client.post("/api/sessions").json()
    assert (created["choices"], created["rounds"], created["strategy"]) == (4, 10, "adaptive")
    pooled = client.post("/api/sessions", json={"pool": {"gender": "male"}}).json()
    assert pooled["pool"] == {"gender": "male"}
    # Synthetic celebrities alternate female/male: odd numbers are male.
    ids = [f["image_id"] for f in pooled["round"]["faces"]]
    play = play_to_end(client, pooled)
    result = client.get(f"/api/sessions/{pooled['session_id']}/result").json()
    assert all(int(r["celeb_id"][1:]) % 2 == 1 for r in result["recommendations"])
    similarities = [r["similarity"] for r in result["recommendations"]]
    assert similarities == sorted(similarities, reverse=True)
    assert [r["rank"] for r in result["recommendations"]] == list(range(1, 8))
    assert play[0] == ids[0]


def test_seeded_quizzes_repeat(client):
    a = client.post("/api/sessions", json={"seed": 5}).json()
    b = client.post("/api/sessions", json={"seed": 5}).json()
    assert a["round"] == b["round"] and a["seed"] == 5


def error(response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code
    assert body["error"]["message"]


def test_error_contract(client):
    created = client.post("/api/sessions", json={"rounds": 3}).json()
    sid, rnd = created["session_id"], created["round"]
    face = rnd["faces"][0]["image_id"]
    error(client.get("/api/sessions/unknown"), 404, "session_not_found")
    error(client.post("/api/sessions/unknown/picks", json={"round": 0, "image_id": face}),
          404, "session_not_found")
    error(client.get("/api/sessions/unknown/result"), 404, "session_not_found")
    error(client.post(f"/api/sessions/{sid}/picks", json={"round": 0, "image_id": "zzz"}),
          422, "invalid_pick")
    error(client.post(f"/api/sessions/{sid}/picks", json={"round": 1, "image_id": face}),
          409, "round_out_of_order")
    assert client.post(f"/api/sessions/{sid}/picks",
                       json={"round": 0, "image_id": face}).status_code == 200
    error(client.post(f"/api/sessions/{sid}/picks", json={"round": 0, "image_id": face}),
          409, "round_replayed")
    error(client.get(f"/api/sessions/{sid}/result"), 409, "quiz_not_done")
    for body in ({"choices": 1}, {"choices": 9}, {"rounds": 2}, {"rounds": 21}):
        error(client.post("/api/sessions", json=body), 422, "out_of_bounds")
    for k in (0, 21):
        error(client.get(f"/api/sessions/{sid}/result", params={"k": k}), 422, "out_of_bounds")
    error(client.post("/api/sessions", json={"strategy": "psychic"}), 422, "unknown_strategy")
    error(client.post("/api/sessions", json={"pool": {"gender": "robot"}}), 422, "unknown_pool")
    error(client.post("/api/sessions", content=b'{"choices": 4,',
                      headers={"content-type": "application/json"}), 400, "malformed_json")
    error(client.get("/api/nothing-here"), 404, "not_found")
    error(client.delete("/api/sessions"), 405, "method_not_allowed")


@pytest.mark.parametrize("body", [
    [1, 2], "text", 17, None, {"choices": "four"}, {"choices": 4.5}, {"pool": "gender"},
    {"pool": {"gender": 1}}, {"seed": -1}, {"seed": 2**70}, {"strategy": ["random"]},
    {"choices": 10**30},
])
def test_bad_create_bodies_are_4xx_never_500(client, body):
    response = client.post("/api/sessions", json=body)
    if body is None:  # `null` body = no body: the defaults
        assert response.status_code == 201
        return
    assert 400 <= response.status_code < 500, response.text
    assert "error" in response.json()


@pytest.mark.parametrize("body", [
    {}, {"round": -1, "image_id": "a"}, {"round": "x", "image_id": "a"}, {"round": 0},
    {"round": 0, "image_id": ""}, {"round": 0, "image_id": "a" * 1000}, [0], {"round": 10**30,
                                                                              "image_id": "a"},
    {"round": 0, "none_of_these": False}, {"round": 0, "image_id": "a", "none_of_these": True},
    {"round": 0, "none_of_these": "yes"}, {"round": 0, "image_id": None},
])
def test_bad_pick_bodies_are_4xx_never_500(client, body):
    sid = client.post("/api/sessions").json()["session_id"]
    response = client.post(f"/api/sessions/{sid}/picks", json=body)
    assert 400 <= response.status_code < 500, response.text
    assert "error" in response.json()


def test_face_crops_are_served_from_the_blob_store(client, index_dir):
    face = client.post("/api/sessions").json()["round"]["faces"][0]
    response = client.get(face["url"])
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/jpeg"
    assert response.content == LocalBlobStore(index_dir).get(f"faces/{face['image_id']}.jpg")
    assert "immutable" in response.headers["cache-control"]
    error(client.get("/faces/doesnotexist.jpg"), 404, "not_found")
    # Only faces of a loaded index are served, not whatever else sits in the store.
    LocalBlobStore(index_dir).put("faces/orphan.jpg", b"\xff\xd8 not in the index")
    error(client.get("/faces/orphan.jpg"), 404, "not_found")
    assert client.get("/faces/..%2Findex%2FLATEST.jpg").status_code == 404


def test_cdn_base_url(make_client):
    client = make_client(faces_base_url="https://cdn.example.com/gallery")
    face = client.post("/api/sessions").json()["round"]["faces"][0]
    assert face["url"] == f"https://cdn.example.com/gallery/faces/{face['image_id']}.jpg"


def test_cors_from_config(make_client, client):
    headers = {"Origin": "https://idealtype.example", "Access-Control-Request-Method": "POST",
               "Access-Control-Request-Headers": "content-type"}
    allowed = make_client(cors_origins=("https://idealtype.example",))
    preflight = allowed.options("/api/sessions", headers=headers)
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "https://idealtype.example"
    other = allowed.options("/api/sessions", headers={**headers, "Origin": "https://evil.test"})
    assert "access-control-allow-origin" not in other.headers
    assert "access-control-allow-origin" not in client.get("/api/health", headers=headers).headers


def test_openapi_documents_the_contract(client):
    spec = client.get("/api/openapi.json").json()
    paths = spec["paths"]
    assert {"/api/health", "/api/config", "/api/sessions", "/api/sessions/{session_id}",
            "/api/sessions/{session_id}/picks", "/api/sessions/{session_id}/result"} <= set(paths)
    assert "201" in paths["/api/sessions"]["post"]["responses"]
    # Bodies are parsed by the endpoints themselves; the schema must still be documented.
    pick_body = paths["/api/sessions/{session_id}/picks"]["post"]["requestBody"]
    assert pick_body["required"] is True
    assert set(pick_body["content"]["application/json"]["schema"]["properties"]) == \
        {"round", "image_id", "none_of_these"}
    create_body = paths["/api/sessions"]["post"]["requestBody"]["content"]["application/json"]
    assert {"choices", "rounds", "strategy", "pool", "seed", "none_of_these"} <= \
        set(create_body["schema"]["properties"])
    assert client.get("/api/docs").status_code == 200


def test_frontend_folder_is_served_at_root(make_client, tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<h1>quiz</h1>")
    client = make_client(frontend_dir=str(site))
    assert client.get("/").text == "<h1>quiz</h1>"
    assert client.get("/api/health").json()["status"] == "ok"


def test_health_reports_a_rejected_new_index(make_client, tmp_path):
    store = LocalBlobStore(tmp_path / "idx")
    first = make_synthetic_index(store, 30, 2, seed=1)
    client = make_client(index=str(tmp_path / "idx"), index_recheck_seconds=0)
    assert client.get("/api/health").json()["index_version"] == first
    second = make_synthetic_index(store, 30, 2, seed=2)
    store.put(f"index/{second}/celebs.json", b"[]")
    health = client.get("/api/health").json()
    assert health["index_version"] == first
    assert second in health["index_reload_error"]


def test_missing_index_is_503_not_500(make_client, tmp_path):
    client = make_client(index=str(tmp_path / "empty"))
    error(client.get("/api/health"), 503, "index_unavailable")
    error(client.post("/api/sessions"), 503, "index_unavailable")


def conforms(body: dict, model) -> None:
    """The endpoints build plain dicts; each must be exactly what its documented response
    model describes (no missing, extra or mistyped fields, nested ones included)."""
    assert model.model_validate(body).model_dump(mode="json") == body


def test_responses_match_the_documented_models(client):
    from idealtype.api import schemas

    conforms(client.get("/api/health").json(), schemas.Health)
    conforms(client.get("/api/config").json(), schemas.Config)
    created = client.post("/api/sessions", json={"rounds": 3, "seed": 9}).json()
    conforms(created, schemas.SessionCreated)
    sid, rnd = created["session_id"], created["round"]
    conforms(client.get(f"/api/sessions/{sid}").json(), schemas.SessionState)
    while rnd is not None:
        answer = client.post(f"/api/sessions/{sid}/picks",
                             json={"round": rnd["index"], "image_id": rnd["faces"][1]["image_id"]})
        conforms(answer.json(), schemas.PickAccepted)
        rnd = answer.json()["round"]
    assert "round" in answer.json() and answer.json()["done"] is True
    conforms(client.get(f"/api/sessions/{sid}").json(), schemas.SessionState)
    result = client.get(f"/api/sessions/{sid}/result", params={"k": 3}).json()
    conforms(result, schemas.Result)
    assert [r["rank"] for r in result["recommendations"]] == [1, 2, 3]


def test_k_must_be_an_integer(client):
    sid = client.post("/api/sessions").json()["session_id"]
    for k in ("seven", "7.5", "1e3"):
        error(client.get(f"/api/sessions/{sid}/result", params={"k": k}), 422, "invalid_request")
    spec = client.get("/api/openapi.json").json()
    params = spec["paths"]["/api/sessions/{session_id}/result"]["get"]["parameters"]
    assert {p["name"]: p["in"] for p in params} == {"session_id": "path", "k": "query"}


def test_none_of_these_is_an_answer_over_http(client):
    created = client.post("/api/sessions", json={"choices": 4, "rounds": 4, "seed": 2}).json()
    assert created["none_of_these"] is True  # offered unless the quiz asks otherwise
    sid, rnd, picks = created["session_id"], created["round"], []
    for answer in (None, 1, None, 2):
        body = ({"round": rnd["index"], "none_of_these": True} if answer is None
                else {"round": rnd["index"], "image_id": rnd["faces"][answer]["image_id"]})
        response = client.post(f"/api/sessions/{sid}/picks", json=body)
        assert response.status_code == 200, response.text
        if answer is not None:
            picks.append((rnd["index"], body["image_id"]))
        rnd = response.json()["round"]
    assert rnd is None
    state = client.get(f"/api/sessions/{sid}").json()
    assert state["done"] and [(p["round"], p["image_id"]) for p in state["picks"]] == picks
    result = client.get(f"/api/sessions/{sid}/result").json()
    assert result["rounds_played"] == 4 and len(result["recommendations"]) == 7
    assert [(p["round"], p["image_id"]) for p in result["picks"]] == picks


def test_a_quiz_without_none_of_these_refuses_it(client):
    created = client.post("/api/sessions", json={"none_of_these": False}).json()
    assert created["none_of_these"] is False
    sid = created["session_id"]
    response = client.post(f"/api/sessions/{sid}/picks", json={"round": 0, "none_of_these": True})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "none_not_offered"
    assert client.get(f"/api/sessions/{sid}").json()["round"]["index"] == 0
