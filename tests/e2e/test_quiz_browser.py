"""The quiz in real headless Chromium against the real local server (`idealtype serve`):
full quizzes in Korean (phone) and English (desktop, keyboard only), reload and resume, the
result page with 7 celebrities and the composite, sharing, and failure + retry paths.
Screenshots of every screen land in test-artifacts/e2e/."""

from __future__ import annotations

import re

import numpy as np

from .conftest import DESKTOP, PHONE
from .quiz_page import (
    api_json,
    api_post,
    average_of_crops,
    canvas_pixels,
    low_contrast_texts,
    result_names,
    screenshot,
    session_id,
    start_quiz,
    wait_for_result,
    wait_for_round,
)


def face(page, k: int):
    return page.locator(".face-grid button.face").nth(k)


def shown_image_ids(page) -> list[str]:
    srcs = page.locator(".face-grid img").evaluate_all("(imgs) => imgs.map((i) => i.src)")
    return [re.search(r"/faces/([^/]+)\.jpg", src).group(1) for src in srcs]


def check_composite(page, server_url: str, sid: str) -> None:
    """The canvas holds the pixel average of the picked crops (computed again here)."""
    pixels = canvas_pixels(page)
    assert pixels.shape[0] > 100 and pixels.shape[1] > 100
    assert (pixels[..., 3] == 255).all(), "composite has transparent (undrawn) pixels"
    assert pixels[..., :3].std() > 10, "composite is a flat colour"
    picks = api_json(server_url, f"/api/sessions/{sid}/result?k=7")["picks"]
    expected = average_of_crops([p["url"] for p in picks], (pixels.shape[1], pixels.shape[0]))
    diff = np.abs(pixels[..., :3].astype(np.float64) - expected).mean()
    assert diff < 6, f"composite differs from the mean of the picks by {diff:.1f} per channel"


def test_korean_phone_full_quiz_reload_resume_and_share(new_page, server_url, artifacts):
    page = new_page("ko-KR", PHONE)
    page.goto("/")
    page.locator("form.settings").wait_for()
    assert page.evaluate("document.documentElement.lang") == "ko"
    assert page.locator("h1").inner_text() == "당신의 이상형은 누구일까요?"
    screenshot(page, artifacts, "phone-ko-start", full_page=True)
    assert low_contrast_texts(page) == []

    start_quiz(page, choices=6, rounds=5)
    wait_for_round(page, 0, 6)
    assert page.locator(".round-title").inner_text() == "5라운드 중 1라운드"
    screenshot(page, artifacts, "phone-ko-round")
    picked = []
    for index in range(2):
        picked.append(shown_image_ids(page)[index])
        face(page, index).tap()
        wait_for_round(page, index + 1, 6)

    sid = session_id(page)
    assert f"?session={sid}" in page.url
    page.reload()
    wait_for_round(page, 2, 6)  # resumed where it stopped
    assert page.locator(".round-title").inner_text() == "5라운드 중 3라운드"
    assert [p["image_id"] for p in api_json(server_url, f"/api/sessions/{sid}")["picks"]] == picked

    for index in range(2, 5):
        picked.append(shown_image_ids(page)[index])
        face(page, index).tap()
        if index < 4:
            wait_for_round(page, index + 1, 6)
    wait_for_result(page)
    assert f"?result={sid}" in page.url
    assert page.locator("h1").inner_text() == "당신의 이상형"
    api_result = api_json(server_url, f"/api/sessions/{sid}/result?k=7")
    assert [p["image_id"] for p in api_result["picks"]] == picked
    names = result_names(page)
    assert names == [r["name"] for r in api_result["recommendations"]]
    assert len(names) == 7
    percents = page.locator(".match-percent").all_inner_texts()
    assert all(re.fullmatch(r"\d+% 일치", p) for p in percents), percents
    assert page.locator(".picks img").count() == 5
    check_composite(page, server_url, sid)
    screenshot(page, artifacts, "phone-ko-result", full_page=True)

    # The share link opens the same result for someone else (fresh storage, English browser).
    link = page.locator("#share-link").input_value()
    assert link == f"{server_url}/?result={sid}"
    visitor = new_page("en-US", DESKTOP)
    visitor.goto(link)
    wait_for_result(visitor)
    assert result_names(visitor) == names
    assert visitor.get_by_role("button", name="Find your own ideal type").is_visible()
    assert page.js_errors == [] and visitor.js_errors == []


def tab_to(page, selector: str, limit: int = 30) -> None:
    """Presses Tab until the focused element matches `selector` (keyboard-only navigation)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement?.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def assert_focus_visible(page) -> None:
    style = page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement);"
        " return [s.outlineStyle, parseFloat(s.outlineWidth)]; }"
    )
    assert style[0] != "none" and style[1] >= 2, f"no visible focus ring: {style}"


def test_english_desktop_keyboard_only(new_page, server_url, artifacts):
    page = new_page("en-US", DESKTOP)
    page.goto("/")
    page.locator("form.settings").wait_for()
    assert page.evaluate("document.documentElement.lang") == "en"
    assert page.locator("h1").inner_text() == "Who is your ideal type?"
    screenshot(page, artifacts, "desktop-en-start")
    assert low_contrast_texts(page) == []

    tab_to(page, 'input[name="choices"]:checked')
    for _ in range(4):
        page.keyboard.press("ArrowRight")  # radio groups: arrows move the choice, 4 -> 8
    assert page.locator('input[name="choices"]:checked').get_attribute("value") == "8"
    tab_to(page, "#rounds")
    page.keyboard.press("Home")
    page.keyboard.press("ArrowRight")  # min (3) + 1
    assert page.locator("#rounds").input_value() == "4"
    tab_to(page, "form.settings button[type=submit]")
    assert_focus_visible(page)
    page.keyboard.press("Enter")

    wait_for_round(page, 0, 8)
    assert page.locator(".round-title").inner_text() == "Round 1 of 4"
    screenshot(page, artifacts, "desktop-en-round")
    assert low_contrast_texts(page) == []
    page.keyboard.press("8")  # keys 1..N pick
    wait_for_round(page, 1, 8)
    tab_to(page, ".face-grid button.face")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.querySelector('img').alt") == "Face 2 of 8"
    assert_focus_visible(page)
    page.keyboard.press("Enter")
    wait_for_round(page, 2, 8)
    tab_to(page, ".face-grid button.face")
    page.keyboard.press("Space")
    wait_for_round(page, 3, 8)
    page.keyboard.press("3")
    wait_for_result(page)

    sid = session_id(page)
    assert page.locator("h1").inner_text() == "Your ideal type"
    assert len(result_names(page)) == 7
    assert all(re.fullmatch(r"\d+% match", p) for p in page.locator(".match-percent").all_inner_texts())
    alts = page.locator(".matches-section img").evaluate_all("(imgs) => imgs.map((i) => i.alt)")
    assert alts == [f"Photo of {name}" for name in result_names(page)]
    assert page.locator(".picks img").count() == 4
    check_composite(page, server_url, sid)
    screenshot(page, artifacts, "desktop-en-result", full_page=True)
    assert low_contrast_texts(page) == []

    tab_to(page, "button.button-primary")
    assert page.evaluate("document.activeElement.textContent") == "Play again"
    page.keyboard.press("Enter")
    page.locator("form.settings").wait_for()
    assert "?" not in page.url
    assert page.js_errors == []


def test_language_toggle_mid_quiz_keeps_the_round(new_page):
    page = new_page("en-US", DESKTOP)
    page.goto("/")
    start_quiz(page, choices=4, rounds=3)
    wait_for_round(page, 0, 4)
    before = shown_image_ids(page)
    page.locator("#lang-toggle").click()
    assert page.evaluate("document.documentElement.lang") == "ko"
    assert page.locator(".round-title").inner_text() == "3라운드 중 1라운드"
    assert page.locator(".prompt").inner_text() == "어떤 얼굴이 가장 마음에 드세요?"
    assert shown_image_ids(page) == before  # same faces, nothing reloaded
    face(page, 0).click()
    wait_for_round(page, 1, 4)
    page.reload()
    wait_for_round(page, 1, 4)
    assert page.locator(".round-title").inner_text() == "3라운드 중 2라운드"  # choice remembered
    page.locator("#lang-toggle").click()
    assert page.locator(".round-title").inner_text() == "Round 2 of 3"
    assert page.js_errors == []


def test_resume_from_local_storage_without_the_url(new_page):
    page = new_page("en-US", PHONE)
    page.goto("/")
    start_quiz(page, choices=2, rounds=3)
    wait_for_round(page, 0, 2)
    face(page, 1).tap()
    wait_for_round(page, 1, 2)
    page.goto("/")  # the address lost its ?session=
    resume = page.get_by_role("button", name="Continue your quiz (round 2 of 3)")
    resume.click()
    wait_for_round(page, 1, 2)

    # An unknown or expired quiz id says so and offers a new quiz.
    page.goto("/?session=no-such-quiz")
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "no longer available" in alert.inner_text()
    alert.get_by_role("button", name="Start a new quiz").click()
    page.locator("form.settings").wait_for()
    assert page.js_errors == []


def test_failures_show_a_message_and_retry_loses_nothing(new_page, server_url, artifacts):
    page = new_page("en-US", DESKTOP)
    alert = page.get_by_role("alert")
    # 0. The site cannot load its settings: message and retry instead of a blank page.
    page.route("**/api/config", lambda route: route.abort("internetdisconnected"), times=1)
    page.goto("/")
    alert.wait_for()
    assert "Can't reach the server" in alert.inner_text()
    alert.get_by_role("button", name="Try again").click()
    start_quiz(page, choices=4, rounds=4)
    wait_for_round(page, 0, 4)
    sid = session_id(page)
    picks_on_server = lambda: len(api_json(server_url, f"/api/sessions/{sid}")["picks"])

    # 1. The network drops the pick: message, faces stay, retry sends it once.
    page.route("**/api/sessions/*/picks", lambda route: route.abort("internetdisconnected"), times=1)
    face(page, 0).click()
    alert.wait_for()
    assert "Can't reach the server" in alert.inner_text()
    assert page.locator(".face-grid img").count() == 4
    screenshot(page, artifacts, "desktop-en-error")
    assert low_contrast_texts(page) == []
    assert picks_on_server() == 0
    alert.get_by_role("button", name="Try again").click()
    wait_for_round(page, 1, 4)
    assert picks_on_server() == 1 and alert.count() == 0

    # 2. The pick reaches the server but its answer is lost: the retry gets 409 and the page
    #    continues from the server's state instead of counting the pick twice.
    def deliver_then_drop(route):
        route.fetch()
        route.abort("connectionreset")

    page.route("**/api/sessions/*/picks", deliver_then_drop, times=1)
    face(page, 2).click()
    alert.wait_for()
    assert picks_on_server() == 2
    alert.get_by_role("button", name="Try again").click()
    wait_for_round(page, 2, 4)
    assert picks_on_server() == 2

    # 3. No double submission: a double click and a key press while the pick is in flight
    #    send one request.
    held = []
    page.route("**/api/sessions/*/picks", lambda route: held.append(route), times=1)
    sent = []
    page.on("request", lambda r: sent.append(r) if r.method == "POST" and "/picks" in r.url else None)
    face(page, 1).dblclick()
    page.keyboard.press("3")
    face(page, 0).click(force=True)  # aria-disabled while saving; a user may tap anyway
    page.wait_for_timeout(300)
    assert len(sent) == 1 and len(held) == 1
    assert page.locator(".face.is-chosen").count() == 1
    held[0].continue_()

    # 4. Faces that fail to load never show as broken images: a one-off failure is retried
    #    unseen; a lasting one shows a message, placeholders, and a retry.
    wait_for_round(page, 3, 4)
    assert picks_on_server() == 3
    page.unroute("**/api/sessions/*/picks")
    page.route("**/faces/**", lambda route: route.abort("failed"))
    page.evaluate("() => { window.__broken = 0; document.addEventListener('error', (e) => {"
                  " if (e.target.tagName === 'IMG' && e.target.isConnected) window.__broken++; }, true); }")

    # 5. The result request fails once with a server error: message, then retry shows it.
    page.route("**/result?*", lambda route: route.fulfill(
        status=503, content_type="application/json",
        body='{"error": {"code": "index_unavailable", "message": "try later"}}'), times=1)
    face(page, 3).click()
    alert.wait_for()
    assert "The server had a problem" in alert.inner_text()
    page.unroute("**/faces/**")
    alert.get_by_role("button", name="Try again").click()
    wait_for_result(page)
    assert len(result_names(page)) == 7
    assert picks_on_server() == 4
    assert page.evaluate("window.__broken") == 0
    assert page.js_errors == []


def test_faces_that_fail_to_load_are_retried_not_shown_broken(new_page, server_url):
    page = new_page("ko-KR", PHONE)
    page.goto("/")
    start_quiz(page, choices=4, rounds=3)
    wait_for_round(page, 0, 4)
    failures = {"once": 0}

    def fail_first_request(route):
        if failures["once"] == 0:
            failures["once"] += 1
            route.abort("failed")
        else:
            route.continue_()

    page.route("**/faces/**", fail_first_request)
    face(page, 0).tap()
    wait_for_round(page, 1, 4)  # one failed request: retried unseen
    assert failures["once"] == 1
    page.unroute("**/faces/**")

    page.route("**/faces/**", lambda route: route.abort("failed"))
    face(page, 0).tap()
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "일부 얼굴 사진을 불러오지 못했어요" in alert.inner_text()
    assert page.locator(".face-grid img").count() == 0  # placeholders, not broken images
    assert page.locator(".face-grid button").count() == 0  # and nothing to click by mistake
    page.unroute("**/faces/**")
    alert.get_by_role("button", name="다시 시도").click()
    wait_for_round(page, 2, 4)
    assert page.js_errors == []


def test_a_quiz_that_finds_the_type_early_says_so(new_page, gallery_root, server_url, artifacts):
    """Someone who always picks the face most like one person: the quiz ends before its 10
    rounds and the result says after how many, in the language of the page."""
    from idealtype.blobstore import LocalBlobStore
    from idealtype.index_format import load_index

    index = load_index(LocalBlobStore(gallery_root / "index"))
    liked = index.centroids[15]
    # A fixed seed: on this 40-person gallery such a chooser plays all 10 rounds in about 8%
    # of random quizzes (measured over 200 seeds through QuizService), which made a randomly
    # seeded test flaky. With seed 4 the quiz ends after 7 rounds, so the assertions below
    # still fail if it never does.
    sid = api_post(server_url, "/api/sessions",
                   {"choices": 4, "rounds": 10, "strategy": "adaptive", "seed": 4})["session_id"]
    page = new_page("en-US", DESKTOP)
    page.goto(f"/?session={sid}")
    wait_for_round(page, 0, 4)
    played = 0
    while page.locator(".face-grid").count() and played < 10:
        wait_for_round(page, played, 4)
        ids = shown_image_ids(page)
        sims = [index.embeddings[index.image_row[i]] @ liked for i in ids]
        face(page, int(np.argmax(sims))).click()
        played += 1
        page.wait_for_function(
            "(n) => !document.querySelector('.face-grid') || "
            "document.querySelector('.progress')?.getAttribute('aria-valuenow') === String(n)",
            arg=played,
        )
    wait_for_result(page)
    assert played < 10
    assert page.locator(".early-note").inner_text() == (
        f"Found your type after {played} of 10 rounds: more rounds would not have changed it.")
    assert page.locator(".picks img").count() == played
    screenshot(page, artifacts, "desktop-en-result-early", full_page=True)
    assert page.js_errors == []


def test_none_of_these_by_button_and_key(new_page, server_url, artifacts):
    """A round can be answered "none of these" (the button, or the 0 key): it counts as a
    round, and the result lists only the faces picked."""
    page = new_page("en-US", DESKTOP)
    page.goto("/")
    start_quiz(page, choices=4, rounds=3)
    wait_for_round(page, 0, 4)
    sid = session_id(page)
    button = page.get_by_role("button", name="None of these")
    assert page.locator(".hint").inner_text() == (
        "Tap a face, or press 1–4 on the keyboard (0: none of these).")
    screenshot(page, artifacts, "desktop-en-round-none")
    button.click()
    wait_for_round(page, 1, 4)
    page.keyboard.press("0")
    wait_for_round(page, 2, 4)
    picked = shown_image_ids(page)[2]
    face(page, 2).click()
    wait_for_result(page)
    state = api_json(server_url, f"/api/sessions/{sid}")
    assert [(p["round"], p["image_id"]) for p in state["picks"]] == [(2, picked)]
    assert page.locator(".picks img").count() == 1
    assert page.locator(".early-note").count() == 0  # all 3 rounds were played
    assert page.locator(".composite-canvas").count() == 1
    assert page.js_errors == []


def test_a_quiz_passed_on_in_every_round_says_why_there_is_no_blend(new_page, artifacts):
    page = new_page("ko-KR", PHONE)
    page.goto("/")
    start_quiz(page, choices=2, rounds=3)
    for n in range(3):
        wait_for_round(page, n, 2)
        page.get_by_role("button", name="마음에 드는 얼굴이 없어요").tap()
    wait_for_result(page)
    assert page.locator(".no-picks-note").inner_text() == (
        "모든 라운드에서 마음에 드는 얼굴이 없다고 답해서 합성 얼굴은 없어요. "
        "아래 추천은 넘긴 얼굴들을 바탕으로 했어요.")
    assert page.locator(".composite-canvas").count() == 0
    assert page.locator(".picks").count() == 0
    assert page.locator(".matches-section .match").count() == 7
    screenshot(page, artifacts, "phone-ko-result-no-picks", full_page=True)
    assert page.js_errors == []
