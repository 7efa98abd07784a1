// Start screen: what the quiz is, its settings (within the API's bounds and the pool's size),
// and Start.
import { h, setI18n } from "../dom.js";
import { t } from "../i18n.js";
import { showProblem } from "../problem.js";
import { storageGet, storageSet } from "../storage.js";

const OPTIONS_KEY = "idealtype.options";

function savedOptions() {
  try {
    return JSON.parse(storageGet(OPTIONS_KEY) || "{}") || {};
  } catch {
    return {};
  }
}

// Decorative: three faces' worth of colour overlapping into one "ideal" centre.
const ILLUSTRATION = `<svg viewBox="0 0 240 200" width="240" height="200" aria-hidden="true" focusable="false">
  <g fill-opacity="0.7" style="isolation: isolate">
    <circle cx="88" cy="80" r="58" fill="#f48fb1" style="mix-blend-mode: multiply"/>
    <circle cx="152" cy="80" r="58" fill="#ffcc80" style="mix-blend-mode: multiply"/>
    <circle cx="120" cy="130" r="58" fill="#ce93d8" style="mix-blend-mode: multiply"/>
  </g>
  <path d="M120 118c-9-12-27-6-25 8 2 12 25 24 25 24s23-12 25-24c2-14-16-20-25-8z" fill="#c2185b" transform="translate(0 -22)"/>
</svg>`;

function illustration() {
  const box = h("div", { class: "intro-art" });
  box.innerHTML = ILLUSTRATION; // a constant, never user data
  return box;
}

const clamp = (value, min, max) => Math.min(max, Math.max(min, value));

/** Pool choices flattened into one list: Everyone, then every tag value. */
function poolOptions(pools) {
  const options = [{ value: "", i18n: ["start.poolAll"] }];
  for (const { tag, values } of pools) {
    for (const value of values) {
      const known = t(`pool.${tag}.${value}`, {}, "") !== "";
      options.push({
        value: JSON.stringify({ [tag]: value }),
        i18n: known ? [`pool.${tag}.${value}`] : ["pool.other", { value }],
      });
    }
  }
  return options;
}

function radioGroup(name, legendKey, options, checkedValue, pillsClass = "pills") {
  return h(
    "fieldset",
    { class: "field" },
    h("legend", { i18n: [legendKey] }),
    h(
      "div",
      { class: pillsClass },
      options.map((option) =>
        h(
          "label",
          { class: "pill" },
          h("input", {
            type: "radio",
            name,
            value: String(option.value),
            checked: String(option.value) === String(checkedValue),
          }),
          option.i18n ? h("span", { i18n: option.i18n }) : h("span", {}, String(option.value)),
        ),
      ),
    ),
  );
}

/**
 * app: {config, resumable: {id, round, rounds} | null, startQuiz(options), resume(id)}
 */
export function startScreen(app) {
  const { config } = app;
  const saved = savedOptions();
  const pools = poolOptions(config.pools);
  const choiceOptions = [];
  for (let n = config.choices.min; n <= config.choices.max; n += 1) choiceOptions.push({ value: n });

  const roundsOutput = h("output", { for: "rounds", class: "field-value" });
  const roundsInput = h("input", {
    type: "range",
    id: "rounds",
    name: "rounds",
    min: String(config.rounds.min),
    step: "1",
    oninput: () => setI18n(roundsOutput, "start.roundsValue", { m: roundsInput.value }),
  });
  const problemSlot = h("div", { class: "problem-slot" });
  const startButton = h("button", { type: "submit", class: "button button-primary button-big", i18n: ["start.go"] });
  const form = h(
    "form",
    { class: "card settings", "aria-labelledby": "settings-heading" },
    h("h2", { id: "settings-heading", i18n: ["start.settings"] }),
    radioGroup("choices", "start.choices", choiceOptions, clamp(Number(saved.choices) || config.choices.default, config.choices.min, config.choices.max), "pills pills-numbers"),
    h(
      "div",
      { class: "field" },
      h("div", { class: "field-row" }, h("label", { for: "rounds", i18n: ["start.rounds"] }), roundsOutput),
      roundsInput,
    ),
    pools.length > 1
      ? radioGroup("pool", "start.pool", pools, pools.some((p) => p.value === saved.pool) ? saved.pool : "")
      : null,
    problemSlot,
    startButton,
  );

  const selected = (name) => form.querySelector(`input[name="${name}"]:checked`)?.value ?? "";
  const selectedPool = () => (selected("pool") ? JSON.parse(selected("pool")) : null);

  // Keep N and M within what the chosen pool can show without repeating a person.
  function fitToPool(preferredRounds) {
    const capacity = config.capacity(selectedPool());
    const maxRoundsFor = (n) => Math.min(config.rounds.max, Math.floor(capacity / n));
    const choiceInputs = [...form.querySelectorAll('input[name="choices"]')];
    for (const input of choiceInputs) input.disabled = maxRoundsFor(Number(input.value)) < config.rounds.min;
    const checked = choiceInputs.find((input) => input.checked);
    if (!checked || checked.disabled) {
      const fallback = choiceInputs.filter((input) => !input.disabled).pop();
      if (fallback) fallback.checked = true;
    }
    const maxRounds = Math.max(config.rounds.min, maxRoundsFor(Number(selected("choices"))));
    roundsInput.max = String(maxRounds);
    roundsInput.value = String(clamp(preferredRounds ?? Number(roundsInput.value), config.rounds.min, maxRounds));
    setI18n(roundsOutput, "start.roundsValue", { m: roundsInput.value });
  }
  form.addEventListener("change", (event) => {
    if (event.target.name === "choices" || event.target.name === "pool") fitToPool();
  });
  fitToPool(Number(saved.rounds) || config.rounds.default);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (startButton.disabled) return; // no double start
    const options = { choices: Number(selected("choices")), rounds: Number(roundsInput.value), pool: selected("pool") };
    storageSet(OPTIONS_KEY, JSON.stringify(options));
    startButton.disabled = true;
    setI18n(startButton, "start.loading");
    problemSlot.replaceChildren();
    try {
      await app.startQuiz({ ...options, pool: selectedPool() });
    } catch (err) {
      startButton.disabled = false;
      setI18n(startButton, "start.go");
      showProblem(problemSlot, err, () => form.requestSubmit()).focusAction();
    }
  });

  const resume = app.resumable
    ? h(
        "div",
        { class: "card resume" },
        h("button", {
          type: "button",
          class: "button button-primary",
          i18n: ["start.resume", { i: app.resumable.round + 1, m: app.resumable.rounds }],
          onclick: () => app.resume(app.resumable.id),
        }),
      )
    : null;

  return {
    element: h(
      "section",
      { class: "screen start" },
      h(
        "div",
        { class: "intro" },
        h("h1", { tabindex: "-1", i18n: ["start.heading"] }),
        h("p", { class: "lead", i18n: ["start.lead"] }),
        h(
          "ol",
          { class: "steps" },
          h("li", { i18n: ["start.step1"] }),
          h("li", { i18n: ["start.step2"] }),
          h("li", { i18n: ["start.step3"] }),
        ),
        illustration(),
      ),
      resume,
      form,
    ),
  };
}
