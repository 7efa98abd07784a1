// Result screen: the ideal-face composite, the K best-matching celebrities, the faces picked,
// a shareable link to this result, and play again.
import { api } from "../api.js";
import { drawComposite } from "../composite.js";
import { h, setI18n } from "../dom.js";
import { formatPercent, t } from "../i18n.js";
import { loadImage } from "../images.js";
import { showProblem } from "../problem.js";
import { resultLink } from "../storage.js";

// The API's similarity is a percent (cosine mapped from [-1, 1] to [0, 100]).
const similarityPercent = (value) => Math.max(0, Math.min(100, Number(value) || 0));

/** A face that appears only once loaded; until then (or if it fails) a neutral placeholder. */
function faceImage(url, altKey, altVars, className) {
  const box = h("div", { class: `${className} photo is-loading` });
  const placeholder = h("span", { class: "photo-placeholder", i18n: ["result.noFace"] });
  if (!url) {
    box.classList.remove("is-loading");
    box.append(placeholder);
    return box;
  }
  loadImage(url).then(
    (img) => {
      img.dataset.i18nAttrs = JSON.stringify({ alt: [altKey, altVars] });
      img.alt = t(altKey, altVars);
      box.classList.remove("is-loading");
      box.replaceChildren(img);
    },
    () => {
      box.classList.remove("is-loading");
      box.replaceChildren(placeholder);
    },
  );
  return box;
}

function matchItem(rec, rank) {
  const percent = Math.round(similarityPercent(rec.similarity));
  const percentText = h("span", { class: "match-percent", i18n: ["result.match", { p: formatPercent(percent) }] });
  return h(
    "li",
    { class: `match${rec.picked ? " is-picked" : ""}` },
    h("span", { class: "match-rank", i18n: ["result.rank", { r: rank }] }),
    faceImage(rec.url, "result.celebAlt", { name: rec.name }, "match-photo"),
    h(
      "div",
      { class: "match-body" },
      h(
        "p",
        { class: "match-title" },
        h("span", { class: "match-name" }, rec.name),
        rec.picked ? h("span", { class: "badge", i18n: ["result.picked"] }) : null,
      ),
      h(
        "div",
        { class: "meter", "aria-hidden": "true" },
        h("span", { class: "meter-fill", style: `width: ${percent}%` }),
      ),
      percentText,
    ),
  );
}

function shareBlock(sessionId, announce) {
  const link = resultLink(sessionId);
  const status = h("p", { class: "share-status" });
  const input = h("input", {
    type: "url",
    readOnly: true,
    value: link,
    id: "share-link",
    class: "share-input",
    onfocus: (event) => event.target.select(),
  });
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(link);
      setI18n(status, "result.copied");
    } catch {
      input.focus();
      input.select();
      setI18n(status, "result.copyFailed");
    }
    announce(status.dataset.i18n);
  };
  return h(
    "section",
    { class: "card share", "aria-labelledby": "share-heading" },
    h("h2", { id: "share-heading", i18n: ["result.share"] }),
    h("label", { for: "share-link", class: "visually-hidden", i18n: ["result.shareLink"] }),
    h(
      "div",
      { class: "share-row" },
      input,
      h("button", { type: "button", class: "button", i18n: ["result.copy"], onclick: copy }),
    ),
    // Phones offer their own share sheet (messengers, social apps).
    navigator.share
      ? h("button", {
          type: "button",
          class: "button share-native",
          i18n: ["result.shareNative"],
          onclick: () => navigator.share({ title: t("app.title"), url: link }).catch(() => {}),
        })
      : null,
    status,
  );
}

/**
 * app: {playAgain(), announce(key)}; shared: true when this result is not the visitor's own quiz.
 * Returns {element, focusTarget, destroy()}.
 */
export function resultScreen(app, sessionId, { shared = false, k = 7 } = {}) {
  const heading = h("h1", { tabindex: "-1", i18n: ["result.loading"] });
  const problemSlot = h("div", { class: "problem-slot" });
  const body = h("div", { class: "result-body is-loading", "aria-busy": "true" });
  const element = h("section", { class: "screen result" }, heading, problemSlot, body);
  let alive = true;

  function skeleton() {
    body.replaceChildren(
      h("div", { class: "composite skeleton" }),
      h("ol", { class: "matches" }, Array.from({ length: k }, () => h("li", { class: "match skeleton" }))),
    );
  }

  async function load() {
    problemSlot.replaceChildren();
    skeleton();
    let result;
    try {
      result = await api.result(sessionId, k);
    } catch (err) {
      if (!alive) return;
      const gone = err.status === 404 || err.status === 409;
      body.replaceChildren();
      showProblem(
        problemSlot,
        err,
        gone ? app.playAgain : load,
        gone ? "error.newQuiz" : "error.retry",
      ).focusAction();
      return;
    }
    if (alive) render(result);
  }

  function render(result) {
    const picks = result.picks || [];
    // Rounds answered "none of these" count as played but have no pick.
    const played = result.rounds_played ?? picks.length;
    const recommendations = result.recommendations || [];
    setI18n(heading, "result.heading");
    const canvas = h("canvas", {
      class: "composite-canvas",
      width: "320",
      height: "320",
      role: "img",
      i18nAttrs: { "aria-label": ["result.compositeLabel", { n: picks.length }] },
    });
    const composite = h(
      "figure",
      { class: "composite is-loading" },
      canvas,
      h("figcaption", { i18n: ["result.compositeCaption", { n: picks.length }] }),
    );
    drawComposite(canvas, picks.map((p) => p.url)).then(
      (count) => composite.classList.toggle("is-loading", count === 0),
      () => composite.classList.remove("is-loading"),
    );

    body.classList.remove("is-loading");
    body.setAttribute("aria-busy", "false");
    body.replaceChildren(
      h(
        "div",
        { class: "result-grid" },
        h(
          "div",
          { class: "result-side" },
          shared ? h("p", { class: "shared-note", i18n: ["result.sharedNote"] }) : null,
          // The quiz may end before its last round once the strategy is sure of the type.
          result.rounds > played
            ? h("p", { class: "early-note", i18n: ["result.earlyNote", { n: played, m: result.rounds }] })
            : null,
          // Every round answered "none of these": no face to blend or list.
          picks.length ? composite : h("p", { class: "no-picks-note", i18n: ["result.noPicks"] }),
          picks.length
            ? h(
                "section",
                { class: "picks-section", "aria-labelledby": "picks-heading" },
                h("h2", { id: "picks-heading", i18n: ["result.picks"] }),
                h(
                  "ol",
                  { class: "picks" },
                  picks.map((p, i) =>
                    h("li", {}, faceImage(p.url, "result.pickAlt", { r: (p.round ?? i) + 1, name: p.name ?? "" }, "pick-photo")),
                  ),
                ),
              )
            : null,
        ),
        h(
          "section",
          { class: "matches-section", "aria-labelledby": "matches-heading" },
          h("h2", { id: "matches-heading", i18n: ["result.matches"] }),
          h("ol", { class: "matches" }, recommendations.map((rec, i) => matchItem(rec, i + 1))),
        ),
      ),
      h(
        "div",
        { class: "result-actions" },
        shareBlock(sessionId, app.announce),
        h("button", {
          type: "button",
          class: "button button-primary button-big",
          i18n: [shared ? "result.playOwn" : "result.playAgain"],
          onclick: app.playAgain,
        }),
      ),
    );
    app.announce("result.heading");
  }

  load();
  return {
    element,
    focusTarget: heading,
    destroy() {
      alive = false;
    },
  };
}
