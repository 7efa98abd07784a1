// A clear message with a way forward, for network/API/image failures. role="alert" makes
// screen readers announce it; the action button gets focus so keyboard users can act at once.
import { h } from "./dom.js";

/** The message key that explains `err` (an ApiError or any Error) to a person. */
function messageKeyFor(err) {
  if (err?.isNetwork) return "error.network";
  if (err?.status === 404) return "error.gone";
  if (err?.status === 409) return "error.notDone";
  if (err?.status >= 500) return "error.server";
  if (err?.status) return "error.request";
  return "error.images";
}

/**
 * problemPanel({messageKey, detail, actionKey = "error.retry", onAction})
 * `detail` is the server's own (English) message, shown small for support requests.
 */
function problemPanel({ messageKey, detail, actionKey = "error.retry", onAction }) {
  const button = h("button", { type: "button", class: "button", i18n: [actionKey], onclick: onAction });
  const panel = h(
    "div",
    { class: "problem", role: "alert" },
    h("p", { class: "problem-message", i18n: [messageKey] }),
    detail ? h("p", { class: "problem-detail" }, detail) : null,
    onAction ? button : null,
  );
  panel.focusAction = () => button.focus();
  return panel;
}

/** Shows a panel for `err` inside `slot`, replacing any earlier one; returns the panel. */
export function showProblem(slot, err, onAction, actionKey) {
  const panel = problemPanel({
    messageKey: messageKeyFor(err),
    detail: err?.status && err.status < 500 ? err.message : undefined,
    actionKey,
    onAction,
  });
  slot.replaceChildren(panel);
  return panel;
}
