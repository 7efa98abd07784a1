"""`idealtype eval` end to end on a small facelike index: the report files exist, carry every
strategy and cell, and the adaptive strategy beats the original method on the target protocol."""

from __future__ import annotations

import json

import pytest

from idealtype.blobstore import LocalBlobStore
from idealtype.cli import main
from idealtype.evaluation.facelike_gallery import make_facelike_index


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("eval-index")
    make_facelike_index(LocalBlobStore(root), 500, seed=5)
    return root


def test_eval_writes_json_markdown_and_plots(index_dir, tmp_path, capsys):
    out = tmp_path / "report"
    code = main(["eval", str(index_dir), "--out", str(out), "--users", "16", "--choices", "4",
                 "--rounds", "4,12", "--betas", "inf,20", "--robustness", "lapse20",
                 "--extra-protocols", "type-dirichlet"])
    assert code == 0
    report = json.loads((out / "report.json").read_text())
    rows = report["rows"]
    strategies = {"random", "cluster", "adaptive"}
    assert {r["strategy"] for r in rows} == strategies
    # 2 rounds x 2 betas x 2 protocols x 3 strategies + lapse20 x 2 betas x 2 protocols x 3
    # + type-dirichlet x 2 betas x 3.
    assert len(rows) == 24 + 12 + 6
    assert {r["user_model"] for r in rows} == {"luce", "lapse20"}
    assert {r["protocol"] for r in rows} == {"target", "type", "type-dirichlet"}
    for r in rows:
        metric = r["metrics"]["hit@7" if r["protocol"] == "target" else "precision@7"]
        assert metric["n"] == 16 and metric["ci_low"] <= metric["mean"] <= metric["ci_high"]
    curve = [r for r in rows if "curve" in r]
    assert len(curve) == 6 and all(len(r["curve"]) == 12 for r in curve)

    def target_hit(strategy):
        (row,) = [r for r in rows if r["strategy"] == strategy and r["protocol"] == "target"
                  and r["beta"] == "inf" and r["rounds"] == 12 and r["user_model"] == "luce"]
        return row["metrics"]["hit@7"]["mean"]

    assert target_hit("adaptive") >= target_hit("random") + 0.4
    # adaptive ends a quiz once it has found the target; the report says how many rounds.
    used = {r["strategy"]: r["mean_rounds_used"] for r in rows if r["protocol"] == "target"
            and r["beta"] == "inf" and r["rounds"] == 12 and r["user_model"] == "luce"}
    assert used["random"] == used["cluster"] == 12 and used["adaptive"] < 12
    md = (out / "report.md").read_text()
    assert "## Rounds played" in md
    assert "| 4 | 12 | ∞ |" in md and "Robustness" in md and report["command"] in md
    for name in report["plots"]:
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "goals met" in capsys.readouterr().out
    # A second run with the same settings reuses every finished cell from the journal.
    assert len((out / "cells.jsonl").read_text().splitlines()) == len(rows)
    journal = (out / "cells.jsonl").read_text().splitlines()
    (out / "cells.jsonl").write_text("\n".join(journal[:-1]) + "\n" + journal[-1][:20])  # cut
    assert main(["eval", str(index_dir), "--out", str(out), "--users", "16", "--choices", "4",
                 "--rounds", "4,12", "--betas", "inf,20", "--robustness", "lapse20",
                 "--extra-protocols", "type-dirichlet"]) == 0
    again = json.loads((out / "report.json").read_text())["rows"]
    assert [r["metrics"] for r in again] == [r["metrics"] for r in rows]
    assert len((out / "cells.jsonl").read_text().splitlines()) == len(rows)
    # --report-only writes the report from the journal and runs nothing.
    partial = tmp_path / "partial"
    partial.mkdir()
    (partial / "cells.jsonl").write_text("\n".join(journal[:5]) + "\n")
    assert main(["eval", str(index_dir), "--out", str(partial), "--users", "16", "--choices", "4",
                 "--rounds", "4,12", "--betas", "inf,20", "--robustness", "lapse20",
                 "--extra-protocols", "type-dirichlet", "--report-only"]) == 0
    assert json.loads((partial / "report.json").read_text())["cells"] == {"planned": 42,
                                                                          "finished": 5}


def test_eval_rejects_bad_input_with_a_clear_message(index_dir, tmp_path, capsys):
    assert main(["eval", str(tmp_path / "missing"), "--users", "2"]) == 2
    assert "error:" in capsys.readouterr().err
    assert main(["eval", str(index_dir), "--users", "2", "--strategies", "nope"]) == 2
    assert "unknown strategy" in capsys.readouterr().err
    assert main(["eval", str(index_dir), "--users", "2", "--rounds", "200"]) == 2
    assert "needs" in capsys.readouterr().err


@pytest.mark.parametrize(("arguments", "message"), [
    (["--users", "0"], "argument --users: must be at least 1, not 0"),
    (["--jobs", "0"], "argument --jobs: must be at least 1, not 0"),
    (["--choices", "4,1"], "every N must be at least 2"),
    (["--rounds", "0"], "every M must be at least 1"),
    (["--betas", "20,-5"], "every β must be positive"),
    (["--betas", "nan"], "every β must be positive"),
    (["--choices", "four"], "comma-separated numbers"),
    (["--pool", "gender"], "--pool wants tag=value"),
])
def test_bad_numbers_and_filters_get_a_clear_error_before_any_work(tmp_path, capsys, arguments,
                                                                    message):
    # (Checked before the index is read: this index does not exist.)
    try:
        code = main(["eval", str(tmp_path / "no-index"), "--out", str(tmp_path / "r"), *arguments])
    except SystemExit as refused:  # argparse's own refusal (the integer options)
        code = refused.code
    assert code == 2
    err = capsys.readouterr().err
    assert "error: " in err and message in err and "Traceback" not in err
    assert not (tmp_path / "r").exists()
