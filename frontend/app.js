// The quiz app: picks the screen from the address bar (?session=ID resumes a quiz, ?result=ID
// opens a result), keeps the quiz id in the URL and localStorage so a reload loses nothing.
import { api } from "./api.js";
import { readConfig } from "./config.js";
import { h, setI18n } from "./dom.js";
import { currentLanguage, detectLanguage, setLanguage, t } from "./i18n.js";
import { showProblem } from "./problem.js";
import { resultScreen } from "./screens/result.js";
import { roundScreen } from "./screens/round.js";
import { startScreen } from "./screens/start.js";
import { activeSession, rememberActiveSession, routeFromUrl, setUrl } from "./storage.js";

const main = document.getElementById("main");
const status = document.getElementById("status");
const langButton = document.getElementById("lang-toggle");
let screen = null; // {element, focusTarget, destroy?}
let config = null;

function mount(next, { focus = true } = {}) {
  screen?.destroy?.();
  screen = next;
  main.replaceChildren(next.element);
  window.scrollTo(0, 0);
  // Move focus to the new screen's heading so keyboard and screen-reader users start there.
  if (focus) (next.focusTarget || next.element.querySelector("h1"))?.focus({ preventScroll: true });
}

function announce(key, vars) {
  // Clearing first makes a repeated message be read again.
  status.textContent = "";
  requestAnimationFrame(() => setI18n(status, key, vars));
}

/** A screen that only says something went wrong and offers one action. */
function problemScreen(err, onAction, actionKey) {
  const slot = h("div", { class: "problem-slot" });
  const element = h("section", { class: "screen problem-screen" }, slot);
  const panel = showProblem(slot, err, onAction, actionKey);
  mount({ element, focusTarget: panel.querySelector("button") });
}

function loadingScreen() {
  const heading = h("h1", { tabindex: "-1", class: "visually-hidden", i18n: ["start.loading"] });
  mount({ element: h("section", { class: "screen loading" }, heading, h("span", { class: "spinner" })), focusTarget: heading }, { focus: false });
}

async function ensureConfig() {
  if (!config) config = readConfig(await api.config());
  return config;
}

async function goStart() {
  setUrl({});
  loadingScreen();
  try {
    await ensureConfig();
  } catch (err) {
    problemScreen(err, goStart);
    return;
  }
  mount(
    startScreen({
      config,
      resumable: await resumableQuiz(),
      startQuiz,
      resume,
    }),
  );
}

/** The unfinished quiz in localStorage, if the server still has it. */
async function resumableQuiz() {
  const saved = activeSession();
  if (!saved) return null;
  try {
    const session = await api.session(saved);
    if (session.done || !session.round) {
      rememberActiveSession(null);
      return null;
    }
    return { id: saved, round: session.round.index, rounds: session.rounds };
  } catch (err) {
    if (err.status === 404) rememberActiveSession(null);
    return null;
  }
}

const quizOf = (session) => ({
  id: session.session_id,
  rounds: session.rounds,
  choices: session.choices,
  noneOfThese: Boolean(session.none_of_these),
});

async function startQuiz({ choices, rounds, pool }) {
  const session = await api.createSession({ choices, rounds, pool, strategy: config.strategy });
  rememberActiveSession(session.session_id);
  setUrl({ session: session.session_id }, { push: true });
  mount(roundScreen(appForRounds, quizOf(session), session.round));
}

async function resume(sessionId) {
  setUrl({ session: sessionId });
  loadingScreen();
  let session;
  try {
    session = await api.session(sessionId);
  } catch (err) {
    if (err.status === 404) {
      if (activeSession() === sessionId) rememberActiveSession(null);
      problemScreen(err, playAgain, "error.newQuiz");
    } else {
      problemScreen(err, () => resume(sessionId));
    }
    return;
  }
  if (session.done) {
    finished(sessionId);
    return;
  }
  rememberActiveSession(sessionId);
  mount(roundScreen(appForRounds, quizOf(session), session.round));
}

const FINISHED_KEY = "idealtype.finished";

/** This tab's quiz is done: show its result (and remember it is ours, not a shared one). */
function finished(sessionId) {
  if (activeSession() === sessionId) rememberActiveSession(null);
  try {
    sessionStorage.setItem(FINISHED_KEY, sessionId);
  } catch {
    /* only decides the wording "play again" vs "find your own" */
  }
  setUrl({ result: sessionId });
  showResult(sessionId);
}

function showResult(sessionId) {
  let own = false;
  try {
    own = sessionStorage.getItem(FINISHED_KEY) === sessionId;
  } catch {
    /* treat as shared */
  }
  mount(resultScreen({ playAgain, announce }, sessionId, { shared: !own, k: config?.k ?? 7 }));
}

function playAgain() {
  setUrl({}, { push: true });
  goStart();
}

const appForRounds = { finished, announce };

function route() {
  const target = routeFromUrl();
  if (target.result) showResult(target.result);
  else if (target.session) resume(target.session);
  else goStart();
}

function updateLanguageButton() {
  const other = currentLanguage() === "ko" ? "en" : "ko";
  langButton.lang = other;
  langButton.textContent = t("lang.switch");
  langButton.setAttribute("aria-label", t("lang.switchLabel"));
  langButton.dataset.switchTo = other;
}

langButton.addEventListener("click", () => {
  setLanguage(langButton.dataset.switchTo, { remember: true });
  updateLanguageButton();
});
document.getElementById("brand").addEventListener("click", (event) => {
  event.preventDefault();
  playAgain(); // the start screen offers to continue an unfinished quiz
});
window.addEventListener("popstate", route);

setLanguage(detectLanguage());
updateLanguageButton();
route();
