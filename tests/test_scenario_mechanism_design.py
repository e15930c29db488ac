"""The mechanism-design scenario runs (quick) and its numbers agree with the closed forms it reports."""

import json

from mechsim.runner.run import load_scenario, run_scenario
from mechsim.scenarios import mechanism_design


def test_quick_run_matches_the_closed_forms(tmp_path):
    assert load_scenario("mechanism-design") is mechanism_design.SCENARIO
    res = run_scenario("mechanism-design", tmp_path, quick=True, workers=1)
    for rec in res.records:
        r = rec["result"]
        if rec["params"]["part"] == "hiring-budget":
            assert r["values"][0] == r["unconstrained"] or abs(r["values"][0] - r["unconstrained"]) < 1e-9
            assert all(a >= b - 1e-12 for a, b in zip(r["values"], r["values"][1:]))
            continue
        if rec["params"]["part"] == "auction":
            assert abs(r["lp_bayesian"] - r["myerson"]) < 1e-7 and abs(r["lp_dominant"] - r["myerson"]) < 1e-7
            assert r["second_price_reserve"] <= r["myerson"] + 1e-9
        else:
            assert abs(r["optimal"] - r["evaluated"]) < 1e-7
            assert r["optimal"] >= max(r["no_information"], r["full_information"]) - 1e-9
            if r["concavified"] is not None:
                assert abs(r["optimal"] - r["concavified"]) < 1e-7
    summary = (tmp_path / "summary.md").read_text()
    assert "## Auctions" in summary and "## Persuasion" in summary and "auction_revenue.png" in summary
    tables = json.loads((tmp_path / "results.json").read_text())["tables"]
    assert {"auctions", "persuasion", "hiring_budget"} <= set(tables)
