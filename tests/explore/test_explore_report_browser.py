"""The report opened from disk (file://) in real headless Chromium: it renders, pages through
512 dimensions, jumps to one, shows the planted suspects, and its faces load."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from idealtype.cli import main

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "explore"


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
    page.js_errors = errors
    yield page
    context.close()


def loaded_images(page) -> int:
    return page.evaluate(
        "() => [...document.querySelectorAll('#view img')]"
        ".filter(img => img.complete && img.naturalWidth > 0).length"
    )


def test_report_renders_and_pages(planted_gallery, tmp_path, page):
    out = tmp_path / "report"
    assert main(["explore", planted_gallery.root, "--out", str(out)]) == 0
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.goto((out / "index.html").as_uri() + "#dims")

    cards = page.locator("#view section.card")
    # Every read after a navigation goes through expect(), which waits for the view to
    # re-render; a plain read right after a click raced it in a fresh-clone CI run.
    expect(cards).to_have_count(8)
    expect(cards.first.locator("h3")).to_contain_text("Dimension 0 ")
    assert cards.first.locator("img").count() == 12
    page.wait_for_function("() => [...document.querySelectorAll('#view img')].slice(0, 12)"
                           ".every(img => img.complete && img.naturalWidth > 0)")
    assert "of 64" in page.locator(".pager").first.inner_text()
    page.screenshot(path=str(ARTIFACTS / "dimensions.png"))

    page.get_by_role("button", name="Next ›").first.click()
    expect(cards.first.locator("h3")).to_contain_text("Dimension 8 ")
    assert cards.first.locator("h3").inner_text().startswith("Dimension 8 ")
    assert page.evaluate("location.hash") == "#dims/2"

    page.get_by_label("go to dim").first.fill("511")
    page.get_by_label("go to dim").first.dispatch_event("change")
    page.wait_for_selector("#dim-511")
    expect(cards.last.locator("h3")).to_contain_text("Dimension 511")
    assert cards.last.locator("h3").inner_text().startswith("Dimension 511")
    assert page.evaluate("location.hash") == "#dims/64"

    page.locator("#tabs a[data-id=pcs]").click()
    expect(cards.first.locator("h3")).to_contain_text("PC 0")
    assert cards.first.locator("h3").inner_text().startswith("PC 0")
    assert "% of variance" in cards.first.inner_text()

    page.locator("#tabs a[data-id=mislabeled]").click()
    expect(cards).to_have_count(2)
    assert planted_gallery.mislabeled_id in page.locator("#view").inner_html()
    page.wait_for_function("() => [...document.querySelectorAll('#view img')]"
                           ".every(img => img.complete && img.naturalWidth > 0)")
    page.screenshot(path=str(ARTIFACTS / "mislabeled.png"), full_page=True)

    page.locator("#tabs a[data-id=unlike]").click()
    expect(page.locator("#view")).to_contain_text("3 faces in the photo")
    assert cards.count() == 2 and "3 faces in the photo" in page.locator("#view").inner_text()
    page.locator("#tabs a[data-id=same-person]").click()
    expect(cards.first.locator("h3")).to_contain_text("Celebrity 20")
    page.screenshot(path=str(ARTIFACTS / "same_person.png"))

    page.locator("#tabs a[data-id=few]").click()
    expect(page.locator("#view table")).to_contain_text("솔로 스타")
    assert "솔로 스타" in page.locator("#view table").inner_text()
    assert "ghost_star" in page.locator("#view table").inner_text()

    page.locator("#tabs a[data-id=overview]").click()
    expect(page.locator("#view h2").first).to_have_text("What may be wrong in this gallery")
    page.screenshot(path=str(ARTIFACTS / "overview.png"))
    assert page.js_errors == []
    assert loaded_images(page) == 0  # the overview shows no faces
