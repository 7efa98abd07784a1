"""Writing an evaluation: report.json (everything), report.md (tables), PNG plots."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from .grid import headline_metric
from .runner import K

MAIN = ("target", "type")  # protocols of the grid; others are sensitivity rows

# The goals for the default strategy on the LFW index, N=4, M=10.
GOALS = (
    ("target", "inf", f"hit@{K}", 0.95),
    ("target", "20", f"hit@{K}", 0.80),
    ("target", "inf", f"hit@{K}_at_2x_bound", 0.90),
    ("type", "inf", f"precision@{K}", 0.50),
    ("type", "20", f"precision@{K}", 0.38),
)


def beta_order(beta: str) -> float:
    """∞ first, then decreasing β (from decisive to noisy)."""
    return -float(beta)


def fmt(summary: dict | None) -> str:
    if not summary:
        return "–"
    return f"{summary['mean']:.3f} [{summary['ci_low']:.2f}, {summary['ci_high']:.2f}]"


def goal_check(rows: list[dict], strategy: str, choices: int = 4, rounds: int = 10) -> list[dict]:
    checks = []
    for protocol, beta, metric, goal in GOALS:
        match = [
            r for r in rows
            if r["strategy"] == strategy and r["protocol"] == protocol and r["beta"] == beta
            and r["user_model"] == "luce" and r["choices"] == choices and r["rounds"] == rounds
        ]
        value = match[0]["metrics"].get(metric) if match else None
        checks.append({
            "protocol": protocol, "beta": beta, "metric": metric, "goal": goal,
            "value": value, "met": bool(value and value["mean"] >= goal),
        })
    return checks


def grid_table(rows: list[dict], strategies: list[str]) -> list[str]:
    """One line per (N, M, β): target hit@7 and type precision@7 of every strategy."""
    by_cell: dict[tuple, dict] = defaultdict(dict)
    for r in rows:
        if r["user_model"] == "luce" and r["protocol"] in MAIN:
            by_cell[(r["choices"], r["rounds"], r["beta"])][(r["strategy"], r["protocol"])] = r
    head = ["N", "M", "β", "bound"]
    head += [f"target hit@{K}: {s}" for s in strategies]
    head += [f"hit@{K} at 2×bound: {s}" for s in strategies]
    head += [f"type precision@{K}: {s}" for s in strategies]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for (n, m, beta), cells in sorted(by_cell.items(), key=lambda kv: (kv[0][:2], beta_order(kv[0][2]))):
        any_row = next(iter(cells.values()))
        line = [str(n), str(m), "∞" if beta == "inf" else beta, str(any_row["information_bound"])]
        for s in strategies:
            r = cells.get((s, "target"))
            line.append(fmt(headline_metric(r)) if r else "–")
        for s in strategies:
            r = cells.get((s, "target"))
            line.append(fmt(r["metrics"].get(f"hit@{K}_at_2x_bound")) if r else "–")
        for s in strategies:
            r = cells.get((s, "type"))
            line.append(fmt(headline_metric(r)) if r else "–")
        lines.append("| " + " | ".join(line) + " |")
    return lines


def robustness_table(rows: list[dict], strategies: list[str]) -> list[str]:
    lines = [
        "| user model | N | M | β | protocol | " + " | ".join(strategies) + " |",
        "|" + "---|" * (5 + len(strategies)),
    ]
    keys = sorted({(r["user_model"], r["choices"], r["rounds"], r["beta"], r["protocol"])
                   for r in rows if r["user_model"] != "luce" or r["protocol"] not in MAIN},
                  key=lambda k: (k[0], k[1], k[2], beta_order(k[3]), k[4]))
    for um, n, m, beta, protocol in keys:
        cells = {r["strategy"]: r for r in rows if (r["user_model"], r["choices"], r["rounds"],
                                                    r["beta"], r["protocol"]) == (um, n, m, beta, protocol)}
        line = [um, str(n), str(m), "∞" if beta == "inf" else beta, protocol]
        line += [fmt(headline_metric(cells[s])) if s in cells else "–" for s in strategies]
        lines.append("| " + " | ".join(line) + " |")
    return lines


def rounds_table(rows: list[dict], strategies: list[str]) -> list[str]:
    """Mean rounds played per Luce cell, for runs where a strategy finished a quiz early."""
    cells: dict[tuple, dict] = defaultdict(dict)
    for r in rows:
        if r["user_model"] == "luce" and r["protocol"] in MAIN:
            cells[(r["choices"], r["rounds"], r["beta"], r["protocol"])][r["strategy"]] = r
    lines = ["| N | M | β | protocol | " + " | ".join(strategies) + " |",
             "|" + "---|" * (4 + len(strategies))]
    for (n, m, beta, protocol), mine in sorted(
            cells.items(), key=lambda kv: (kv[0][:2], beta_order(kv[0][2]), kv[0][3])):
        line = [str(n), str(m), "∞" if beta == "inf" else beta, protocol]
        line += [f"{mine[s]['mean_rounds_used']:.2f}" if s in mine else "–" for s in strategies]
        lines.append("| " + " | ".join(line) + " |")
    return lines


def cost_table(rows: list[dict], strategies: list[str]) -> list[str]:
    lines = ["| strategy | ms per round (mean) | ms per result (mean) |", "|---|---|---|"]
    for s in strategies:
        mine = [r for r in rows if r["strategy"] == s]
        if mine:
            per_round = sum(r["ms_per_round"] for r in mine) / len(mine)
            per_rank = sum(r["ms_per_rank"] for r in mine) / len(mine)
            lines.append(f"| {s} | {per_round:.2f} | {per_rank:.2f} |")
    return lines


def markdown(report: dict) -> str:
    rows, strategies = report["rows"], report["settings"]["strategies"]
    idx, st = report["index"], report["settings"]
    out = [
        "# Recommendation quality",
        "",
        (f"Index `{idx['version']}` ({idx['celebrities']} celebrities, {idx['images']} images, "
        f"model `{idx['model']}`); {st['users']} simulated users per cell, seed {st['seed']}; "
        f"95% confidence intervals in brackets (Wilson for hit rates). "
        f"Type protocol: ideal = equal blend of {st['type_people']} random people, liked set = "
        f"top 1% of the pool ({report['liked_count']} people). β = ∞ picks the most similar face."),
        "",
        f"Command: `{report['command']}`",
        "",
        f"Cells scored: {report['cells']['finished']} of {report['cells']['planned']}"
        + (" (an interrupted run: rerun the command to finish it)"
           if report["cells"]["finished"] < report["cells"]["planned"] else "") + ".",
        "",
        f"## Goals (N=4, M=10; the served default is `{st['default_strategy']}`)",
        "",
        "| protocol | β | metric | goal | " + " | ".join(strategies) + " |",
        "|---|---|---|---|" + "---|" * len(strategies),
    ]
    for i, (protocol, beta, metric, goal) in enumerate(GOALS):
        cells = []
        for s in strategies:
            c = report["goals"][s][i]
            cells.append(f"{fmt(c['value'])} {'✓' if c['met'] else '✗'}")
        out.append(f"| {protocol} | {'∞' if beta == 'inf' else beta} | {metric} | ≥ {goal:.2f} | "
                   + " | ".join(cells) + " |")
    out += ["", "## Grid (Luce user model)", "", *grid_table(rows, strategies), ""]
    if any(r["user_model"] != "luce" or r["protocol"] not in MAIN for r in rows):
        out += ["## Robustness and sensitivity", "",
                ("User models no strategy was designed for — `lapse20`: 20% of picks uniformly "
                 "random; `noisy0.5`: the person judges faces on a noisy copy of the embeddings "
                 "(cosine ≈ 0.9 with FaceNet's). Protocol `type-dirichlet`: the blend of three "
                 "people has Dirichlet(1) weights instead of equal ones (one person often "
                 "dominates; precision@7 against the same top-1% rule)."), "",
                *robustness_table(rows, strategies), ""]
    if any(r["mean_rounds_used"] < r["rounds"] for r in rows):
        out += ["## Rounds played (mean; a strategy may finish a quiz early)", "",
                *rounds_table(rows, strategies), ""]
    out += ["## Cost in this run (shared CPU; see bench/adaptive_latency.py for the bound)", "",
            *cost_table(rows, strategies), ""]
    if report.get("plots"):
        out += ["## Plots", ""] + [f"![{p}]({p})" for p in report["plots"]] + [""]
    return "\n".join(out)


def save(fig, path: Path) -> str:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path.name


def plot(report: dict, out_dir: Path) -> list[str]:
    """PNG plots: headline bars with CIs (N=4, M=10) and per-round curves. Returns file names."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows, strategies = report["rows"], report["settings"]["strategies"]
    files = []
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, protocol in zip(axes, ("target", "type")):
        cells = [r for r in rows if r["protocol"] == protocol and r["user_model"] == "luce"
                 and r["choices"] == 4 and r["rounds"] == 10]
        betas = sorted({r["beta"] for r in cells}, key=beta_order)
        width = 0.8 / max(1, len(strategies))
        for i, s in enumerate(strategies):
            vals = [next((headline_metric(r) for r in cells if r["strategy"] == s and r["beta"] == b), None) for b in betas]
            xs = [j + i * width for j in range(len(betas))]
            means = [v["mean"] if v else 0 for v in vals]
            errs = [[v["mean"] - v["ci_low"] if v else 0 for v in vals],
                    [v["ci_high"] - v["mean"] if v else 0 for v in vals]]
            ax.bar(xs, means, width, yerr=errs, capsize=3, label=s)
        ax.set_xticks([j + width * (len(strategies) - 1) / 2 for j in range(len(betas))])
        ax.set_xticklabels([f"β={'∞' if b == 'inf' else b}" for b in betas])
        ax.set_ylim(0, 1)
        ax.set_title(f"{protocol}: {'hit' if protocol == 'target' else 'precision'}@{K} (N=4, M=10)")
        ax.legend(fontsize=8)
    files.append(save(fig, out_dir / "headline.png"))
    curves = [r for r in rows if "curve" in r]
    if curves:
        fig, axes = plt.subplots(1, 2, figsize=(11, 4))
        for ax, protocol in zip(axes, ("target", "type")):
            for r in (c for c in curves if c["protocol"] == protocol):
                xs = sorted(int(x) for x in r["curve"])
                ys = [r["curve"][x]["mean"] if x in r["curve"] else r["curve"][str(x)]["mean"]
                      for x in xs]
                ax.plot(xs, ys, marker="o", ms=3, label=f"{r['strategy']} β={r['beta']}")
            if protocol == "target" and curves:
                bound = curves[0]["information_bound"]
                ax.axvline(bound, color="grey", ls=":", label="information bound")
                ax.axvline(2 * bound, color="grey", ls="--", label="2× bound")
            ax.set_xlabel("rounds")
            ax.set_ylim(0, 1)
            ax.set_title(f"{protocol} (N={curves[0]['choices']}) by round")
            ax.legend(fontsize=7)
        files.append(save(fig, out_dir / "by_round.png"))
    return files


def write_report(report: dict, out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    report["plots"] = plot(report, out_dir)
    (out_dir / "report.json").write_text(json.dumps(report, indent=1, ensure_ascii=False))
    (out_dir / "report.md").write_text(markdown(report))
