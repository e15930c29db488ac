"""The hiring scenario: grid shape, single cells computed directly, and one quick run through the runner."""

import csv
import json

import numpy as np
import pytest

from mechsim.hiring import audit_incentives
from mechsim.runner.run import load_scenario, run_scenario
from mechsim.scenarios import hiring


def test_grid_covers_the_four_parts_and_is_json_plain():
    quick, full = hiring.grid(True), hiring.grid(False)
    json.dumps(full)
    assert len(quick) < len(full)
    for cells in (quick, full):
        assert {c["part"] for c in cells} == {"compare", "scaling", "online", "agents"}
        assert {c["variant"] for c in cells if c["part"] == "online"} == set(hiring.VARIANTS)
    online = [c for c in full if c["part"] == "online"]
    assert min(online[0]["horizons"]) == 10**3 and max(online[0]["horizons"]) == 10**9
    compare = [c for c in full if c["part"] == "compare"]
    for corr in hiring.CORRELATIONS:
        assert sum(c["count"] for c in compare if c["correlation"] == corr) >= 200
    assert load_scenario("hiring") is hiring.SCENARIO


def test_compare_cell_is_deterministic_and_gap_is_nonnegative():
    cell = {"part": "compare", "correlation": 0.6, "first_seed": 0, "count": 3}
    a, b = hiring.compute(cell, 1), hiring.compute(cell, 2)
    assert a == b                       # instances come from the cell's own seeds
    for row in a["instances"]:
        assert row["gap"] >= -1e-7
    indep = hiring.compute({**cell, "correlation": 0.0}, 1)
    assert all(abs(row["gap"]) < 1e-6 for row in indep["instances"])


def test_agents_mechanisms_are_as_advertised():
    inst = hiring.agents_instance()
    mechs = hiring.agents_mechanisms(inst)
    good, bad = audit_incentives(inst, mechs["optimal"]), audit_incentives(inst, mechs["non-ic"])
    assert good.is_ic and good.effort_margin >= hiring.AGENTS_MARGIN - 1e-7
    assert not bad.is_ic and bad.agent == 1 and bad.deviation_effort == 0
    assert mechs["optimal"].recommendation[1, 1] == pytest.approx(1.0)


def test_online_cell():
    cell = {"part": "online", "instance": 0, "variant": "default", "replicate": 0, "horizons": [10**4, 10**6]}
    res = hiring.compute(cell, 7)
    assert res == hiring.compute(cell, 7)
    assert len(res["regret"]) == 2 and all(res["is_ic"])
    assert res["regret"][1] / 10**6 < res["regret"][0] / 10**4


@pytest.mark.slow
def test_quick_run_through_runner(tmp_path):
    res = run_scenario("hiring", tmp_path, quick=True, seed=0, workers=2)
    out = res.outdir
    for name in ("summary.md", "config.json", "results.json", "correlated_vs_uncorrelated.csv",
                 "correlated_vs_uncorrelated_summary.csv", "lp_scaling.csv", "online_regret.csv",
                 "online_regret_fits.csv", "learning_agents.csv", "value_gap.png", "online_regret.png"):
        assert (out / name).exists(), name
    summary = (out / "summary.md").read_text()
    for title in ("Correlated vs uncorrelated", "LP scaling", "Online learning", "Learning agents",
                  "Worked example"):
        assert title in summary
    fits = {(r["variant"], r["horizons"]): r for r in csv.DictReader(open(out / "online_regret_fits.csv"))}
    default = next(r for k, r in fits.items() if k[0] == "default")
    assert 0.3 < float(default["exponent"]) < 1.0
    regret = list(csv.DictReader(open(out / "online_regret.csv")))
    top = max(int(r["horizon"]) for r in regret)
    by = {r["variant"]: float(r["mean R/T / OPT"]) for r in regret if int(r["horizon"]) == top}
    assert by["default"] < by["faithful"] and by["default"] < by["plugin"]
    assert all(float(r["IC commitments (%)"]) == 100 for r in regret if r["variant"] == "default")
    comp = {float(r["correlation"]): r
            for r in csv.DictReader(open(out / "correlated_vs_uncorrelated_summary.csv"))}
    assert float(comp[0.0]["max gap"]) < 1e-6
    agents = {r["mechanism"]: r for r in csv.DictReader(open(out / "learning_agents.csv"))}
    assert float(agents["non-ic"]["predicted_deviation_share"]) > 0.5
    assert np.mean([float(agents["optimal"][f"obedient_truthful_agent_{i}"]) for i in range(2)]) > 0.5
