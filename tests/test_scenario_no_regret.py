"""The no-regret scenario: one quick run through the runner, and its cells computed directly."""

import csv
import json

import numpy as np
import pytest

from mechsim.runner.run import load_scenario, run_scenario
from mechsim.scenarios import no_regret


def test_grid_shapes_and_cells_are_json_plain():
    quick, full = no_regret.grid(True), no_regret.grid(False)
    assert len(quick) < len(full)
    json.dumps(full)
    kinds = {c["kind"] for c in quick}
    assert kinds == {"regret", "self-play"}
    learners = {c["learner"] for c in quick if c["kind"] == "regret"}
    assert learners == {"hedge", "regret-matching", "exp3", "explore-then-commit"}
    # default horizons reach 10^6 for the per-round learners
    assert max(c["horizon"] for c in full if c.get("learner") == "exp3") >= 10**6
    assert load_scenario("no-regret") is no_regret.SCENARIO


def test_compute_cell_is_deterministic_and_within_bound():
    cell = {"kind": "regret", "learner": "exp3", "environment": "gap-bandit-5", "horizon": 2000, "replicate": 0}
    a, b = no_regret.compute(cell, 123), no_regret.compute(cell, 123)
    assert a == b
    assert 0 < a["regret"] <= a["bound"]
    assert no_regret.compute(cell, 124)["regret"] != a["regret"]
    etc = no_regret.compute({**cell, "learner": "explore-then-commit", "horizon": 10**7}, 5)
    assert etc["regret"] <= etc["bound"] and etc["exploration"] > 0


@pytest.mark.slow
def test_quick_run_through_runner(tmp_path):
    res = run_scenario("no-regret", tmp_path, quick=True, seed=0, workers=2)
    out = res.outdir
    for name in ("summary.md", "config.json", "results.json", "exponents.csv", "self_play.csv",
                 "regret_full_information.png", "regret_bandit.png", "regret_explore_then_commit.png",
                 "self_play_exploitability.png"):
        assert (out / name).exists(), name
    rows = list(csv.DictReader(open(out / "exponents.csv")))
    by = {(r["learner"], r["environment"]): r for r in rows}
    assert len(by) == len(no_regret.EXPERIMENTS)
    for row in rows:
        assert row["within_bound"] == "True", row
    for key in (("hedge", "alternating"), ("regret-matching", "alternating")):
        assert float(by[key]["max_run/bound"]) <= 1.0  # deterministic guarantees: every run
    assert abs(float(by["hedge", "alternating"]["slope"]) - 0.5) < 0.05
    assert abs(float(by["regret-matching", "alternating"]["slope"]) - 0.5) < 0.05
    # EXP3 pseudo-regret varies a lot between runs: with 3 quick runs per horizon the slope is loose
    assert 0.3 < float(by["exp3", "gap-bandit-5"]["slope"]) < 0.8
    assert 0.62 < float(by["explore-then-commit", "gap-bandit-5"]["slope"]) < 0.75
    sp = list(csv.DictReader(open(out / "self_play.csv")))
    assert all(float(r["slope"]) < -0.3 for r in sp)
    assert all(float(r["value_low"]) <= float(r["value_high"]) for r in sp)
    summary = (out / "summary.md").read_text()
    assert "Regret exponents" in summary and "slope" in summary and "self-play" in summary
    # resuming: a second run reuses every cell and reproduces the tables exactly
    again = run_scenario("no-regret", tmp_path, quick=True, seed=0, workers=1)
    assert again.computed == 0
    assert list(csv.DictReader(open(out / "exponents.csv"))) == rows
    recs = {json.dumps(r["params"], sort_keys=True): r["result"] for r in res.records}
    assert all(np.isfinite(v["regret"]) for v in recs.values() if "regret" in v)
