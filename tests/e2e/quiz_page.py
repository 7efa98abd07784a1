"""What the browser tests do on the quiz pages, in one place (a small page object)."""

from __future__ import annotations

import base64
import io
import json
import urllib.request
from pathlib import Path

import numpy as np
from PIL import Image


def api_json(server_url: str, path: str) -> dict:
    with urllib.request.urlopen(server_url + path, timeout=10) as response:
        return json.load(response)


def api_post(server_url: str, path: str, body: dict) -> dict:
    request = urllib.request.Request(
        server_url + path, data=json.dumps(body).encode(), method="POST",
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def session_id(page) -> str:
    from urllib.parse import parse_qs, urlparse

    query = parse_qs(urlparse(page.url).query)
    return (query.get("session") or query.get("result"))[0]


def start_quiz(page, *, choices: int, rounds: int) -> None:
    """On the start screen: choose N and M with the pointer and press Start."""
    page.locator("form.settings").wait_for()
    page.locator(f'.pill:has(input[name="choices"][value="{choices}"])').click()
    page.locator("#rounds").fill(str(rounds))
    page.locator("form.settings button[type=submit]").click()


def wait_for_round(page, index: int, n: int) -> None:
    """Waits until round `index` (0-based) shows its `n` faces, all loaded."""
    page.wait_for_function(
        """([index, n]) => {
            const grid = document.querySelector('.face-grid');
            const bar = document.querySelector('.progress');
            return grid && bar && grid.getAttribute('aria-busy') === 'false'
                && bar.getAttribute('aria-valuenow') === String(index)
                && grid.querySelectorAll('button.face img').length === n;
        }""",
        arg=[index, n],
    )
    assert_faces_visible(page, n)


def assert_faces_visible(page, n: int) -> None:
    """Every face is a fully loaded image (never broken) and the whole grid fits the screen."""
    state = page.evaluate(
        """() => {
            const imgs = [...document.querySelectorAll('.face-grid img')];
            const vw = innerWidth, vh = innerHeight;
            return {
                loaded: imgs.map((img) => img.complete && img.naturalWidth > 0),
                alts: imgs.map((img) => img.alt),
                inView: [...document.querySelectorAll('.face-grid .face')].map((el) => {
                    const r = el.getBoundingClientRect();
                    return r.top >= 0 && r.left >= 0 && r.bottom <= vh + 1 && r.right <= vw + 1
                        && r.width >= 80;
                }),
            };
        }"""
    )
    assert state["loaded"] == [True] * n, state
    assert all(alt.strip() for alt in state["alts"]), state["alts"]
    assert len(set(state["alts"])) == n, state["alts"]
    assert state["inView"] == [True] * n, f"faces do not fit the screen: {state['inView']}"


def wait_for_result(page, k: int = 7) -> None:
    page.locator(".matches-section .match").nth(k - 1).wait_for()
    page.wait_for_function(
        """(k) => document.querySelectorAll('.matches-section .match img').length === k
            && ((document.querySelector('.composite') && !document.querySelector('.composite.is-loading'))
                || document.querySelector('.no-picks-note'))
            && [...document.querySelectorAll('.result img')].every((i) => i.complete && i.naturalWidth > 0)""",
        arg=k,
    )


def result_names(page) -> list[str]:
    return page.locator(".matches-section .match-name").all_inner_texts()


def canvas_pixels(page) -> np.ndarray:
    """The composite canvas as an (h, w, 4) uint8 array (read back through a PNG data URL)."""
    data_url = page.locator("canvas.composite-canvas").evaluate("(c) => c.toDataURL('image/png')")
    png = base64.b64decode(data_url.split(",", 1)[1])
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))


def average_of_crops(urls: list[str], size: tuple[int, int]) -> np.ndarray:
    """The expected composite, computed independently in Python: the mean of the crops."""
    stack = []
    for url in urls:
        with urllib.request.urlopen(url, timeout=10) as response:
            img = Image.open(io.BytesIO(response.read())).convert("RGB").resize(size)
        stack.append(np.asarray(img, dtype=np.float64))
    return np.mean(stack, axis=0)


def screenshot(page, folder: Path, name: str, *, full_page: bool = False) -> None:
    page.wait_for_timeout(150)  # let transitions settle so the picture shows the real state
    page.screenshot(path=str(folder / f"{name}.png"), full_page=full_page)


# WCAG 2 contrast of every visible text against the colour behind it (page colours only:
# text over photos, such as the face numbers, has its own dark backing and is not checked).
CONTRAST_JS = """() => {
    const parse = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
    const lum = ([r, g, b]) => {
        const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
        return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const over = (top, bottom) => {
        const a = top.length > 3 ? top[3] : 1;
        return [0, 1, 2].map((i) => top[i] * a + bottom[i] * (1 - a));
    };
    const background = (el) => {
        const layers = [];
        for (let node = el; node; node = node.parentElement) {
            const style = getComputedStyle(node);
            if (style.backgroundImage !== 'none' && node !== el) return null;
            const c = parse(style.backgroundColor);
            if (c.length > 3 && c[3] === 0) continue;
            layers.push(c);
            if (c.length === 3 || c[3] === 1) break;
        }
        return layers.reverse().reduce((acc, c) => over(c, acc), [255, 255, 255]);
    };
    const failures = [];
    for (const el of document.querySelectorAll('body *')) {
        const text = [...el.childNodes].filter((n) => n.nodeType === 3).map((n) => n.textContent).join('').trim();
        if (!text || !el.checkVisibility?.({ opacityProperty: true }) || el.closest('.visually-hidden, .face, :disabled')) continue;
        const style = getComputedStyle(el);
        const bg = background(el);
        if (!bg) continue;
        const fg = over(parse(style.color), bg);
        const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
        const ratio = (a + 0.05) / (b + 0.05);
        const large = parseFloat(style.fontSize) >= 24 || (parseFloat(style.fontSize) >= 18.66 && Number(style.fontWeight) >= 700);
        if (ratio < (large ? 3 : 4.5)) failures.push(`${text.slice(0, 40)}: ${ratio.toFixed(2)}`);
    }
    return failures;
}"""


def low_contrast_texts(page) -> list[str]:
    return page.evaluate(CONTRAST_JS)
