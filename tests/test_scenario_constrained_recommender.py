"""A quick run of the constrained-recommender scenario through the runner."""

import json

import numpy as np
import pytest

from mechsim.runner.run import run_scenario


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("constrained_recommender")
    return run_scenario("constrained-recommender", out, quick=True, seed=0, backend="local", workers=2)


def test_quick_run_writes_outputs(quick_run):
    out = quick_run.outdir
    for name in ("summary.md", "results.json", "config.json", "calibration.csv", "twin_frontier.csv",
                 "twin_frontier.png", "twin_training_curves.png", "twin_learner_points.csv", "twin_tscac.csv",
                 "simulator_final.csv", "simulator_training_curves.png"):
        assert (out / name).exists(), name
    summary = (out / "summary.md").read_text()
    assert "frontier" in summary and "Calibration" in summary
    payload = json.loads((out / "results.json").read_text())
    assert payload["quick"] is True


def test_frontier_is_concave_and_decreasing(quick_run):
    rec = next(r for r in quick_run.records if r["params"]["part"] == "frontier")
    res = rec["result"]
    floors = np.asarray(res["like_floor"])
    values = np.asarray(res["watch_value"], dtype=float)
    assert all(res["feasible"])
    assert np.all(np.diff(values) <= 1e-6)          # a higher floor never helps
    slopes = np.diff(values) / np.diff(floors)
    assert np.all(np.diff(slopes) <= 1e-6 * (1 + np.abs(slopes[1:])))  # concave in the floor
    assert values[0] == pytest.approx(res["watch_free"], rel=1e-9)  # below the free level the floor is slack


def test_calibration_within_ten_percent(quick_run):
    rec = next(r for r in quick_run.records if r["params"]["part"] == "calibration")
    res = rec["result"]
    for name, logged in res["logged"].items():
        assert res["simulator_random"][name] == pytest.approx(logged, rel=0.10), name


def test_tscac_points_never_above_the_exact_frontier(quick_run):
    rec = next(r for r in quick_run.records if r["params"]["part"] == "twin-learners")
    for p in rec["result"]["tscac"]:
        assert p["watch"] <= p["frontier_watch"] + 1e-6 * p["frontier_watch"]
    # Every learner point respects the LP bound whenever it meets its floor.
    for p in rec["result"]["points"]:
        if p["meets_floor"]:
            assert p["watch"] <= p["lp_watch"] * (1 + 1e-6)


def test_simulator_cells_report_every_policy(quick_run):
    finals = {r["result"]["policy"]: r["result"]["final"] for r in quick_run.records
              if r["params"]["part"] == "simulator"}
    assert set(finals) == {"random", "watch-greedy", "lagrangian", "pid-lagrangian", "tscac"}
    # The myopic oracle maximises expected watch per request among the candidates: it beats random.
    assert finals["watch-greedy"]["watch_time"] > finals["random"]["watch_time"]
    summary = (quick_run.outdir / "summary.md").read_text()
    assert "TSCAC, paper" in summary and "below the frontier" in summary


def test_simulator_floor_is_a_limit_on_missed_likes(quick_run):
    """The learners get the like floor as a limit on the non-negative missed-like cost: limit = slots - floor."""
    from mechsim.scenarios.constrained_recommender import like_slots

    cells = [r["result"] for r in quick_run.records if r["params"]["part"] == "simulator" and "floor" in r["result"]]
    assert cells
    for res in cells:
        assert res["floor"] > 0
        assert res["limit"] == pytest.approx(like_slots() - res["floor"], rel=1e-12)
        assert np.all(np.asarray(res["expected_like_rate"]) > 0)


def test_quick_run_has_the_large_twin_section(quick_run):
    rec = next(r for r in quick_run.records if r["params"]["part"] == "large-twin")
    large = rec["result"]["large"]
    assert large["n_states"] == 4 * max(rec["params"]["fatigue"]) + 1
    assert large["method"] == "lagrange"          # auto picks the Lagrangian method at this size
    assert large["meets_limit"]
    summary = (quick_run.outdir / "summary.md").read_text()
    assert "Large instance: the fine-grained twin" in summary
    assert (quick_run.outdir / "large_twin_levels.csv").exists()
    assert (quick_run.outdir / "large_twin_lp.csv").exists()


def test_large_twin_part_small_levels_agree_with_the_lp():
    """A small version of the large-twin part: the LP and the Lagrangian method agree, every certificate closes,
    and every returned policy meets the like floor under an exact evaluation of its own."""
    from mechsim.scenarios.constrained_recommender import _LARGE_COMMON, _large_twin

    params = {**_LARGE_COMMON, "fatigue": [5, 25, 400], "lp": [[5, "simplex"], [25, "simplex"]]}
    res = _large_twin(params, seed=0)
    assert [v["n_states"] for v in res["levels"]] == [21, 101, 1601]
    assert res["large"]["method"] == "lagrange"   # 1601 states, > 50 000 non-zeros: auto's choice
    for v in res["levels"]:
        assert v["meets_limit"]
        assert v["likes"] >= res["like_floor"] - 1e-8
        assert v["evaluated_value"] == pytest.approx(v["value"], rel=1e-12)
        assert v["value"] <= v["dual_bound"] + 1e-7 * abs(v["dual_bound"])
        assert abs(v["rel_gap"]) <= 1e-7
        assert v["multiplier"] > 0                 # the floor binds: a constrained problem, not a free one
    assert [p["n_fatigue"] for p in res["lp"]] == [5, 25]
    for p in res["lp"]:
        assert p["rel_diff"] <= 1e-6
    # The levels discretise one problem: their optima agree (closely: see the summary's explanation).
    assert max(v["rel_diff_to_finest"] for v in res["levels"]) <= 1e-6
