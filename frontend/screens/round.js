// Round screen: N faces, pick one by tap/click or keys 1..N, or "none of these" (button or key
// 0) when the quiz offers it. A pick is sent once; while it is
// in flight or the next faces load, the grid ignores input. Failures show a message with retry;
// a 409 (the pick already landed, e.g. its response was lost) resyncs from the server.
import { api } from "../api.js";
import { h, setI18n } from "../dom.js";
import { fitGrid } from "../grid.js";
import { translateElement } from "../i18n.js";
import { loadImages } from "../images.js";
import { showProblem } from "../problem.js";

/**
 * app: {finished(sessionId), announce(key, vars)}; quiz: {id, rounds, choices, noneOfThese};
 * round: from the API.
 * Returns {element, destroy()}.
 */
export function roundScreen(app, quiz, firstRound) {
  let current = null; // the round on screen, once its faces have loaded
  let busy = true; // true while loading or saving: input is ignored
  let loadToken = 0;
  let stopFitting = () => {};

  const heading = h("h1", { tabindex: "-1", class: "round-title" });
  const bar = h("span", { class: "progress-bar" });
  const progress = h(
    "div",
    {
      class: "progress",
      role: "progressbar",
      "aria-valuemin": "0",
      "aria-valuemax": String(quiz.rounds),
      i18nAttrs: { "aria-label": ["round.progress"] },
    },
    bar,
  );
  const grid = h("div", { class: "face-grid", role: "group", "aria-labelledby": "round-prompt" });
  const spinner = h("div", { class: "spinner-overlay", "aria-hidden": "true" }, h("span", { class: "spinner" }));
  const area = h("div", { class: "face-area" }, h("div", { class: "face-stage" }, grid, spinner));
  const problemSlot = h("div", { class: "problem-slot" });
  const hint = h("p", { class: "hint" });
  // Saying that none of the faces appeals is an answer too: a pick forced among faces the
  // person does not like says little (bench: none_of_these in the README).
  const noneButton = quiz.noneOfThese
    ? h("button", {
        type: "button",
        class: "button none-of-these",
        "aria-keyshortcuts": "0",
        i18n: ["round.none"],
        onclick: () => pick(null),
      })
    : null;

  const element = h(
    "section",
    { class: "screen round" },
    h(
      "div",
      { class: "round-head" },
      heading,
      progress,
      h("p", { id: "round-prompt", class: "prompt", i18n: ["round.prompt"] }),
    ),
    problemSlot,
    area,
    noneButton ? h("div", { class: "round-actions" }, noneButton) : null,
    hint,
  );

  function setProgress(index) {
    setI18n(heading, "round.heading", { i: Math.min(index + 1, quiz.rounds), m: quiz.rounds });
    progress.setAttribute("aria-valuenow", String(index));
    bar.style.width = `${(100 * index) / quiz.rounds}%`;
  }

  function setBusy(value, why) {
    busy = value;
    element.classList.toggle("is-loading", value && why === "loading");
    element.classList.toggle("is-saving", value && why === "saving");
    grid.setAttribute("aria-busy", String(value));
    for (const button of grid.querySelectorAll("button")) button.setAttribute("aria-disabled", String(value));
    noneButton?.setAttribute("aria-disabled", String(value));
  }

  function skeleton(n) {
    grid.replaceChildren(...Array.from({ length: n }, () => h("div", { class: "face skeleton" })));
  }

  async function showRound(round) {
    const token = ++loadToken;
    const n = round.faces.length;
    setProgress(round.index);
    setI18n(hint, quiz.noneOfThese ? "round.hintNone" : "round.hint", { n });
    problemSlot.replaceChildren();
    noneButton?.classList.remove("is-chosen");
    setBusy(true, "loading");
    if (!current) {
      skeleton(n);
      stopFitting();
      stopFitting = fitGrid(area, grid, n, 1);
    }
    app.announce("round.loading");
    let images;
    try {
      images = await loadImages(round.faces.map((face) => face.url));
    } catch (err) {
      if (token !== loadToken) return;
      // The previous round's faces must not stay clickable: show placeholders until retried.
      current = null;
      skeleton(n);
      setBusy(true);
      showProblem(problemSlot, err, () => showRound(round)).focusAction();
      return;
    }
    if (token !== loadToken) return; // a newer round replaced this one meanwhile
    const hadFocus = element.contains(document.activeElement);
    current = round;
    grid.replaceChildren(
      ...images.map((img, k) => {
        img.dataset.i18nAttrs = JSON.stringify({ alt: ["round.faceLabel", { k: k + 1, n }] });
        translateElement(img);
        img.className = "face-img";
        img.draggable = false;
        const button = h(
          "button",
          {
            type: "button",
            class: "face",
            "aria-keyshortcuts": String(k + 1),
            onclick: () => pick(k),
          },
          img,
          h("span", { class: "face-number", "aria-hidden": "true" }, String(k + 1)),
        );
        return button;
      }),
    );
    stopFitting();
    stopFitting = fitGrid(area, grid, n, images[0].naturalHeight / images[0].naturalWidth || 1);
    setBusy(false);
    app.announce("round.heading", { i: round.index + 1, m: quiz.rounds });
    if (hadFocus) heading.focus({ preventScroll: true });
  }

  /** k: the picked face's position, or null for "none of these". */
  async function pick(k) {
    if (busy || !current) return;
    const round = current;
    const tiles = grid.querySelectorAll(".face");
    const chosen = k === null ? noneButton : tiles[k];
    chosen?.classList.add("is-chosen");
    setBusy(true, "saving");
    app.announce("round.saving");
    let response;
    try {
      response = await api.pick(quiz.id, round.index, k === null ? null : round.faces[k].image_id);
    } catch (err) {
      if (err.status === 409 || err.status === 422) {
        await resync();
        return;
      }
      chosen?.classList.remove("is-chosen");
      setBusy(false);
      showProblem(problemSlot, err, () => {
        problemSlot.replaceChildren();
        pick(k);
      }).focusAction();
      return;
    }
    problemSlot.replaceChildren();
    if (response.done) {
      setProgress(quiz.rounds);
      app.finished(quiz.id);
    } else {
      await showRound(response.round);
    }
  }

  // The server is the source of truth: after a conflict, continue from where it says we are.
  async function resync() {
    let session;
    try {
      session = await api.session(quiz.id);
    } catch (err) {
      setBusy(false);
      showProblem(problemSlot, err, resync).focusAction();
      return;
    }
    if (session.done) app.finished(quiz.id);
    else await showRound(session.round);
  }

  function onKey(event) {
    if (event.repeat || event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.target.closest?.("input, textarea, select")) return;
    if (event.key === "0" && noneButton && current) {
      event.preventDefault();
      pick(null);
      return;
    }
    const k = Number(event.key);
    if (!Number.isInteger(k) || k < 1 || !current || k > current.faces.length) return;
    event.preventDefault();
    pick(k - 1);
  }

  document.addEventListener("keydown", onKey);
  showRound(firstRound);
  return {
    element,
    focusTarget: heading,
    destroy() {
      loadToken += 1;
      stopFitting();
      document.removeEventListener("keydown", onKey);
    },
  };
}
