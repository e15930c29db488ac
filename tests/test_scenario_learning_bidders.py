"""The learning-bidders scenario: its grid, one cell of each part computed directly, and a quick run through the
runner whose files and key numbers are checked against what must hold (not against recorded results):
revenue equivalence and the BNE bids for the full-information learners, the LP's optimal revenue equal to
Myerson's formula and at least second price's with its best reserve, the equilibrium programs' welfare ranges
equal to a loop-built scipy ``linprog`` oracle with the CE range inside the CCE one, and gaps that fall with T.
"""

from __future__ import annotations

import csv
import itertools
import json

import numpy as np
import pytest
from scipy.optimize import linprog

from mechsim.runner.run import load_scenario, run_scenario
from mechsim.runner.scenario import to_jsonable
from mechsim.scenarios import learning_bidders


def linprog_welfare(payoffs, kind, sense):
    """Loop-built min/max welfare over the CE or CCE set, with scipy's linprog (an independent oracle)."""
    u = np.asarray(payoffs, dtype=float)
    n, shape = u.shape[0], u.shape[1:]
    profiles = list(itertools.product(*(range(k) for k in shape)))
    rows = []
    for i in range(n):
        for c in (range(shape[i]) if kind == "correlated" else [None]):
            for b in range(shape[i]):
                row = []
                for a in profiles:
                    dev = list(a)
                    dev[i] = b
                    row.append(0.0 if c is not None and a[i] != c else u[i][tuple(dev)] - u[i][a])
                rows.append(row)
    w = np.array([sum(u[i][a] for i in range(n)) for a in profiles])
    res = linprog(w if sense == "min" else -w, A_ub=np.array(rows), b_ub=np.zeros(len(rows)),
                  A_eq=np.ones((1, len(profiles))), b_eq=[1.0], bounds=(0, None), method="highs")
    assert res.status == 0
    return float(w @ res.x)


def test_grid_shapes_and_cells_are_json_plain():
    quick, default, full = learning_bidders.grid(True), learning_bidders.grid(False), learning_bidders.full_grid()
    json.dumps(full)
    assert {c["part"] for c in quick} == {"bidding", "myerson", "equilibrium-lp", "dynamics"}
    bidding = [c for c in default if c["part"] == "bidding"]
    assert {c["format"] for c in bidding} == {"first", "second", "all_pay"}
    assert {c["n_bidders"] for c in bidding} == {2, 3, 5}
    assert {c["learner"] for c in bidding} == {"hedge", "exp3", "regret_matching"}
    assert {c["rounds"] for c in bidding} == {100_000}
    assert max(c["rounds"] for c in quick if c["part"] == "bidding") < 10_000
    assert {c["learner"] for c in default if c["part"] == "dynamics"} == {"hedge", "regret_matching", "swap_hedge"}
    assert len(quick) <= len(default) <= len(full)
    assert load_scenario("learning-bidders") is learning_bidders.SCENARIO


def test_cells_are_deterministic_and_sane():
    cell = {"part": "bidding", "format": "first", "reserve": 0.0, "n_bidders": 2, "learner": "hedge",
            "rounds": 3000, "n_bids": 21, "n_value_bins": 10, "replicate": 0}
    a, b = (to_jsonable(learning_bidders.compute(cell, 5)) for _ in range(2))
    assert a == b
    assert learning_bidders.compute(cell, 6)["final_revenue"] != a["final_revenue"]
    np.testing.assert_allclose(a["equilibrium_bid"], np.asarray(a["context_values"]) / 2)
    assert 1000 in a["checkpoints"] and a["checkpoints"][-1] == 3000
    m = learning_bidders.compute({"part": "myerson", "n_bidders": 2, "n_values": 4}, 0)
    assert m["lp_values"] == 4 and m["lp"] == pytest.approx(m["lp_formula"], abs=1e-7)
    assert m["lp"] >= m["second_price_best_reserve"] - 1e-9
    for game in ("chicken", "random-2x2x2"):
        lp = learning_bidders.compute({"part": "equilibrium-lp", "game": game}, 0)
        for kind in ("coarse", "correlated"):
            for sense in ("min", "max"):
                oracle = linprog_welfare(learning_bidders.GAMES[game], kind, sense)
                assert lp[f"{kind}_{sense}"] == pytest.approx(oracle, abs=1e-6), (game, kind, sense)
        assert lp["coarse_min"] <= lp["correlated_min"] + 1e-9 and lp["correlated_max"] <= lp["coarse_max"] + 1e-9
    # chicken: the best CE (Aumann) has welfare 10.5 in these units
    assert learning_bidders.compute({"part": "equilibrium-lp", "game": "chicken"}, 0)["correlated_max"] == \
        pytest.approx(10.5, abs=1e-6)


@pytest.mark.slow
def test_quick_run_through_runner(tmp_path):
    res = run_scenario("learning-bidders", tmp_path, quick=True, seed=0, workers=2)
    out = res.outdir
    for name in ("summary.md", "config.json", "results.json", "bidding.csv", "myerson.csv", "equilibrium_gaps.csv",
                 "equilibrium_welfare_lp.csv", "distance_to_bne.png", "bid_functions.png", "revenue.png",
                 "equilibrium_gaps.png", "equilibrium_welfare.png"):
        assert (out / name).exists(), name
    rows = list(csv.DictReader(open(out / "bidding.csv")))
    assert len(rows) == len(learning_bidders.AUCTIONS) * 3 * 3
    for row in rows:
        distance, revenue, bne = float(row["distance"]), float(row["revenue"]), float(row["bne_revenue"])
        assert 0 <= distance < 0.5 and revenue > 0
        assert float(row["welfare"]) <= float(row["efficient_welfare"]) + 0.02
        if row["learner"] != "exp3":
            # full information learns fast: within two grid steps of the BNE bids, revenue near the BNE revenue
            assert distance < 0.1, row
            assert abs(revenue - bne) < 0.06, row
        if row["reserve"] == "0.0":
            n = int(row["bidders"])
            assert bne == pytest.approx((n - 1) / (n + 1))
    myerson = list(csv.DictReader(open(out / "myerson.csv")))
    assert [int(r["bidders"]) for r in myerson] == [2, 3, 5]
    for r in myerson:
        n = int(r["bidders"])
        assert float(r["lp"]) == pytest.approx(float(r["lp_formula"]), abs=1e-7)
        assert float(r["lp"]) >= float(r["second_price_best_reserve"]) - 1e-9
        assert int(r["lp_values"]) ** n <= learning_bidders.LP_PROFILES
    lp = list(csv.DictReader(open(out / "equilibrium_welfare_lp.csv")))
    assert len(lp) == len(learning_bidders.GAMES)
    for r in lp:
        lo_cce, hi_cce, lo_ce, hi_ce = (float(r[k]) for k in ("coarse_min", "coarse_max", "correlated_min",
                                                               "correlated_max"))
        assert lo_cce <= lo_ce + 1e-9 <= hi_ce + 2e-9 <= hi_cce + 3e-9
    gaps = list(csv.DictReader(open(out / "equilibrium_gaps.csv")))
    assert len(gaps) == len(learning_bidders.GAMES) * 3
    for r in gaps:
        assert float(r["gap_at_T_max"]) >= 0
        assert float(r["outside_range"]) < 0.05, r
        if r["slope"]:
            assert float(r["slope"]) < 0, r
    summary = (out / "summary.md").read_text()
    for text in ("## Learning bidders", "## Equilibrium convergence", "Myerson", "revenue equivalence", "slope",
                 "bid_functions.png"):
        assert text.lower() in summary.lower(), text
