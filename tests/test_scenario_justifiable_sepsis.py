"""Quick run of the justifiable-sepsis scenario through the runner."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mechsim.runner.run import run_scenario


@pytest.mark.slow
def test_quick_run(tmp_path):
    res = run_scenario("justifiable-sepsis", tmp_path, quick=True, seed=0)
    assert len(res.records) == 1
    out = res.records[0]["result"]
    rows = out["rows"]
    assert {(r["feedback"], r["lam"]) for r in rows} == {(f, lam) for f in ("debate", "ideal")
                                                          for lam in (0.0, 0.25, 0.5, 0.75, 1.0)}
    by = {(r["feedback"], r["lam"]): r for r in rows}
    # lam = 0 ignores the judge: both feedbacks give the same policy, the near-optimal one for gamma = 0.99
    assert by[("debate", 0.0)]["exact_return"] == by[("ideal", 0.0)]["exact_return"]
    assert by[("debate", 0.0)]["exact_return"] <= out["optimal_exact"] + 1e-12
    assert by[("debate", 0.0)]["exact_return"] > out["clinician_exact"]
    for r in rows:
        assert 0.0 <= r["exact_return"] <= out["optimal_exact"] + 1e-12
        assert 0.0 <= r["preference_debate"] <= 1.0 and 0.0 <= r["disagreement"] <= 1.0
    # more weight on the debate reward never lowers the debate preference much and costs return
    assert by[("debate", 1.0)]["preference_debate"] > by[("debate", 0.0)]["preference_debate"]
    assert by[("debate", 1.0)]["exact_return"] < by[("debate", 0.0)]["exact_return"]
    assert out["clinician_exact"] == pytest.approx(0.7818, abs=1e-3)
    for name in ("summary.md", "lam_sweep.csv", "paper_vs_ours.csv", "lam_sweep.png", "config.json"):
        assert (tmp_path / name).is_file()
    summary = (tmp_path / "summary.md").read_text()
    assert "0.742" in summary and "preference" in summary  # the paper's table sits beside ours
    results = json.loads((tmp_path / "results.json").read_text())
    assert np.isfinite(results["records"][0]["result"]["clinician_wis"])
    assert results["records"][0]["result"]["robustness"], "robustness rows missing"
    # The evidence sweep: an exact and a learned table at L = 2 (quick), cross-checked on the same judge.
    sweep = out["evidence_sweep"]
    assert {(r["table"], r["n_evidence"], r["lam"]) for r in sweep} == {(t, 2, lam) for t in ("exact", "learned")
                                                                          for lam in (0.0, 0.25, 0.5, 0.75, 1.0)}
    by_table = {(r["table"], r["lam"]): r for r in sweep}
    # lam = 0 ignores the debate: every table gives the main sweep's lam = 0 policy
    for t in ("exact", "learned"):
        assert by_table[(t, 0.0)]["exact_return"] == pytest.approx(by[("debate", 0.0)]["exact_return"], abs=1e-12)
        assert 0.0 <= by_table[(t, 1.0)]["preference"] <= 1.0
    check = out["crosscheck"]
    assert check["n_evidence"] == 2 and check["method"] == "exact"
    assert 0.5 < check["same_winner"] <= 1.0 and 0.0 <= check["mean_abs_win_difference"] < 0.5
    for row in check["per_lam"]:
        # the cross-check's tables are the sweep's (same judge and debater): same policies, same numbers
        assert row["exact_table_return"] == pytest.approx(by_table[("exact", row["lam"])]["exact_return"], abs=1e-12)
        assert row["learned_table_return"] == pytest.approx(by_table[("learned", row["lam"])]["exact_return"],
                                                            abs=1e-12)
        assert row["learned_table_preference_under_learned"] == pytest.approx(
            by_table[("learned", row["lam"])]["preference"], abs=1e-12)
    assert (tmp_path / "evidence_sweep.csv").is_file() and "Cross-check at L = 2" in summary
    # held-out robustness from the shipped debaters: exact per-state values, never above the minimax ceiling
    from mechsim.scenarios import sepsis_debaters as sd

    train, _ = sd.patient_split()
    rob = out["robustness"]
    assert {row["debater"] for row in rob} >= {"isolated", "self_play", "maxmin"}
    for row in rob:
        assert len(row["states"]) == 3 and np.intersect1d(row["states"], train).size == 0
        assert all(v <= m + 1e-9 for v, m in zip(row["vs_exact"], row["minimax"]))
        assert all(0 <= v <= 1 for v in row["alone"] + row["random_evidence"])
    assert (tmp_path / "robustness.csv").is_file() and "vs exact confuser" in summary
